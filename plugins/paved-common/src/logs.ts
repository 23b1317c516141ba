/**
 * An app's container logs as the API streams them: the query of
 * `GET /tenants/{tenant}/apps/{app}/logs`, the events of its
 * Server-Sent-Events answer, and the reader of that stream that the
 * client, the CLI and the UI share.
 */
import { z } from 'zod';
import { booleanParam, wholeNumberParam } from './query';

export const LOG_TAIL_DEFAULT = 100;
export const LOG_TAIL_MAX = 10_000;
export const LOG_SINCE_MAX_SECONDS = 7 * 24 * 3600;
/** Knative's sidecar, whose lines are left out unless `system=true`. */
export const SYSTEM_CONTAINER = 'queue-proxy';
/** The app's own container in its Knative pods (the operator names it). */
export const APP_CONTAINER = 'app';

/** `?follow=&tailLines=&sinceSeconds=&system=`, as strings in the URL. */
export const logsQueryShape = {
  follow: booleanParam('follow').optional(),
  tailLines: wholeNumberParam('tailLines', 1, LOG_TAIL_MAX).optional(),
  sinceSeconds: wholeNumberParam(
    'sinceSeconds',
    1,
    LOG_SINCE_MAX_SECONDS,
  ).optional(),
  system: booleanParam('system').optional(),
};
export interface LogsQuery {
  /** Keep the stream open and send lines as they are printed. */
  follow?: boolean;
  /** Lines from the end of each instance's log (default 100). */
  tailLines?: number;
  /** Only lines printed in the last this many seconds. */
  sinceSeconds?: number;
  /** Include Knative's queue-proxy lines too. */
  system?: boolean;
}

export const logLineSchema = z
  .object({
    time: z
      .string()
      .meta({ format: 'date-time' })
      .describe('When the container printed it'),
    instance: z.string().describe('The instance (pod) that printed it'),
    revision: z.string().describe('The revision the instance runs'),
    container: z
      .string()
      .describe(
        `The container: ${APP_CONTAINER} (the app's), or ${SYSTEM_CONTAINER} (Knative's, with system=true)`,
      ),
    text: z.string(),
  })
  .strict();
export type LogLine = z.infer<typeof logLineSchema>;

/** One event of the stream, by its SSE `event:` name. */
export type LogStreamEvent =
  | { type: 'line'; line: LogLine }
  /** Something to tell the reader: no instance runs, one started or stopped. */
  | { type: 'notice'; message: string }
  /** The stream failed; it ends after this. */
  | { type: 'error'; message: string }
  /** Not following: every line was sent. */
  | { type: 'end' };

/** The SSE frame of one event. */
export function logEventFrame(event: LogStreamEvent): string {
  const { type, ...data } = event;
  const payload = type === 'line' ? (data as { line: LogLine }).line : data;
  return `event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/**
 * Reads a Server-Sent-Events body of the logs route, calling `onEvent` per
 * event (comments, such as the keep-alives, are skipped); resolves when
 * the stream ends.
 */
export async function readLogStream(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: LogStreamEvent) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = '';
  const dispatch = (frame: string) => {
    let type = 'message';
    const data: string[] = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    if (!data.length) return;
    const payload = JSON.parse(data.join('\n'));
    if (type === 'line') onEvent({ type, line: payload });
    else if (type === 'notice' || type === 'error') {
      onEvent({ type, message: String(payload.message) });
    } else if (type === 'end') onEvent({ type });
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let at = buffer.indexOf('\n\n');
    while (at >= 0) {
      dispatch(buffer.slice(0, at));
      buffer = buffer.slice(at + 2);
      at = buffer.indexOf('\n\n');
    }
  }
  if (buffer.trim()) dispatch(buffer);
}
