/**
 * Tells a waiting read that an app may look different now, so that a long
 * poll (`GET …/apps/{app}` with `If-None-Match` and `Prefer: wait=N`)
 * answers at the change rather than at the next poll. What can change an
 * app's view: its App CR in the cluster (status, as the watch-fed
 * StatusCache sees it; this covers writes by other backend replicas, which
 * apply the CR), and its row's sync state (applied, failed, purged). Both
 * call {@link AppChanges.notify}; a notice is a hint to read again, never
 * the data itself.
 */
import { createHash } from 'node:crypto';

/** The strong HTTP entity tag of a view: the same view, the same tag. */
export function entityTag(view: unknown): string {
  const hash = createHash('sha1')
    .update(JSON.stringify(view))
    .digest('base64url');
  return `"${hash}"`;
}

function keyOf(tenant: string, app: string) {
  return `${tenant}/${app}`;
}

export class AppChanges {
  private readonly waiting = new Map<string, Set<() => void>>();

  notify(tenant: string, app: string): void {
    const key = keyOf(tenant, app);
    const wakers = this.waiting.get(key);
    if (!wakers) return;
    this.waiting.delete(key);
    for (const wake of wakers) wake();
  }

  /**
   * A wait that ends at the next notice for the app, after `timeoutMs`,
   * when `signal` aborts, or when cancelled. Take it before reading the
   * app, so that a change between the read and the wait is not missed.
   */
  next(
    tenant: string,
    app: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): { changed: Promise<void>; cancel: () => void } {
    const key = keyOf(tenant, app);
    let cancel = () => {};
    const changed = new Promise<void>(resolve => {
      let timer: ReturnType<typeof setTimeout> | undefined = undefined;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        const wakers = this.waiting.get(key);
        wakers?.delete(done);
        if (wakers?.size === 0) this.waiting.delete(key);
        resolve();
      };
      timer = setTimeout(done, Math.max(0, timeoutMs));
      timer.unref?.();
      signal?.addEventListener('abort', done, { once: true });
      let wakers = this.waiting.get(key);
      if (!wakers) {
        wakers = new Set();
        this.waiting.set(key, wakers);
      }
      wakers.add(done);
      cancel = done;
    });
    return { changed, cancel };
  }
}
