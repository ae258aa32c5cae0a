/**
 * Headers propagated to MCP tools when an execution asks for it (`propagate_headers`): `x-*`
 * request headers minus a blocklist, bounded in count and size. A local stand-in with the
 * contract's defaults until the MCP module's extractPropagatedHeaders is wired in.
 */
import { badRequest } from '../api/errors.js';

const BLOCKED = new Set(['authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token', 'x-auth-request-access-token', 'x-real-ip']);
const BLOCKED_PREFIXES = ['x-internal-', 'x-forwarded-'];
const MAX_COUNT = 50;
const MAX_BYTES = 16 * 1024;

export function extractHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> | null {
  const out: Record<string, string> = {};
  let size = 0;
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (!name.startsWith('x-') || BLOCKED.has(name) || BLOCKED_PREFIXES.some((p) => name.startsWith(p)) || value === undefined) continue;
    const v = Array.isArray(value) ? value.join(', ') : value;
    out[name] = v;
    size += name.length + v.length;
  }
  if (Object.keys(out).length > MAX_COUNT) throw badRequest('Too many headers to propagate', `At most ${MAX_COUNT} X- headers can be propagated.`);
  if (size > MAX_BYTES) throw badRequest('Propagated headers are too large', `X- headers to propagate must total at most ${MAX_BYTES} bytes.`);
  return Object.keys(out).length ? out : null;
}
