/**
 * `paved`, the command-line tool of Paved: `run(argv, io)` is the whole
 * tool (bin/paved calls it with the process's arguments and streams).
 *
 * @packageDocumentation
 */
export { run, processIo } from './main';
export { EXIT } from './errors';
export type { ExitCode } from './errors';
export { COMMANDS, helpText, parseCommandLine } from './args';
export { configPath } from './config';
