/**
 * Where `paved` keeps its sign-in: `$XDG_CONFIG_HOME/paved/config.json`
 * (`~/.config/paved/config.json` without it), readable by the user only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError, EXIT } from './errors';

export const DEFAULT_URL = 'http://localhost:7007';

/** How the saved token was obtained. */
export type AuthMethod = 'token' | 'guest';

export interface StoredConfig {
  /** The backend's base URL the sign-in is for. */
  url?: string;
  auth?: {
    method: AuthMethod;
    token: string;
    /** When the token expires (guest sign-ins); ISO-8601. */
    expiresAt?: string;
    /** Who the token is, when it says (user tokens). */
    identity?: string;
  };
  /** The tenant commands use when --tenant is not given. */
  tenant?: string;
}

export function configPath(env: NodeJS.ProcessEnv): string {
  const base =
    env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME)
      ? env.XDG_CONFIG_HOME
      : path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'paved', 'config.json');
}

export function readConfig(env: NodeJS.ProcessEnv): StoredConfig {
  const file = configPath(env);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(
      `Cannot read ${file}: ${(error as Error).message}`,
      EXIT.failure,
    );
  }
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) throw new Error();
    return parsed as StoredConfig;
  } catch {
    throw new CliError(
      `${file} is not valid JSON`,
      EXIT.failure,
      `Fix it, or delete it and sign in again with \`paved login\`.`,
    );
  }
}

/** Writes the config with mode 0600 (and its folder 0700). */
export function writeConfig(env: NodeJS.ProcessEnv, config: StoredConfig) {
  const file = configPath(env);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, {
    mode: 0o600,
  });
  fs.chmodSync(temp, 0o600);
  fs.renameSync(temp, file);
}
