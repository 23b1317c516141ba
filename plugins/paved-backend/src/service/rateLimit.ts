/**
 * Paved's write rate limit: at most `limit` writes per identity (user entity
 * ref or service subject) in each fixed window, counted in the Backstage
 * database so all replicas share one count. Backstage's own
 * `backend.rateLimit` limits by client IP in front of every plugin; it
 * cannot tell two users behind one proxy apart, hence this one.
 */
import type { Knex } from 'knex';
import { TooManyRequestsError } from './errors';

const TABLE = 'paved_rate_limits';

export interface RateLimitOptions {
  /** Writes allowed per identity and window; 0 turns the limit off. */
  limit: number;
  windowSeconds: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = {
  limit: 120,
  windowSeconds: 60,
};

export class WriteRateLimiter {
  private lastCleanup = 0;

  constructor(
    private readonly db: Knex,
    private readonly options: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one write by `identity`, or throws TooManyRequestsError. */
  async take(identity: string): Promise<void> {
    const { limit, windowSeconds } = this.options;
    if (limit <= 0) return;
    const windowMs = windowSeconds * 1000;
    const now = this.now();
    const windowStart = now - (now % windowMs);
    const key = { identity: identity.slice(0, 300), window_start: windowStart };
    // One statement: count the write and read the count back (RETURNING,
    // on both PostgreSQL and SQLite), atomic under concurrent writers.
    const [row] = await this.db(TABLE)
      .insert({ ...key, count: 1 })
      .onConflict(['identity', 'window_start'])
      .merge({ count: this.db.raw('?? + 1', [`${TABLE}.count`]) })
      .returning('count');
    await this.cleanup(now, windowMs);
    if (Number(row?.count ?? 0) > limit) {
      const retryAfter = Math.max(
        1,
        Math.ceil((windowStart + windowMs - now) / 1000),
      );
      throw new TooManyRequestsError(
        `Too many writes: ${identity} made more than ${limit} in ${windowSeconds} seconds (paved.rateLimit); retry after ${retryAfter} seconds`,
        retryAfter,
      );
    }
  }

  /** Drops windows that ended, at most once per window. */
  private async cleanup(now: number, windowMs: number) {
    if (now - this.lastCleanup < windowMs) return;
    this.lastCleanup = now;
    await this.db(TABLE)
      .where('window_start', '<', now - 2 * windowMs)
      .delete();
  }
}
