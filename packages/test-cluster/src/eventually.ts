/**
 * Polls `check` until it returns a truthy value, and returns it: every
 * 250 ms unless `options.intervalMs` says otherwise. Errors thrown by
 * `check` count as "not yet"; the last one is in the timeout message. For
 * tests that wait on what a controller does, instead of sleeping.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 90_000,
  options: { intervalMs?: number } = {},
): Promise<T> {
  const intervalMs = options.intervalMs ?? 250;
  if (!(intervalMs > 0)) {
    throw new Error(
      `eventually(${what}): intervalMs must be a positive number of milliseconds, not ${intervalMs}`,
    );
  }
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out waiting for ${what}${
          last ? `: ${(last as Error).message ?? last}` : ''
        }`,
      );
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs));
  }
}
