// Compile-time checks of the public API (tsc via `typecheck`; never run). Each `@ts-expect-error`
// line must fail to compile: a call that should be refused but compiles fails the typecheck.
import { json, Producer, PRODUCER_ERROR_CODES, ProducerError, type Message, type ProducerErrorCode, type SendResult } from '../src/index.js';

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

export async function publicApi(): Promise<void> {
  const producer = new Producer({ urls: ['http://127.0.0.1:8080'], acks: 'all', lingerMs: 5, maxInFlight: 1, retry: { deadlineMs: 1000 } });

  // send: one message -> one result; an array -> one result per message.
  const one = await producer.send('orders', 'hello');
  assertType<Equal<typeof one, SendResult>>();
  const many = await producer.send('orders', ['a', new Uint8Array([1]), { value: 'b', key: 'k', partition: 2 }]);
  assertType<Equal<typeof many, SendResult[]>>();
  assertType<Equal<SendResult, { partition: number; offset: number }>>();
  await producer.send('orders', json.encode({ id: 1 }), { key: 'customer-1', acks: 'broker', signal: AbortSignal.timeout(1000) });
  const decoded = json.decode<{ id: number }>(new Uint8Array());
  assertType<Equal<typeof decoded, { id: number }>>();
  const message: Message = { value: 'v' };
  void message;

  assertType<Equal<Awaited<ReturnType<Producer['createTopic']>>, void>>();
  assertType<Equal<Awaited<ReturnType<Producer['listTopics']>>, string[]>>();
  assertType<Equal<Awaited<ReturnType<Producer['register']>>, number>>();
  await producer.createTopic('orders', { partitions: 3 });
  await producer.flush();

  // Errors: a closed union of codes, narrowed with instanceof.
  try {
    await producer.send('orders', 'x');
  } catch (error) {
    if (error instanceof ProducerError) {
      assertType<Equal<typeof error.code, ProducerErrorCode>>();
      const retriable: boolean = error.retriable;
      void retriable;
      // @ts-expect-error not a ProducerErrorCode: the comparison can never be true
      if (error.code === 'NO_SUCH_CODE') return;
    }
  }
  assertType<Equal<(typeof PRODUCER_ERROR_CODES)[number], ProducerErrorCode>>();

  // Closing: close() and `await using`.
  {
    await using scoped = new Producer({ urls: ['http://127.0.0.1:8080'] });
    await scoped.send('orders', 'in scope');
  }
  await producer.close();
}

export async function refusedCalls(producer: Producer): Promise<void> {
  // @ts-expect-error urls is required
  new Producer({});
  // @ts-expect-error acks is 'broker' or 'all'
  new Producer({ urls: ['http://127.0.0.1:8080'], acks: 'none' });
  // @ts-expect-error httpVersion is '1.1' or '2'
  new Producer({ urls: ['http://127.0.0.1:8080'], httpVersion: 3 });
  // @ts-expect-error a message is a string, bytes or { value }
  await producer.send('orders', 42);
  // @ts-expect-error { value } is required in the object form
  await producer.send('orders', { key: 'k' });
  // @ts-expect-error the partition is a number
  await producer.send('orders', 'x', { partition: '1' });
  // @ts-expect-error one message resolves to one result, not an array
  const results: SendResult[] = await producer.send('orders', 'x');
  void results;
  // @ts-expect-error partitions is a number
  await producer.createTopic('orders', { partitions: '3' });
  // @ts-expect-error a topic name is needed
  await producer.send();
}
