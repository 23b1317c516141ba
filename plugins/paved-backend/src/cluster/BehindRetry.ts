/** The first retry's pause, and the longest (the scheduled sync's default period). */
export const BEHIND_RETRY_MS = { first: 1000, max: 16_000 };

/**
 * Rows that a write could not bring to the cluster (the API server down,
 * restarting, refusing) are applied again soon, not only at the next
 * scheduled sync: after 1 s, then after twice as long each time rows are
 * still behind, up to 16 s; from 1 s again once none is. Found by the fault
 * harness: a write acknowledged while kube-apiserver restarted reached the
 * cluster only with the scheduled sync, up to 15 s after it was back.
 */
export class BehindRetry {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private delayMs = BEHIND_RETRY_MS.first;
  private again = false;
  private closed = false;

  constructor(
    private readonly syncBehind: () => Promise<{ behind: number }>,
    private readonly warn: (message: string) => void,
  ) {}

  /** Asks for a retry (one is pending or running at most). */
  wanted(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.again = false;
      this.running = this.syncBehind()
        .then(
          ({ behind }) => behind > 0,
          error => {
            this.warn(`Retrying the rows behind failed: ${error}`);
            return true;
          },
        )
        .then(stillBehind => {
          this.running = undefined;
          if (stillBehind) {
            this.delayMs = Math.min(this.delayMs * 2, BEHIND_RETRY_MS.max);
            this.wanted();
          } else {
            this.delayMs = BEHIND_RETRY_MS.first;
            // A write failed while this run went: its row may be behind.
            if (this.again) this.wanted();
          }
        });
    }, this.delayMs);
    this.timer.unref?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
