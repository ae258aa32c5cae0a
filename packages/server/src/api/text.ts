/**
 * Text hygiene at the edge: NUL characters and invalid Unicode (lone UTF-16 surrogates, bytes that
 * are not UTF-8) never reach the domain or the database. Checked once per request: JSON bodies as
 * they are parsed (app.ts), path and query parameters before validation (register.ts).
 */
import { ApiError } from './errors.js';
import { formatIssuePath } from './error-handler.js';

const HELP = 'Send text as valid UTF-8 without NUL (\\u0000) characters.';

function invalid(where: string, what: string): ApiError {
  const msg = `${what}`;
  return new ApiError(422, `${where}: ${msg}`, [{ loc: where, msg, type: 'invalid_text' }], HELP);
}

function problem(s: string): string | null {
  if (s.includes('\0')) return 'must not contain NUL characters';
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) return 'contains invalid Unicode (a lone surrogate)';
  return null;
}

/**
 * The first string (key or value) in `value` with a NUL or a lone surrogate, as a 422; null when
 * all text is clean. `root` names the location for messages ('path', 'query', or '' for a body).
 */
export function checkText(value: unknown, root = ''): ApiError | null {
  const path: PropertyKey[] = root ? [root] : [];
  const walk = (v: unknown): ApiError | null => {
    if (typeof v === 'string') {
      const p = problem(v);
      return p ? invalid(formatIssuePath(path), p) : null;
    }
    if (!v || typeof v !== 'object') return null;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        const e = walk(v[i]);
        path.pop();
        if (e) return e;
      }
      return null;
    }
    for (const [k, item] of Object.entries(v)) {
      path.push(k);
      const e = problem(k) ? invalid(formatIssuePath(path), `key ${problem(k)}`) : walk(item);
      path.pop();
      if (e) return e;
    }
    return null;
  };
  return walk(value);
}

/**
 * JSON text can only carry a NUL or a lone surrogate as a `\u` escape (raw ones are invalid JSON
 * or invalid UTF-8), so most bodies are cleared by one scan of their text, without a walk.
 */
export function mayHoldBadText(json: string): boolean {
  return json.includes('\\u') && /\\u(0000|[dD][89abAB])/.test(json);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a request body, refusing bytes that are not UTF-8 (422) instead of replacing them. */
export function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new ApiError(422, 'body: is not valid UTF-8 text', [{ loc: 'body', msg: 'is not valid UTF-8 text', type: 'invalid_text' }], HELP);
  }
}
