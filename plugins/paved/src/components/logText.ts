/**
 * What the log view shows, apart from React: each streamed line as one line
 * of text for Backstage's LogViewer (which renders ANSI colours), and the
 * buffer that keeps lines while following is paused.
 */
import { LogLine, SYSTEM_CONTAINER } from '@paved/plugin-paved-common';

/** Most lines the view keeps; older ones are dropped, oldest first. */
export const MAX_LOG_LINES = 5000;

const DIM = '\u001b[2m';
const CYAN = '\u001b[36m';
const YELLOW = '\u001b[33m';
const RESET = '\u001b[0m';

/** Escape sequences of the app's own text are kept (LogViewer renders colour). */
function clean(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/** `HH:MM:SS.mmm` of an ISO time, in the browser's time zone. */
export function clockTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(
    date.getSeconds(),
  )}.${pad(date.getMilliseconds(), 3)}`;
}

/**
 * The instance's own part of its pod name: Knative names pods
 * `<revision>-deployment-<replicaset>-<pod>`, so after the revision the
 * rest tells instances apart; other names are kept whole.
 */
export function shortInstance(line: Pick<LogLine, 'instance' | 'revision'>) {
  const prefix = `${line.revision}-deployment-`;
  return line.instance.startsWith(prefix) &&
    line.instance.length > prefix.length
    ? line.instance.slice(prefix.length)
    : line.instance;
}

/** One streamed line: time, revision, instance, the system marker, the text. */
export function formatLogLine(line: LogLine): string {
  const system =
    line.container === SYSTEM_CONTAINER
      ? `${YELLOW}[${SYSTEM_CONTAINER}]${RESET} `
      : '';
  return `${DIM}${clockTime(line.time)}${RESET} ${CYAN}${
    line.revision
  }${RESET} ${DIM}${shortInstance(line)}${RESET} ${system}${clean(line.text)}`;
}

/** A notice of the stream (no instance running, one started) as a line of its own. */
export function formatNotice(message: string, at: Date = new Date()): string {
  return `${DIM}${clockTime(at.toISOString())} -- ${message}${RESET}`;
}

/**
 * The lines of the view and, while paused, the lines held back: following
 * paused keeps every line that arrives (up to {@link MAX_LOG_LINES}) without
 * showing it, and resuming appends them in order.
 */
export class LogBuffer {
  private shownLines: string[] = [];
  private heldLines: string[] = [];
  private isPaused = false;

  constructor(private readonly max: number = MAX_LOG_LINES) {}

  get shown(): readonly string[] {
    return this.shownLines;
  }
  /** How many lines arrived while paused and are not shown yet. */
  get held(): number {
    return this.heldLines.length;
  }
  get paused(): boolean {
    return this.isPaused;
  }

  /** Adds lines: shown when following, held when paused. */
  add(lines: string[]): void {
    if (this.isPaused)
      this.heldLines = this.trim([...this.heldLines, ...lines]);
    else this.shownLines = this.trim([...this.shownLines, ...lines]);
  }

  pause(): void {
    this.isPaused = true;
  }

  /** Shows what was held, after what is shown. */
  resume(): void {
    this.isPaused = false;
    this.shownLines = this.trim([...this.shownLines, ...this.heldLines]);
    this.heldLines = [];
  }

  clear(): void {
    this.shownLines = [];
    this.heldLines = [];
  }

  private trim(lines: string[]): string[] {
    return lines.length > this.max
      ? lines.slice(lines.length - this.max)
      : lines;
  }
}
