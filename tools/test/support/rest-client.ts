/** A thin client of the gateway's REST API for tests: every answer as {status, body}. */
export interface RestAnswer {
  status: number;
  body: Record<string, unknown> & { status?: string; code?: string; message?: string };
}

export class RestClient {
  constructor(private readonly baseUrl: string) {}

  async get(path: string, query: Record<string, string | number | undefined> = {}): Promise<RestAnswer> {
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return this.answer(await fetch(url));
  }

  async post(path: string, body: unknown, raw = false): Promise<RestAnswer> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw ? (body as string) : JSON.stringify(body),
    });
    return this.answer(response);
  }

  private async answer(response: Response): Promise<RestAnswer> {
    const text = await response.text();
    try {
      return { status: response.status, body: JSON.parse(text) as RestAnswer['body'] };
    } catch {
      throw new Error(`non-JSON answer (${response.status}): ${text.slice(0, 200)}`);
    }
  }

  // The course's calls, by name.
  createTopic(name: string, partitions?: number) {
    return this.post('/topics', partitions === undefined ? { topic_name: name } : { topic_name: name, partitions });
  }
  async registerProducer(topic: string, partitionId?: number): Promise<number> {
    const a = await this.post('/producer/register', { topic, partition_id: partitionId });
    if (a.body.status !== 'success') throw new Error(`register producer: ${JSON.stringify(a.body)}`);
    return a.body.producer_id as number;
  }
  async registerConsumer(topic: string, partitionId?: number): Promise<number> {
    const a = await this.post('/consumer/register', { topic, partition_id: partitionId });
    if (a.body.status !== 'success') throw new Error(`register consumer: ${JSON.stringify(a.body)}`);
    return a.body.consumer_id as number;
  }
  produce(topic: string, producerId: number, message: string, extra: Record<string, unknown> = {}) {
    return this.post('/producer/produce', { topic, producer_id: producerId, message, ...extra });
  }
  consume(topic: string, consumerId: number, partitionId?: number) {
    return this.get('/consumer/consume', { topic, consumer_id: consumerId, partition_id: partitionId });
  }
  /** Consumes until EMPTY; returns what came, in order. */
  async drain(topic: string, consumerId: number, limit = 100_000): Promise<{ message: string; partition_id: number; offset: number }[]> {
    const got: { message: string; partition_id: number; offset: number }[] = [];
    for (let i = 0; i < limit; i++) {
      const a = await this.consume(topic, consumerId);
      if (a.body.status !== 'success') {
        if (a.body.code === 'EMPTY') return got;
        throw new Error(`consume: ${JSON.stringify(a.body)}`);
      }
      got.push({ message: a.body.message as string, partition_id: a.body.partition_id as number, offset: a.body.offset as number });
    }
    throw new Error('drain limit reached');
  }
  /** Consumes until `count` messages came (EMPTY answers are waited out) or `timeoutMs` passed; returns them. */
  async receive(topic: string, consumerId: number, count: number, timeoutMs = 30_000): Promise<string[]> {
    const received: string[] = [];
    const deadline = Date.now() + timeoutMs;
    while (received.length < count && Date.now() < deadline) {
      const answer = await this.consume(topic, consumerId);
      if (answer.body.status === 'success') received.push(answer.body.message as string);
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return received;
  }
  size(topic: string, consumerId: number) {

    return this.get('/size', { topic, consumer_id: consumerId });
  }
}
