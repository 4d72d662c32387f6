import type { FastifyPluginAsync } from 'fastify';
import { Acks } from '@partq/proto';
import { PartqError } from '@partq/runtime';
import type { OutgoingMessage, ProducedMessage } from '../produce/outgoing-message.js';
import type { RestOptions } from './rest-options.js';
import { success } from './envelope.js';
import { bytesOfText, type TextEncoding } from './payload-text.js';
import {
  arrayOf,
  encodingSchema,
  idSchema,
  integerField,
  knownFieldsOnly,
  objectSchema,
  partitionIdSchema,
  successBody,
  successSchema,
  topicNameSchema,
} from './schemas.js';

interface RegisterBody {
  topic: string;
  partition_id?: number;
}

interface MessageFields {
  message?: string;
  partition_id?: number;
  key?: string;
  sequence?: number;
  previous_sequence?: number;
  encoding?: TextEncoding;
}

interface ProduceBody extends MessageFields {
  topic: string;
  producer_id: number;
  messages?: (MessageFields | string)[];
  acks?: 'broker' | 'all';
}

const messageFieldsSchema = {
  message: { type: 'string' },
  partition_id: partitionIdSchema,
  key: { type: 'string' },
  sequence: { type: 'integer', minimum: 0 },
  previous_sequence: { type: 'integer', minimum: 0 },
  encoding: encodingSchema,
} as const;

const registeredAnswer = successSchema('The new producer', { producer_id: integerField });

const placementFields = {
  partition_id: integerField,
  offset: integerField,
  duplicate: { type: 'boolean', const: true, description: 'Present when the message was a retry that had already landed' },
} as const;

const producedAnswer = {
  description: 'Where each message landed',
  anyOf: [
    { title: 'One message', ...successBody(placementFields, ['duplicate']) },
    { title: 'A batch', ...successBody({ results: arrayOf(objectSchema(placementFields, ['duplicate'])) }) },
  ],
} as const;

const ACKS: Record<NonNullable<ProduceBody['acks']>, Acks> = { broker: Acks.BROKER, all: Acks.ALL };

/** POST /producer/register, POST /producer/produce (one message or a batch). */
export const producerRoutes: FastifyPluginAsync<RestOptions> = async (app, { services, bodyLimit, batchBodyLimit }) => {
  app.post<{ Body: RegisterBody }>(
    '/producer/register',
    {
      bodyLimit,
      schema: {
        body: knownFieldsOnly({ type: 'object', required: ['topic'], properties: { topic: topicNameSchema, partition_id: partitionIdSchema } }),
        response: { 200: registeredAnswer },
      },
    },
    async (request) => {
      const { producer } = await services.registrations.registerProducer(request.body.topic, request.body.partition_id);
      return success({ producer_id: producer.id });
    },
  );

  app.post<{ Body: ProduceBody }>(
    '/producer/produce',
    {
      bodyLimit: batchBodyLimit,
      schema: {
        body: knownFieldsOnly({
          type: 'object',
          required: ['topic', 'producer_id'],
          properties: {
            topic: topicNameSchema,
            producer_id: idSchema,
            ...messageFieldsSchema,
            messages: {
              type: 'array',
              items: {
                anyOf: [{ type: 'string' }, knownFieldsOnly({ type: 'object', required: ['message'], properties: messageFieldsSchema })],
              },
            },
            acks: { type: 'string', enum: ['broker', 'all'] },
          },
        }),
        response: { 200: producedAnswer },
      },
    },
    async (request) => {
      const body = request.body;
      const batch = body.messages !== undefined;
      if (batch && body.message !== undefined) {
        throw new PartqError('INVALID_ARGUMENT', 'give either "message" or "messages", not both');
      }
      if (!batch && body.message === undefined) throw new PartqError('INVALID_ARGUMENT', 'body must have required property \'message\'');

      const messages = batch ? body.messages!.map((item, i) => toOutgoing(item, body, `messages/${i}`)) : [toOutgoing(body, body, 'message')];
      const results = await services.producer.produce({
        topic: body.topic,
        producerId: body.producer_id,
        messages,
        acks: body.acks === undefined ? undefined : ACKS[body.acks],
      });
      if (batch) return success({ results: results.map(placement) });
      return success(placement(results[0]!));
    },
  );
};

/** A batch item inherits the request's partition_id and encoding unless it names its own. */
function toOutgoing(item: MessageFields | string, request: ProduceBody, path: string): OutgoingMessage {
  const fields: MessageFields = typeof item === 'string' ? { message: item } : item;
  const encoding = fields.encoding ?? request.encoding ?? 'utf8';
  const partitionId = fields.partition_id ?? request.partition_id;
  const message: OutgoingMessage = { payload: bytesOfText(fields.message!, encoding, path) };
  if (fields.key !== undefined) message.key = bytesOfText(fields.key, encoding, `${path} key`);
  if (partitionId !== undefined) message.partitionId = partitionId;
  if (fields.sequence !== undefined) message.sequence = sequenceOf(fields.sequence, 'sequence', path);
  if (fields.previous_sequence !== undefined) {
    if (fields.sequence === undefined) throw new PartqError('INVALID_ARGUMENT', `${path}: previous_sequence needs a sequence`);
    message.previousSequence = sequenceOf(fields.previous_sequence, 'previous_sequence', path);
  }
  return message;
}

function sequenceOf(value: number, field: string, path: string): bigint {
  // Past 2^53 a JSON number has already lost digits, so the sequence would not be the one sent.
  if (!Number.isSafeInteger(value)) throw new PartqError('INVALID_ARGUMENT', `${path}: ${field} must be below 2^53`);
  return BigInt(value);
}

function placement(result: ProducedMessage): { partition_id: number; offset: number; duplicate?: true } {
  const answer: { partition_id: number; offset: number; duplicate?: true } = { partition_id: result.partitionId, offset: Number(result.offset) };
  if (result.duplicate) answer.duplicate = true;
  return answer;
}
