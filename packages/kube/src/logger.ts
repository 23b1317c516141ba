/** The logging the operator needs; `consoleLogger` writes JSON lines. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const noopLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LEVELS)[number];

export function consoleLogger(
  level: LogLevel = 'info',
  base: Record<string, unknown> = {},
): Logger {
  const min = LEVELS.indexOf(level);
  const write =
    (lvl: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
      if (LEVELS.indexOf(lvl) < min) return;
      const line = JSON.stringify({
        time: new Date().toISOString(),
        level: lvl,
        message,
        ...base,
        ...fields,
      });
      if (lvl === 'error' || lvl === 'warn') process.stderr.write(`${line}\n`);
      else process.stdout.write(`${line}\n`);
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
  };
}
