import '@testing-library/jest-dom';
import { configure } from '@testing-library/react';
// Node's own timers, for the backend these tests run (see below).
// eslint-disable-next-line no-restricted-imports
import timers from 'timers';

/*
 * The component tests run the real Paved backend in this process (jsdom's
 * window is the global). Backstage's jsdom environment already gives it
 * Node's fetch, Request, Response, streams and TextEncoder; its timers are
 * still jsdom's, whose handles are numbers, while the backend (and the
 * libraries under it) keep timers from holding the process open with
 * `setTimeout(...).unref()`: "setTimeout(...).unref is not a function", a
 * 500 on every write. Node's timers work for React and Testing Library as
 * well, so every test here uses them.
 */
Object.assign(globalThis, {
  setTimeout: timers.setTimeout,
  clearTimeout: timers.clearTimeout,
  setInterval: timers.setInterval,
  clearInterval: timers.clearInterval,
  setImmediate: timers.setImmediate,
  clearImmediate: timers.clearImmediate,
});

/*
 * jsdom does no layout: every element measures 0 × 0, and Backstage's
 * LogViewer (react-virtualized-auto-sizer inside) renders no line into a
 * box of no size. An element whose inline style gives it a height in
 * pixels (the log view's box) measures that height here, and 1024 px wide;
 * every other element still measures what jsdom says.
 */
const jsdomRect = Element.prototype.getBoundingClientRect;
Element.prototype.getBoundingClientRect = function getBoundingClientRect(
  this: Element,
) {
  const height = /^(\d+)px$/.exec((this as HTMLElement).style?.height ?? '');
  if (!height) return jsdomRect.call(this);
  const h = Number(height[1]);
  const w = 1024;
  return {
    x: 0,
    y: 0,
    top: 0,
    left: 0,
    width: w,
    height: h,
    right: w,
    bottom: h,
    toJSON: () => ({}),
  } as DOMRect;
};

/*
 * Every answer comes from a real backend (and often a real kube-apiserver)
 * in this process, which on a loaded machine (CI, other suites on the same
 * node) takes more than Testing Library's default second to arrive; findBy
 * and waitFor wait up to 10 s before they fail.
 */
configure({ asyncUtilTimeout: 10_000 });
