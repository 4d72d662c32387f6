// Compile-time checks of the public API (tsc via `typecheck`; never run). Each `@ts-expect-error`
// line must fail to compile: a call that should be refused but compiles fails the typecheck.
import {
  Consumer,
  CONSUMER_ERROR_CODES,
  ConsumerError,
  type ConsumedMessage,
  type ConsumerErrorCode,
  type DisconnectEvent,
  type TopicSize,
} from '../src/index.js';

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

export async function publicApi(): Promise<void> {
  const consumer = new Consumer({ urls: ['http://127.0.0.1:8080'], maxMessages: 10, pollIntervalMs: 50, retry: { maxDelayMs: 500 } });

  const id = await consumer.register('orders', { from: 'earliest', partition: 0 });
  assertType<Equal<typeof id, number>>();

  // dequeue: a message or null; poll: an array; messages(): an async iteration.
  const next = await consumer.dequeue('orders', { signal: AbortSignal.timeout(1000) });
  assertType<Equal<typeof next, ConsumedMessage | null>>();
  const batch = await consumer.poll('orders', { maxMessages: 100 });
  assertType<Equal<typeof batch, ConsumedMessage[]>>();
  for await (const message of consumer.messages('orders')) {
    assertType<Equal<typeof message, ConsumedMessage>>();
    const offset: number = message.offset;
    const partition: number = message.partition;
    const value: Uint8Array = message.value;
    const key: Uint8Array | undefined = message.key;
    const at: Date = message.timestamp;
    const text: string = message.text();
    const parsed = message.json<{ id: number }>();
    assertType<Equal<typeof parsed, { id: number }>>();
    void [offset, partition, value, key, at, text];
    break;
  }

  const size = await consumer.size('orders');
  assertType<Equal<typeof size, TopicSize>>();
  const pending: number = size.partitions[0]?.size ?? size.size;
  void pending;
  assertType<Equal<Awaited<ReturnType<Consumer['listTopics']>>, string[]>>();

  // Events, typed per name.
  consumer.on('disconnect', (event) => assertType<Equal<typeof event, DisconnectEvent>>());
  consumer.on('reconnect', ({ url }) => void url.toUpperCase());
  consumer.on('error', (error) => assertType<Equal<typeof error, ConsumerError>>());

  try {
    await consumer.dequeue('orders');
  } catch (error) {
    if (error instanceof ConsumerError) {
      assertType<Equal<typeof error.code, ConsumerErrorCode>>();
      // @ts-expect-error not a ConsumerErrorCode: the comparison can never be true
      if (error.code === 'EMPTY') return;
    }
  }
  assertType<Equal<(typeof CONSUMER_ERROR_CODES)[number], ConsumerErrorCode>>();

  {
    await using scoped = new Consumer({ urls: ['http://127.0.0.1:8080'] });
    await scoped.dequeue('orders');
  }
  await consumer.close();
}

export async function refusedCalls(consumer: Consumer): Promise<void> {
  // @ts-expect-error urls is required
  new Consumer({ maxMessages: 1 });
  // @ts-expect-error from is 'latest' or 'earliest'
  await consumer.register('orders', { from: 'middle' });
  // @ts-expect-error the partition is a number
  await consumer.register('orders', { partition: '0' });
  const next = await consumer.dequeue('orders');
  // @ts-expect-error dequeue may give null: check before use
  void next.offset;
  if (next) {
    // @ts-expect-error a consumed message is read-only
    next.offset = 3;
  }
  // @ts-expect-error messages() is iterated with for await, not for
  for (const message of consumer.messages('orders')) void message;
  // @ts-expect-error no such event
  consumer.on('message', () => undefined);
  // @ts-expect-error a disconnect event has no `code`; it is on event.error
  consumer.on('disconnect', (event) => void event.code);
  // @ts-expect-error maxMessages is a number
  await consumer.poll('orders', { maxMessages: 'all' });
  for await (const event of consumer.statusEvents({ signal: AbortSignal.timeout(1000) })) {
    if (event.type === 'disconnect') void event.error.code;
    if (event.type === 'reconnect') void event.url;
    // @ts-expect-error only a disconnect or an error carries an error
    if (event.type === 'reconnect') void event.error;
    // @ts-expect-error no such status event
    if (event.type === 'message') break;
  }
}
