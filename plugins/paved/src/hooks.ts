import { useEffect } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { useApi } from '@backstage/frontend-plugin-api';
import { pavedApiRef, PavedApi } from './api';

/** How often open pages refresh the status the cluster reports. */
export const STATUS_POLL_INTERVAL_MS = 3000;

/**
 * Loads something from the Paved API and reloads it every few seconds while
 * the component is mounted, so status changes show without a page reload.
 * Keeps showing the last value while a reload is in flight.
 */
export function usePolledPaved<T>(
  load: (api: PavedApi) => Promise<T>,
  deps: unknown[],
  intervalMs: number = STATUS_POLL_INTERVAL_MS,
) {
  const api = useApi(pavedApiRef);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const state = useAsyncRetry(() => load(api), [api, ...deps]);
  const { retry } = state;
  useEffect(() => {
    if (intervalMs <= 0) return undefined;
    const timer = setInterval(retry, intervalMs);
    return () => clearInterval(timer);
  }, [retry, intervalMs]);
  return state;
}
