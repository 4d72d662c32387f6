import { timingSafeEqual } from 'node:crypto';
import { PartqError } from '@partq/runtime';

/**
 * The admin API's bearer token. Without a configured token the admin API is off: nobody can
 * drain brokers of a cluster whose operator never chose a secret.
 */
export class AdminToken {
  private readonly expected: Buffer | undefined;

  constructor(token: string | undefined) {
    this.expected = token ? Buffer.from(token) : undefined;
  }

  /** Throws UNAUTHENTICATED unless `authorization` is "Bearer <the token>". */
  check(authorization: string | null | undefined): void {
    if (!this.expected) {
      throw new PartqError('UNAUTHENTICATED', 'the admin API is disabled: start the gateway with PARTQ_ADMIN_TOKEN set');
    }
    const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    const given = match ? Buffer.from(match[1]!.trim()) : undefined;
    // Compare in constant time so the token cannot be guessed byte by byte from response times.
    if (!given || given.length !== this.expected.length || !timingSafeEqual(given, this.expected)) {
      throw new PartqError('UNAUTHENTICATED', 'admin calls need the header "authorization: Bearer <admin token>"');
    }
  }
}
