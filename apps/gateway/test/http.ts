import type { FastifyInstance, InjectOptions } from 'fastify';

export interface JsonReply {
  status: number;
  // Bodies are checked field by field in the tests.
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  raw: string;
}

/** One request through Fastify's inject(), with the JSON answer parsed. */
export async function request(app: FastifyInstance, options: InjectOptions): Promise<JsonReply> {
  const reply = await app.inject(options);
  let body: unknown;
  try {
    body = JSON.parse(reply.body);
  } catch {
    body = undefined;
  }
  return { status: reply.statusCode, body, raw: reply.body };
}

export function post(app: FastifyInstance, url: string, payload: unknown): Promise<JsonReply> {
  return request(app, { method: 'POST', url, payload: payload as InjectOptions['payload'] });
}

export function get(app: FastifyInstance, url: string, query?: Record<string, string | number>): Promise<JsonReply> {
  const search = query ? `?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString()}` : '';
  return request(app, { method: 'GET', url: `${url}${search}` });
}

/** A raw body with a content type, for malformed input. */
export function postRaw(app: FastifyInstance, url: string, body: string | Buffer, contentType = 'application/json'): Promise<JsonReply> {
  return request(app, { method: 'POST', url, payload: body, headers: { 'content-type': contentType } });
}

/** The failure envelope every error carries. */
export function expectFailure(reply: JsonReply, status: number, code: string): void {
  expect({ status: reply.status, envelope: reply.body?.status, code: reply.body?.code }).toEqual({ status, envelope: 'failure', code });
  expect(typeof reply.body.message).toBe('string');
}
