/** Longest topic name accepted; the same bound Kafka uses so names fit in file names on every platform. */
export const MAX_TOPIC_NAME_LENGTH = 249;

const TOPIC_NAME_PATTERN = /^[A-Za-z0-9._-]+$/;

/**
 * A topic name is 1..249 characters of `[A-Za-z0-9._-]`. "." and ".." are refused because
 * topic names become path segments (WAL directories, REST URLs) where they would mean something else.
 */
export function isValidTopicName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length >= 1 &&
    name.length <= MAX_TOPIC_NAME_LENGTH &&
    name !== '.' &&
    name !== '..' &&
    TOPIC_NAME_PATTERN.test(name)
  );
}
