import { ProducerError } from './errors/producer-error.js';

/** Topic names as the cluster accepts them: 1-249 of [A-Za-z0-9._-]. */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** Refuses a bad name here, before a round trip that could only fail. */
export function assertTopicName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !TOPIC_NAME.test(name)) {
    throw new ProducerError('INVALID_ARGUMENT', `topic name must be 1-249 characters of [A-Za-z0-9._-], got ${JSON.stringify(name)}`);
  }
}
