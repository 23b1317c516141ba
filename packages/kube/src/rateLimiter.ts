/**
 * Per-key exponential backoff, as client-go's ItemExponentialFailureRateLimiter:
 * the n-th consecutive failure of a key waits base * 2^(n-1), capped at max.
 * `forget` resets a key after it succeeds.
 */
export interface RateLimiter<K> {
  /** How long to wait before retrying the key, counting this failure. */
  when(key: K): number;
  /** Consecutive failures of the key so far. */
  retries(key: K): number;
  forget(key: K): void;
}

export class ExponentialBackoffRateLimiter<K> implements RateLimiter<K> {
  private readonly failures = new Map<K, number>();

  constructor(
    private readonly baseDelayMs = 5,
    private readonly maxDelayMs = 60_000,
  ) {
    if (baseDelayMs <= 0 || maxDelayMs < baseDelayMs) {
      throw new Error(
        'baseDelayMs must be positive and maxDelayMs at least baseDelayMs',
      );
    }
  }

  when(key: K): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    // 2^failures overflows to Infinity long after the cap applies.
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** failures);
  }

  retries(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: K): void {
    this.failures.delete(key);
  }
}
