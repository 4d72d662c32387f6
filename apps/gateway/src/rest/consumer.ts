import type { FastifyPluginAsync } from 'fastify';
import type { ConsumedMessage } from '@partq/proto';
import { PartqError } from '@partq/runtime';
import { MAX_MESSAGES_PER_DEQUEUE } from '../consume/consumer-reads.js';
import type { RestOptions } from './rest-options.js';
import { failureBody, success } from './envelope.js';
import { textOfBytes, type TextEncoding } from './payload-text.js';
import {
  arrayOf,
  encodingSchema,
  idSchema,
  integerField,
  knownFieldsOnly,
  objectSchema,
  partitionIdSchema,
  requestIdSchema,
  stringField,
  successBody,
  successSchema,
  topicNameSchema,
} from './schemas.js';

interface RegisterBody {
  topic: string;
  partition_id?: number;
  from?: 'latest' | 'earliest';
}

interface ConsumeQuery {
  topic: string;
  consumer_id: number;
  partition_id?: number;
  encoding?: TextEncoding;
  request_id?: string;
  max_messages?: number;
}

const registeredAnswer = successSchema('The new consumer', { consumer_id: integerField });

const messageFields = {
  message: { type: 'string', description: 'The payload: UTF-8 text, or base64 when `encoding` says so' },
  key: { type: 'string', description: 'Present when the message has a key; in the same encoding as `message`' },
  partition_id: integerField,
  offset: integerField,
  encoding: { type: 'string', const: 'base64', description: 'Present when `message` (and `key`) are base64' },
} as const;

const consumedAnswer = {
  description: 'The next message, or EMPTY when nothing is pending; with `max_messages`, the next messages (none when nothing is pending)',
  anyOf: [
    { title: 'A message', ...successBody(messageFields, ['key', 'encoding']) },
    { title: 'A batch (max_messages)', ...successBody({ messages: arrayOf(objectSchema(messageFields, ['key', 'encoding'])) }) },
    {
      title: 'Nothing pending',
      ...objectSchema({ status: { type: 'string', const: 'failure' }, code: { type: 'string', const: 'EMPTY' }, message: stringField }),
    },
  ],
} as const;

/** POST /consumer/register, GET /consumer/consume. */
export const consumerRoutes: FastifyPluginAsync<RestOptions> = async (app, { services, bodyLimit }) => {
  app.post<{ Body: RegisterBody }>(
    '/consumer/register',
    {
      bodyLimit,
      schema: {
        body: knownFieldsOnly({
          type: 'object',
          required: ['topic'],
          properties: { topic: topicNameSchema, partition_id: partitionIdSchema, from: { type: 'string', enum: ['latest', 'earliest'] } },
        }),
        response: { 200: registeredAnswer },
      },
    },
    async (request) => {
      const { topic, partition_id: partitionId, from } = request.body;
      const { consumer } = await services.registrations.registerConsumer(topic, partitionId, from === 'earliest');
      return success({ consumer_id: consumer.id });
    },
  );

  app.get<{ Querystring: ConsumeQuery }>(
    '/consumer/consume',
    {
      schema: {
        querystring: knownFieldsOnly({
          type: 'object',
          required: ['topic', 'consumer_id'],
          properties: {
            topic: topicNameSchema,
            consumer_id: idSchema,
            partition_id: partitionIdSchema,
            encoding: encodingSchema,
            request_id: requestIdSchema,
            max_messages: { type: 'integer', minimum: 1, maximum: MAX_MESSAGES_PER_DEQUEUE },
          },
        }),
        response: { 200: consumedAnswer },
      },
    },
    async (request) => {
      const { topic, consumer_id: consumerId, partition_id: partitionId, encoding, request_id: requestId, max_messages: maxMessages } = request.query;
      const messages = await services.reads.consume({ topic, consumerId, partitionId, maxMessages: maxMessages ?? 1, requestId });
      // The batch form answers a list, empty when nothing is pending.
      if (maxMessages !== undefined) return success({ messages: messages.map((message) => messageAnswer(message, encoding)) });
      // "Nothing yet" is a normal answer (HTTP 200), in the failure envelope the course spec uses.
      if (messages.length === 0) return failureBody(new PartqError('EMPTY', 'no new messages'));
      return success(messageAnswer(messages[0]!, encoding));
    },
  );
};

/** A consumed message as JSON: UTF-8 text unless asked for base64 or not valid UTF-8. */
function messageAnswer(message: ConsumedMessage, encoding: TextEncoding | undefined): Record<string, unknown> {
  const rawKey = message.key !== undefined && message.key.byteLength > 0 ? message.key : undefined;
  let payload = textOfBytes(message.payload, encoding);
  let key = rawKey && textOfBytes(rawKey, payload.encoding);
  // Message and key share one encoding, so a key that is not UTF-8 turns both to base64.
  if (rawKey && key && key.encoding !== payload.encoding) {
    payload = textOfBytes(message.payload, 'base64');
    key = textOfBytes(rawKey, 'base64');
  }
  const answer: Record<string, unknown> = { message: payload.text, partition_id: message.partitionId, offset: Number(message.offset) };
  if (key) answer.key = key.text;
  if (payload.encoding === 'base64') answer.encoding = 'base64';
  return answer;
}
