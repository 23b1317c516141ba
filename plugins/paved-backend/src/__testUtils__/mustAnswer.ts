/**
 * For setup steps (beforeAll), where `expect` does not belong: throws,
 * with the answer, unless the request answered `status`.
 */
export function mustAnswer(
  what: string,
  res: { status: number; body?: unknown },
  status: number,
): void {
  if (res.status !== status) {
    throw new Error(
      `${what}: expected ${status}, got ${res.status} ${JSON.stringify(
        res.body,
      )}`,
    );
  }
}
