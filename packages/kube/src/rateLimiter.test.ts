import { ExponentialBackoffRateLimiter } from './rateLimiter';

describe('ExponentialBackoffRateLimiter', () => {
  it('doubles the delay per consecutive failure of a key, up to the cap', () => {
    const limiter = new ExponentialBackoffRateLimiter<string>(10, 100);
    expect([1, 2, 3, 4, 5, 6].map(() => limiter.when('a'))).toEqual([
      10, 20, 40, 80, 100, 100,
    ]);
    expect(limiter.retries('a')).toBe(6);
  });

  it('tracks keys separately and resets a key on forget', () => {
    const limiter = new ExponentialBackoffRateLimiter<string>(5, 1000);
    limiter.when('a');
    limiter.when('a');
    expect(limiter.when('b')).toBe(5);
    limiter.forget('a');
    expect(limiter.retries('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
  });

  it('stays at the cap after very many failures', () => {
    const limiter = new ExponentialBackoffRateLimiter<string>(1, 60_000);
    let last = 0;
    for (let i = 0; i < 2000; i++) last = limiter.when('x');
    expect(last).toBe(60_000);
  });

  it('rejects settings that cannot back off', () => {
    expect(() => new ExponentialBackoffRateLimiter(0, 10)).toThrow(
      /baseDelayMs must be positive/,
    );
    expect(() => new ExponentialBackoffRateLimiter(10, 5)).toThrow(
      /maxDelayMs at least baseDelayMs/,
    );
  });
});
