import Ajv, { type ValidateFunction } from 'ajv';
import { RestClient, type RestAnswer } from './support/rest-client.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

// Every REST answer, from real processes, matches the response schema its route declares (and the
// OpenAPI document publishes): the schemas are the API's contract, so they must not drift from it.
jest.setTimeout(120_000);

interface Operation {
  responses: Record<string, { content?: { 'application/json'?: { schema: object } } } | { $ref: string }>;
}
type OpenApi = { paths: Record<string, Record<string, Operation>> };

let cluster: TestCluster;
let rest: RestClient;
let document: OpenApi;
const ajv = new Ajv({ allErrors: true, validateFormats: false });
const validators = new Map<string, ValidateFunction>();
/** "GET /topics/partitions 200", as they were answered in this file. */
const exercised = new Set<string>();

beforeAll(async () => {
  cluster = await startTestCluster({ brokers: 2, replicas: 1 });
  rest = new RestClient(cluster.gatewayUrl);
  document = (await rest.get('/docs/openapi.json')).body as unknown as OpenApi;
});

afterAll(async () => {
  await cluster?.dispose();
});

/** The documented schema of `operation`'s answer with `status` (e.g. "POST /topics", 201). */
function validatorOf(operation: string, status: number): ValidateFunction {
  const key = `${operation} ${status}`;
  let validate = validators.get(key);
  if (!validate) {
    const [method, path] = operation.split(' ') as [string, string];
    const response = document.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
    const schema = response && 'content' in response ? response.content?.['application/json']?.schema : undefined;
    if (!schema) throw new Error(`${key}: no response schema is documented`);
    validate = ajv.compile(schema);
    validators.set(key, validate);
  }
  return validate;
}

/** Asserts `answer` has `status` and matches the documented schema of that status. */
function expectDocumented(operation: string, answer: RestAnswer, status = 200): RestAnswer['body'] {
  expect({ operation, status: answer.status, body: answer.body }).toEqual({ operation, status, body: answer.body });
  const validate = validatorOf(operation, status);
  if (!validate(answer.body)) throw new Error(`${operation}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(answer.body)}`);
  exercised.add(`${operation} ${status}`);
  return answer.body;
}

async function admin(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<RestAnswer> {
  const headers: Record<string, string> = { authorization: `Bearer ${cluster.adminToken}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(new URL(path, cluster.gatewayUrl), { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, body: (await response.json()) as RestAnswer['body'] };
}

test('topics, producing and consuming answer what their routes document', async () => {
  expectDocumented('POST /topics', await rest.createTopic('contract', 2), 201);
  expectDocumented('GET /topics', await rest.get('/topics'));
  expectDocumented('GET /topics/partitions', await rest.get('/topics/partitions', { topic: 'contract' }));

  const producer = expectDocumented('POST /producer/register', await rest.post('/producer/register', { topic: 'contract' })).producer_id as number;
  const consumer = expectDocumented('POST /consumer/register', await rest.post('/consumer/register', { topic: 'contract' })).consumer_id as number;

  const single = expectDocumented('POST /producer/produce', await rest.produce('contract', producer, 'one', { key: 'k', sequence: 1 }));
  expect(single).toEqual({ status: 'success', partition_id: expect.any(Number), offset: expect.any(Number) });
  const retried = expectDocumented('POST /producer/produce', await rest.produce('contract', producer, 'one', { key: 'k', sequence: 1 }));
  expect(retried).toEqual({ ...single, duplicate: true });
  const batch = expectDocumented(
    'POST /producer/produce',
    await rest.post('/producer/produce', { topic: 'contract', producer_id: producer, messages: ['two', { message: '/w==', encoding: 'base64' }] }),
  );
  expect(batch.results).toHaveLength(2);

  expectDocumented('GET /size', await rest.size('contract', consumer));
  const consumed: RestAnswer['body'][] = [];
  for (;;) {
    const body = expectDocumented('GET /consumer/consume', await rest.consume('contract', consumer));
    if (body.status !== 'success') {
      expect(body).toEqual({ status: 'failure', code: 'EMPTY', message: expect.any(String) });
      break;
    }
    consumed.push(body);
  }
  // The key, and the byte that is not UTF-8 (sent as base64, answered as base64), came through.
  expect(consumed).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ message: 'one', key: 'k' }),
      expect.objectContaining({ message: 'two' }),
      expect.objectContaining({ message: '/w==', encoding: 'base64' }),
    ]),
  );

  // The batch form: up to max_messages at once; a retry with the same request id gets the same batch.
  for (const message of ['b0', 'b1', 'b2']) await rest.produce('contract', producer, message, { partition_id: 0 });
  const batchOf = async (max: number, requestId: string) =>
    expectDocumented('GET /consumer/consume', await rest.get('/consumer/consume', { topic: 'contract', consumer_id: consumer, max_messages: max, request_id: requestId }));
  const first = await batchOf(2, 'batch-1');
  expect((first.messages as { message: string }[]).map((m) => m.message)).toEqual(['b0', 'b1']);
  expect(await batchOf(2, 'batch-1')).toEqual(first);
  expect((await batchOf(5, 'batch-2')).messages).toEqual([{ message: 'b2', partition_id: 0, offset: expect.any(Number) }]);
  expect(await batchOf(5, 'batch-3')).toEqual({ status: 'success', messages: [] });
});

test('health and admin routes answer what they document', async () => {
  const health = expectDocumented('GET /health', await rest.get('/health'));
  expect((health.brokers as unknown[]).length).toBe(2);
  expect(health.failing_syncs).toEqual([]);
  expectDocumented('GET /brokers', await rest.get('/brokers'));
  const listed = expectDocumented('GET /admin/brokers', await admin('GET', '/admin/brokers'));
  // Each broker's last heartbeat as the manager heard it (brokers beat every second), not the
  // gateway's figure from the last change of the metadata.
  await new Promise((done) => setTimeout(done, 2500));
  const later = (await admin('GET', '/admin/brokers')).body;
  expect((later.brokers as { disk_full: boolean }[]).map((b) => b.disk_full)).toEqual((later.brokers as unknown[]).map(() => false));
  const beats = (answer: typeof listed) => (answer.brokers as { broker_id: number; last_heartbeat_ms: number }[]).map((b) => b.last_heartbeat_ms);
  beats(later).forEach((beat, i) => expect(beat).toBeGreaterThan(beats(listed)[i]!));
  for (const beat of beats(later)) expect(Date.now() - beat).toBeLessThan(2000);
  expectDocumented('GET /admin/health', await admin('GET', '/admin/health'));
  const drained = expectDocumented('POST /admin/brokers/{broker_id}/drain', await admin('POST', '/admin/brokers/2/drain'));
  expect((drained.moves as unknown[]).length).toBeGreaterThan(0);
  const draining = ((await admin('GET', '/admin/brokers')).body.brokers as { broker_id: number; state: string; drain_reason: string | null }[]).find((b) => b.broker_id === 2);
  expect(draining).toMatchObject({ state: 'draining', drain_reason: 'operator' });
  // Drained, broker 2 stays out of service until it is resumed; a rebalance then gives it partitions back.
  expect(((await admin('POST', '/admin/rebalance')).body.moves as unknown[]).length).toBe(0);
  const resumed = expectDocumented('POST /admin/brokers/{broker_id}/resume', await admin('POST', '/admin/brokers/2/resume'));
  expect(resumed.broker).toMatchObject({ broker_id: 2, state: 'alive', drain_reason: null });
  expect((await admin('POST', '/admin/brokers/99/resume')).body).toMatchObject({ status: 'failure', code: 'NOT_FOUND' });
  const rebalanced = expectDocumented('POST /admin/rebalance', await admin('POST', '/admin/rebalance'));
  expect((rebalanced.moves as { to_broker_id: number }[]).map((move) => move.to_broker_id)).toContain(2);
  // Resuming an alive broker changes nothing.
  expect((await admin('POST', '/admin/brokers/2/resume')).body).toMatchObject({ status: 'success', broker: { broker_id: 2, state: 'alive' } });
  expect((await rest.createTopic('contract-limits', 1)).status).toBe(201);
  const limited = expectDocumented('PATCH /admin/topics/{topic_name}', await admin('PATCH', '/admin/topics/contract-limits', { retention_ms: 60_000 }));
  expect(limited.topic).toMatchObject({ name: 'contract-limits', retention_ms: 60_000, retention_bytes: null });
});

test('every documented operation was checked here', () => {
  const documented = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => {
      const success = Object.keys(operation.responses).find((status) => /^2\d\d$/.test(status));
      return `${method.toUpperCase()} ${path} ${success}`;
    }),
  );
  expect([...exercised].sort()).toEqual(documented.sort());
});
