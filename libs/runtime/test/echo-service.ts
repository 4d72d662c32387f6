// A tiny Connect service for tests, described at run time (no codegen): Echo (unary, StringValue)
// and Count (server streaming, Int32Value), built on the well-known wrapper messages.
import { create, createFileRegistry } from '@bufbuild/protobuf';
import type { GenService } from '@bufbuild/protobuf/codegenv2';
import { FileDescriptorProtoSchema, file_google_protobuf_wrappers, type Int32ValueSchema, type StringValueSchema } from '@bufbuild/protobuf/wkt';

const file = create(FileDescriptorProtoSchema, {
  name: 'partq/test/echo.proto',
  package: 'partq.test',
  syntax: 'proto3',
  dependency: ['google/protobuf/wrappers.proto'],
  service: [
    {
      name: 'EchoService',
      method: [
        { name: 'Echo', inputType: '.google.protobuf.StringValue', outputType: '.google.protobuf.StringValue' },
        { name: 'Count', inputType: '.google.protobuf.Int32Value', outputType: '.google.protobuf.Int32Value', serverStreaming: true },
      ],
    },
  ],
});

const registry = createFileRegistry(file, (name) => (name === 'google/protobuf/wrappers.proto' ? file_google_protobuf_wrappers : undefined));
const service = registry.getService('partq.test.EchoService');
if (!service) throw new Error('partq.test.EchoService did not resolve');

export const EchoService = service as GenService<{
  echo: { methodKind: 'unary'; input: typeof StringValueSchema; output: typeof StringValueSchema };
  count: { methodKind: 'server_streaming'; input: typeof Int32ValueSchema; output: typeof Int32ValueSchema };
}>;
