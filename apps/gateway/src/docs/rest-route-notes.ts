/**
 * What the route schemas cannot say about the REST API: a one-line summary, the HTTP status of a
 * success, and notes for the reader. Keyed by "METHOD /url". A route missing here is still
 * documented (from its schema alone), and a route may override all of this with `summary`,
 * `description` and `tags` in its own schema.
 */
export interface RouteNote {
  summary: string;
  description?: string;
  /** Defaults to 200. */
  successStatus?: number;
  /** The route needs `Authorization: Bearer <admin token>`. */
  adminToken?: boolean;
}

const ADMIN = 'Needs `Authorization: Bearer <admin token>` (the gateway\'s admin token setting); 401 UNAUTHENTICATED otherwise.';

export const REST_ROUTE_NOTES: Readonly<Record<string, RouteNote>> = {
  'GET /topics': { summary: 'List topics', description: 'Every topic of the cluster, oldest first: `{"topics": ["orders", ...]}`.' },
  'POST /topics': {
    summary: 'Create a topic',
    description:
      'Name: 1-249 characters of `[A-Za-z0-9._-]`, not `.` or `..` (`topic_name` or `name`). `partitions`: 1-1024, ' +
      "omitted means the cluster's default. `retention_ms` / `retention_bytes`: delete a partition's records older than that, " +
      'or past that many bytes, whether consumers read them or not (a consumer further behind goes on from the first retained ' +
      'offset); omitted means no such limit. A duplicate is 409 ALREADY_EXISTS.',
    successStatus: 201,
  },
  'GET /topics/partitions': {
    summary: 'Partitions of a topic',
    description:
      'Per partition: owning `broker_id` (0 while unassigned), `start_offset` (first retained), `end_offset` ' +
      '(next offset to be written, as the owning broker reports it) and `stored_bytes` (record bytes held in the Central DB).',
  },
  'POST /producer/register': {
    summary: 'Register a producer',
    description: 'Creates the topic when it does not exist. With `partition_id` the producer may only write to that partition.',
  },
  'POST /producer/produce': {
    summary: 'Produce one message or a batch',
    description:
      'Single form: `message`. Batch form: `messages` (strings or message objects), answered with one result per message in order. ' +
      'A retried message with the same `sequence` lands once and is answered with `"duplicate": true`. ' +
      'Answered once the owning broker acknowledged (`acks: "broker"`) or the record is committed in PostgreSQL (`acks: "all"`).',
  },
  'POST /consumer/register': {
    summary: 'Register a consumer',
    description: 'Starts at the end of the log (`from: "latest"`, default) or at the first retained offset (`from: "earliest"`).',
  },
  'GET /consumer/consume': {
    summary: 'Consume the next message, or the next messages',
    description:
      'The position is committed before the answer, so a message is delivered once. Nothing pending is a normal answer: ' +
      'HTTP 200 with `{"status": "failure", "code": "EMPTY"}`. With `max_messages` (1-1000), up to that many messages ' +
      'as `messages`, an empty list when nothing is pending. A retry with the same `request_id` gets the same answer.',
  },
  'GET /size': { summary: 'Messages pending for a consumer', description: 'In all (`size`) and per partition.' },
  'GET /health': { summary: "The manager's health-check tables", description: 'Last heartbeat or activity of every broker, producer, consumer and replica.' },
  'GET /brokers': { summary: "Brokers as this gateway's partition map knows them" },
  'GET /admin/brokers': { summary: 'Brokers with the partitions they own', description: ADMIN, adminToken: true },
  'PATCH /admin/topics/:topic_name': {
    summary: "Change a topic's time and size limits",
    description:
      '`retention_ms` / `retention_bytes` (at least one): a whole number from 1 sets the limit, `null` removes it, a limit left out stays as it is. ' +
      `What a smaller limit leaves out is deleted at the manager's next retention pass. ${ADMIN}`,
    adminToken: true,
  },
  'POST /admin/brokers/:broker_id/drain': {
    summary: 'Drain a broker',
    description: `Moves every partition off the broker (a new epoch each); answers the moves. ${ADMIN}`,
    adminToken: true,
  },
  'POST /admin/brokers/:broker_id/resume': {
    summary: 'Put a drained broker back in service',
    description: `A draining broker becomes alive again: partitions may be given to it, and \`POST /admin/rebalance\` moves some back. An alive broker stays as it is; a dead one comes back by registering. Answers the broker. ${ADMIN}`,
    adminToken: true,
  },
  'POST /admin/rebalance': { summary: 'Rebalance partitions over the live brokers', description: `Answers the moves made. ${ADMIN}`, adminToken: true },
  'GET /admin/health': { summary: "The manager's health entries, unfiltered", description: ADMIN, adminToken: true },
};
