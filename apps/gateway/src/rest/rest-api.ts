import type { FastifyPluginAsync, FastifySchemaValidationError } from 'fastify';
import { PartqError } from '@partq/runtime';
import { adminRoutes } from './admin.js';
import { consumerRoutes } from './consumer.js';
import type { RestOptions } from './rest-options.js';
import { failureBody, toFailure } from './envelope.js';
import { healthRoutes } from './health.js';
import { producerRoutes } from './producer.js';
import { sizeRoutes } from './size.js';
import { coercibleBodyTypeError } from './strict-json-types.js';
import { topicRoutes } from './topics.js';

/**
 * The REST API: one plugin per resource, sharing one failure envelope. Every error a route or
 * Fastify raises for it (bad JSON, schema violations, oversize bodies, unknown routes) is answered
 * as {"status":"failure","code","message"} with the code's HTTP status.
 */
export const restApi: FastifyPluginAsync<RestOptions> = async (app, options) => {
  app.setSchemaErrorFormatter(formatSchemaErrors);
  // Bodies are JSON only: without this, Fastify's own text/plain parser hands a string to the
  // schema, which answers 400 "body must be an object" where every other type gets 415.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(async (error, request, reply) => {
    const { httpStatus, body, unexpected } = toFailure(error);
    if (unexpected) request.log.error({ err: error, url: request.url }, 'request failed');
    return reply.status(httpStatus).send(body);
  });
  app.setNotFoundHandler(async (request, reply) => {
    const error = new PartqError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
    return reply.status(404).send(failureBody(error));
  });
  // Callback hooks, not async ones: they run on every request, and a promise each costs more than the check.
  app.addHook('onRequest', (_request, _reply, done) => {
    if (options.gate.ready) done();
    else options.gate.pass().then(() => done(), done);
  });
  app.addHook('preValidation', (request, _reply, done) => done(coercibleBodyTypeError(request)));

  await app.register(topicRoutes, options);
  await app.register(producerRoutes, options);
  await app.register(consumerRoutes, options);
  await app.register(sizeRoutes, options);
  await app.register(healthRoutes, options);
  await app.register(adminRoutes, options);
};

/**
 * "body/partitions must be >= 1": the first violation, named by where it is. When alternatives all
 * failed (a batch item that is neither a string nor a message object), a missing or unknown field
 * says more than "must be string".
 */
function formatSchemaErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const first = errors.find((error) => error.keyword === 'required') ?? errors.find((error) => error.keyword === 'additionalProperties') ?? errors[0];
  if (!first) return new Error(`${dataVar} is invalid`);
  const unknown = (first.params as { additionalProperty?: string }).additionalProperty;
  if (first.keyword === 'additionalProperties' && unknown !== undefined) {
    return new Error(`${dataVar}${first.instancePath} has an unknown field ${JSON.stringify(unknown)}`);
  }
  const allowed = (first.params as { allowedValues?: unknown[] }).allowedValues;
  const suffix = allowed ? ` (${allowed.map((v) => JSON.stringify(v)).join(', ')})` : '';
  return new Error(`${dataVar}${first.instancePath} ${first.message ?? 'is invalid'}${suffix}`);
}
