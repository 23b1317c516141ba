import { useCallback, useEffect, useRef, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { useApi } from '@backstage/frontend-plugin-api';
import type { Page } from '@paved/plugin-paved-common';
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
