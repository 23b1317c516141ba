import type { Response } from 'express';
import { LogStreamEvent, logEventFrame } from '@paved/plugin-paved-common';
import type { LogSession } from '../services/LogService';

/** A comment line this often keeps proxies and load balancers from closing a quiet stream. */
export const KEEP_ALIVE_MS = 15_000;

/**
 * Answers with a Server-Sent-Events stream of `session`'s events: headers
 * that keep proxies from buffering or compressing it (no-transform,
 * X-Accel-Buffering), a keep-alive comment every {@link KEEP_ALIVE_MS},
 * each event flushed as it comes; the session is stopped when the client
 * goes. A failure once streaming is an `error` event, then the end.
 */
export async function streamEvents(
  res: Response,
  session: LogSession,
  onError: (error: unknown) => string,
): Promise<void> {
  res.status(200);
  res.set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  const stop = new AbortController();
  const flush = () => (res as unknown as { flush?: () => void }).flush?.();
  const write = (text: string) => {
    if (stop.signal.aborted || res.writableEnded) return;
    res.write(text);
    flush();
  };
  const send = (event: LogStreamEvent) => write(logEventFrame(event));
  // The response closes when the client goes (the request's own 'close'
  // may come as soon as its empty body is read).
  res.on('close', () => stop.abort());
  write(': stream open\n\n');
  const keepAlive = setInterval(() => write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  try {
    await session.run(send, stop.signal);
  } catch (error) {
    send({ type: 'error', message: onError(error) });
  } finally {
    clearInterval(keepAlive);
    if (!res.writableEnded) res.end();
  }
}
