/**
 * Catalog configs may hold credentials (auth_token, an Authorization header, an API key in env).
 * Responses show them as "********"; an update that sends "********" back keeps the stored value.
 */
export const MASK = '********';

const SENSITIVE = /auth|token|key|secret|password|passwd|cookie|credential/i;

type Cfg = Record<string, unknown> & { auth_token?: unknown; headers?: unknown; env?: unknown };

function maskMap(m: unknown): unknown {
  if (!m || typeof m !== 'object') return m;
  return Object.fromEntries(Object.entries(m as Record<string, unknown>).map(([k, v]) => [k, SENSITIVE.test(k) && v ? MASK : v]));
}

export function maskConfig(c: Cfg | null): Cfg | null {
  if (!c) return c;
  return { ...c, auth_token: c.auth_token ? MASK : c.auth_token, headers: maskMap(c.headers), env: maskMap(c.env) };
}

function unmaskMap(next: unknown, prev: unknown): unknown {
  if (!next || typeof next !== 'object') return next;
  const old = (prev && typeof prev === 'object' ? prev : {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(next as Record<string, unknown>).map(([k, v]) => [k, v === MASK && k in old ? old[k] : v]));
}

/** Puts stored secrets back where an update sent the mask. */
export function unmaskConfig<T extends Cfg>(next: T, prev: Cfg | null): T {
  return {
    ...next,
    auth_token: next.auth_token === MASK ? (prev?.auth_token ?? null) : next.auth_token,
    headers: unmaskMap(next.headers, prev?.headers),
    env: unmaskMap(next.env, prev?.env),
  };
}
