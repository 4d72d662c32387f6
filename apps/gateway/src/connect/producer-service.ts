import type { ServiceImpl } from '@connectrpc/connect';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { decodeSendMessageBatch, encodePackedSendAnswer, WireFormatError, type ProducerService, type SendRequest, type SendResponseSchema } from '@partq/proto';
import { answerMultiplexedCalls, PartqError, withWireBytes, type MultiplexedAnswer, type MultiplexedCallsOptions } from '@partq/runtime';

/** What the Send calls of a SendStream tell: their failures (to log) and their outcomes (to count). */
export type SendCallObservers = Pick<MultiplexedCallsOptions, 'onError' | 'onAnswered'>;
import type { GatewayServices } from '../gateway-services.js';
import type { OutgoingMessage } from '../produce/outgoing-message.js';

/**
 * Send calls one SendStream runs at once. @partq/producer keeps a few in flight (maxInFlight, 8 by
 * default) per connection; a client that sends more waits, as its stream is read no further.
 */
const SEND_STREAM_CALLS_IN_FLIGHT = 64;

/** ProducerService (client.proto): the same calls as the REST producer and topic routes. */
export function producerServiceImpl(services: GatewayServices, sendCalls: SendCallObservers = {}): ServiceImpl<typeof ProducerService> {
  const send = (request: SendRequest): Promise<MessageInitShape<typeof SendResponseSchema>> => sendBatch(services, request);
  return {
    async createTopic(request) {
      const { topic } = await services.topics.create(request.name, {
        // proto3 cannot tell 0 from unset: 0 asks for the cluster's default count.
        partitions: request.partitions === 0 ? undefined : request.partitions,
        defaultAcks: request.defaultAcks,
        retentionMs: request.retentionMs,
        retentionBytes: request.retentionBytes,
      });
      return { topic };
    },
    async listTopics() {
      const topics = await services.topics.list();
      return { topics: topics.map((topic) => topic.name) };
    },
    async register(request) {
      const { producer, topic } = await services.registrations.registerProducer(request.topic, request.partitionId);
      return { producerId: producer.id, partitionCount: topic.partitionCount };
    },
    send(request) {
      return send(request);
    },
    sendStream(calls) {
      return answerMultiplexedCalls(calls, send, {
        ...sendCalls,
        maxInFlight: SEND_STREAM_CALLS_IN_FLIGHT,
        stop: services.stopping,
        encode: encodedAnswer,
      });
    },
  };
}

/** An answer of the packed form (what @partq/producer gets) with its bytes written by hand; others as they are. */
function encodedAnswer(answer: MultiplexedAnswer<MessageInitShape<typeof SendResponseSchema>>) {
  const { outcome } = answer;
  if (outcome.case !== 'response' || (outcome.value.results?.length ?? 0) > 0) return answer;
  const { partitionIds = [], offsets = [], duplicateIndexes = [] } = outcome.value;
  const encoded = encodePackedSendAnswer({ callId: answer.callId, partitionIds, offsets, duplicateIndexes });
  return encoded === undefined ? answer : withWireBytes(encoded.message, encoded.bytes);
}

/** One Send: its messages placed and acknowledged per `acks`. */
async function sendBatch(services: GatewayServices, request: SendRequest): Promise<MessageInitShape<typeof SendResponseSchema>> {
  // @partq/producer sends messages_data (hand-encoded) and gets the packed answer; other clients
  // send SendMessage objects and get a SendResult each.
  const packed = request.messages.length === 0 && request.messagesData.byteLength > 0;
  const results = await services.producer.produce({
    topic: request.topic,
    producerId: request.producerId,
    acks: request.acks,
    messages: packed ? packedMessages(request) : request.messages.map((message) => ({
      payload: message.payload,
      key: message.key,
      partitionId: message.partitionId,
      sequence: message.sequence,
      previousSequence: message.previousSequence,
    })),
  });
  if (!packed) return { results };
  const duplicateIndexes: number[] = [];
  results.forEach((result, index) => {
    if (result.duplicate) duplicateIndexes.push(index);
  });
  return { partitionIds: results.map((result) => result.partitionId), offsets: results.map((result) => result.offset), duplicateIndexes };
}

function packedMessages(request: SendRequest): OutgoingMessage[] {
  try {
    return decodeSendMessageBatch(request.messagesData);
  } catch (error) {
    if (error instanceof WireFormatError) throw new PartqError('INVALID_ARGUMENT', `send messages_data: ${error.message}`, { reason: error.code });
    throw error;
  }
}
