import '@testing-library/jest-dom';
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
