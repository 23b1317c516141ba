/**
 * The one error type of Paved's Kubernetes calls: an answer of the API
 * server (its HTTP status, reason and message), or a failure to reach it
 * (code 0).
 */
/** The request an error came from, and what went wrong, apart. */
export interface KubeApiErrorDetails {
  /** e.g. `PATCH` */
  method: string;
  /** The resource path with its query string, as sent. */
  path: string;
  /**
   * The API server's own message (its Status `message`, or the body), the
   * connection's error, or `no answer in <ms>ms`; without the request.
   */
  detail: string;
}

/**
 * An error answered by the API server, or a failure to reach it: `code` is
 * the HTTP status, or 0 when no answer came (connection error, timeout,
 * stalled watch).
 */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason?: string,
    /** Set for errors of {@link KubeClient.request} (and the calls over it). */
    readonly details?: KubeApiErrorDetails,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.code === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof KubeApiError && error.code === 409;
}

export function isGone(error: unknown): boolean {
  return error instanceof KubeApiError && error.code === 410;
}

/** A KubeApiError from an answer's status and body (a Kubernetes Status, or any text). */
export function apiError(
  code: number,
  text: string,
  what?: string,
  sent?: { method: string; path: string },
): KubeApiError {
  let detail = text;
  let reason: string | undefined;
  try {
    const status = JSON.parse(text);
    detail = status.message ?? text;
    reason = status.reason;
  } catch {
    // not a Status: the body as it is
  }
  return new KubeApiError(
    code,
    `${what ? `${what}: ` : ''}${detail}`,
    reason,
    sent && { ...sent, detail },
  );
}
