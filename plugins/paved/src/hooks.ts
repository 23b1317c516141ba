import { useCallback, useEffect, useRef, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { useApi, useApiHolder } from '@backstage/frontend-plugin-api';
import { signalApiRef } from '@backstage/plugin-signals-react';
import type { Page } from '@paved/plugin-paved-common';
import { pavedApiRef, PavedApi } from './api';

/** How often open pages refresh the status the cluster reports, without signals. */
export const STATUS_POLL_INTERVAL_MS = 3000;

/** With signals, polling is only the fallback for a lost message. */
export const SIGNALS_FALLBACK_POLL_INTERVAL_MS = 30_000;

/** How usePolledPaved reloads. */
export interface PollOptions {
  /**
   * Milliseconds between reloads without signals (default 3 s); 0 loads
   * once (and on `retry()`).
   */
  intervalMs?: number;
  /**
   * Signals channels (`@paved/plugin-paved-common`'s signals.ts) whose
   * messages reload at once. With any, and the app running Backstage's
   * signals plugin, polling slows to a 30 s fallback.
   */
  channels?: string[];
}

/**
 * Loads something from the Paved API and reloads it while the component is
 * mounted, so status changes show without a page reload: at once on a
 * Backstage signal of one of `channels`, with a 30 s poll as the fallback
 * for a lost message; every `intervalMs` without signals. A signal that
 * comes while a load is in flight reloads once that load is done. Keeps
 * showing the last value while a reload is in flight.
 */
export function usePolledPaved<T>(
  load: (api: PavedApi) => Promise<T>,
  deps: unknown[],
  options: PollOptions = {},
) {
  const { intervalMs = STATUS_POLL_INTERVAL_MS, channels = [] } = options;
  const api = useApi(pavedApiRef);
  const signals = useApiHolder().get(signalApiRef);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const state = useAsyncRetry(() => load(api), [api, ...deps]);
  const { retry, loading } = state;

  const latest = useRef({ retry, loading, missed: false });
  latest.current.retry = retry;
  latest.current.loading = loading;
  useEffect(() => {
    if (!loading && latest.current.missed) {
      latest.current.missed = false;
      retry();
    }
  }, [loading, retry]);

  const channelKey = channels.join('\n');
  const live = Boolean(signals) && channelKey !== '';
  useEffect(() => {
    if (!signals || channelKey === '') return undefined;
    const onSignal = () => {
      if (latest.current.loading) latest.current.missed = true;
      else latest.current.retry();
    };
    const subscriptions = channelKey
      .split('\n')
      .map(channel => signals.subscribe(channel, onSignal));
    return () => subscriptions.forEach(s => s.unsubscribe());
  }, [signals, channelKey]);

  const every =
    live && intervalMs > 0
      ? Math.max(intervalMs, SIGNALS_FALLBACK_POLL_INTERVAL_MS)
      : intervalMs;
  useEffect(() => {
    if (every <= 0) return undefined;
    const timer = setInterval(retry, every);
    return () => clearInterval(timer);
  }, [retry, every]);
  return state;
}

/** A list loaded a page at a time, newest first: the pages so far, and how to get the next. */
export interface PagedList<T> {
  items: T[];
  /** The first page is on its way. */
  loading: boolean;
  /** A further page is on its way. */
  loadingMore: boolean;
  /** Why the last load failed. */
  error?: Error;
  /** The server said there are older items. */
  hasMore: boolean;
  loadMore(): void;
  /** Loads the first page again (and forgets the rest). */
  refresh(): void;
}

/**
 * Loads a paged list (`{ items, nextCursor }`) of the Paved API: the first
 * page when mounted (and again when `deps` change or on refresh()), the next
 * with loadMore(), appended, until the server gives no `nextCursor`.
 */
export function usePagedPaved<T>(
  load: (api: PavedApi, cursor?: string) => Promise<Page<T>>,
  deps: unknown[],
): PagedList<T> {
  const api = useApi(pavedApiRef);
  const [pages, setPages] = useState<{
    items: T[];
    nextCursor?: string;
    loading: boolean;
    loadingMore: boolean;
    error?: Error;
  }>({ items: [], loading: true, loadingMore: false });
  const [generation, setGeneration] = useState(0);
  // The load that answers counts only while it is still the latest one.
  const latest = useRef(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const loadPage = useCallback(load, [api, ...deps]);

  useEffect(() => {
    const ticket = ++latest.current;
    setPages({ items: [], loading: true, loadingMore: false });
    loadPage(api).then(
      page => {
        if (latest.current !== ticket) return;
        setPages({
          items: page.items,
          nextCursor: page.nextCursor,
          loading: false,
          loadingMore: false,
        });
      },
      error => {
        if (latest.current !== ticket) return;
        setPages({ items: [], loading: false, loadingMore: false, error });
      },
    );
  }, [api, loadPage, generation]);

  const loadMore = useCallback(() => {
    const cursor = pages.nextCursor;
    if (!cursor || pages.loadingMore) return;
    const ticket = latest.current;
    setPages(p => ({ ...p, loadingMore: true, error: undefined }));
    loadPage(api, cursor).then(
      page => {
        if (latest.current !== ticket) return;
        setPages(p => ({
          items: [...p.items, ...page.items],
          nextCursor: page.nextCursor,
          loading: false,
          loadingMore: false,
        }));
      },
      error => {
        if (latest.current !== ticket) return;
        setPages(p => ({ ...p, loadingMore: false, error }));
      },
    );
  }, [api, loadPage, pages.nextCursor, pages.loadingMore]);

  return {
    items: pages.items,
    loading: pages.loading,
    loadingMore: pages.loadingMore,
    error: pages.error,
    hasMore: Boolean(pages.nextCursor),
    loadMore,
    refresh: useCallback(() => setGeneration(g => g + 1), []),
  };
}
