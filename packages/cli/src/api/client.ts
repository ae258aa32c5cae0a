/** A `codemie-sdk` client for the current profile, and SDK errors turned into one-line CLI errors. */
import type { Command } from 'commander';
import { CodeMieApiError, CodeMieClient, CodeMieError } from 'codemie-sdk';
import { CliError } from '../errors.js';
import { loadProfile } from './profiles.js';
import { accessToken, NOT_LOGGED_IN } from './tokens.js';

export async function connect(profileName?: string): Promise<CodeMieClient> {
  const { name, profile } = loadProfile(profileName);
  const token = await accessToken(name, profile);
  return new CodeMieClient({ codemie_api_domain: profile.server, jwt_token: token });
}

/** The client for a command's `--profile` option (set on the command or its group). */
export function connectFor(cmd: Command): Promise<CodeMieClient> {
  return connect(cmd.optsWithGlobals().profile as string | undefined);
}

/** Maps an error from the SDK to a CliError: 401 → not logged in, 404 → exit 3, 400/422 → exit 2. */
export function toCliError(err: unknown): unknown {
  if (err instanceof CliError) return err;
  if (err instanceof CodeMieApiError) {
    if (err.status === 401) return new CliError(NOT_LOGGED_IN, 1);
    const msg = err.message || `HTTP ${err.status}`;
    if (err.status === 404) return new CliError(msg, 3);
    if (err.status === 400 || err.status === 422) {
      const details = typeof err.details === 'string' && err.details && !msg.includes(err.details) ? `: ${err.details}` : '';
      return new CliError(`${msg}${details}`, 2);
    }
    if (err.status === 403) return new CliError(`forbidden: ${msg}`, 1);
    return new CliError(msg, 1);
  }
  if (err instanceof CodeMieError) {
    const cause = (err as { cause?: { cause?: { code?: string }; code?: string } }).cause;
    const code = cause?.cause?.code ?? cause?.code;
    return new CliError(code ? `${err.message} (${code})` : err.message, 1);
  }
  return err;
}

/** Wraps a commander action so SDK errors become CliErrors. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      throw toCliError(err);
    }
  };
}
