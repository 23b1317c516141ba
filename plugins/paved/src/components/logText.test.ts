import { APP_CONTAINER, LogLine } from '@paved/plugin-paved-common';
import { formatLogLine, LogBuffer, shortInstance } from './logText';

const line = (text: string, container = APP_CONTAINER): LogLine => ({
  time: '2026-12-01T20:00:00.123456789Z',
  instance: 'web-00002-deployment-5d8f7-x2x4k',
  revision: 'web-00002',
  container,
  text,
});

// ANSI colour codes out, to read what the view shows.
// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\u001b\[\d+m/g, '');

describe('formatLogLine', () => {
  it('gives the revision and the instance of each line', () => {
    expect(plain(formatLogLine(line('GET / 200 1.2ms')))).toMatch(
      /^\d\d:\d\d:\d\d\.123 web-00002 5d8f7-x2x4k GET \/ 200 1\.2ms$/,
    );
  });

  it("marks the queue-proxy's lines", () => {
    expect(plain(formatLogLine(line('probe', 'queue-proxy')))).toMatch(
      /web-00002 5d8f7-x2x4k \[queue-proxy\] probe$/,
    );
  });

  it('keeps an instance name that is not a Knative pod name whole', () => {
    expect(
      shortInstance({ instance: 'other-pod', revision: 'web-00002' }),
    ).toBe('other-pod');
  });
});

describe('LogBuffer', () => {
  it('holds lines back while paused and shows them in order on resume', () => {
    const buffer = new LogBuffer();
    buffer.add(['a', 'b']);
    buffer.pause();
    buffer.add(['c']);
    buffer.add(['d']);
    expect(buffer.shown).toEqual(['a', 'b']);
    expect(buffer.held).toBe(2);
    buffer.resume();
    expect(buffer.shown).toEqual(['a', 'b', 'c', 'd']);
    expect(buffer.held).toBe(0);
    expect(buffer.paused).toBe(false);
  });

  it('keeps at most its limit, dropping the oldest lines', () => {
    const buffer = new LogBuffer(3);
    buffer.add(['1', '2']);
    buffer.pause();
    buffer.add(['3', '4', '5', '6']);
    expect(buffer.held).toBe(3);
    buffer.resume();
    expect(buffer.shown).toEqual(['4', '5', '6']);
  });
});
