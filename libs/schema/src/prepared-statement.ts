import type pg from 'pg';

/** Where a statement runs: a pool (any of its connections) or a client checked out of one. */
export type StatementTarget = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

/** Names taken in this process, with their text: one name must always mean one statement. */
const taken = new Map<string, string>();

/**
 * A named prepared statement: each connection parses it once, and PostgreSQL reuses its plan on
 * the following runs. Kysely sends every query unnamed, so PostgreSQL parses and plans it again each
 * time; for a statement run per delivery (a consumer's position commit) that was half of the
 * statement's PostgreSQL CPU (docs/performance-log.md, fourteenth round). Kept to a few fixed texts:
 * every connection keeps every statement it prepared until it closes.
 *
 * Parameters are `$1…$n` in `text`, given in order to `run`.
 */
export class PreparedStatement<Row extends object, Params extends readonly unknown[]> {
  constructor(
    readonly name: string,
    readonly text: string,
  ) {
    const known = taken.get(name);
    if (known !== undefined && known !== text) throw new RangeError(`prepared statement '${name}' is already defined with another text`);
    taken.set(name, text);
  }

  run(target: StatementTarget, params: Params): Promise<pg.QueryResult<Row>> {
    return target.query<Row>({ name: this.name, text: this.text, values: params as unknown as unknown[] });
  }
}
