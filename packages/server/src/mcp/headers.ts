/**
 * Header propagation (reference §5.1, API-CONTRACT "Header propagation"): which request
 * headers may travel to MCP servers. Callers decide *whether* (`propagate_headers: true`);
 * this decides *which*. Values are never logged — only names.
 */
import { badRequest } from '../api/errors.js';

export interface PropagationLimits {
  /** Lower-case names; a trailing `*` matches any name with that prefix. */
  blocklist: string[];
  maxCount: number;
  maxBytes: number;
}

export function limitsFromConfig(cfg: {
  forwardedHeadersBlocklist: string[];
  forwardedHeadersMaxCount: number;
  forwardedHeadersMaxBytes: number;
}): PropagationLimits {
  return { blocklist: cfg.forwardedHeadersBlocklist, maxCount: cfg.forwardedHeadersMaxCount, maxBytes: cfg.forwardedHeadersMaxBytes };
}

export function isBlockedHeader(name: string, blocklist: string[]): boolean {
  const n = name.toLowerCase();
  return blocklist.some((raw) => {
    const b = raw.trim().toLowerCase();
    if (!b) return false;
    return b.endsWith('*') ? n.startsWith(b.slice(0, -1)) : n === b;
  });
}

/**
 * Every `x-*` request header (case-insensitive) minus the blocklist, names lower-cased.
 * Repeated headers are joined with ", ". Empty → null. More than maxCount headers, or more
 * than maxBytes in total (name + value, UTF-8) → 400 naming the limit.
 */
export function extractPropagatedHeaders(
  headers: Record<string, string | string[] | undefined>,
  limits: PropagationLimits,
): Record<string, string> | null {
  const out: Record<string, string> = {};
  let count = 0;
  let bytes = 0;
  for (const [rawName, rawValue] of Object.entries(headers)) {
    if (rawValue === undefined) continue;
    const name = rawName.toLowerCase();
    if (!name.startsWith('x-') || isBlockedHeader(name, limits.blocklist)) continue;
    const value = Array.isArray(rawValue) ? rawValue.join(', ') : String(rawValue);
    if (!(name in out)) count += 1;
    out[name] = name in out ? `${out[name]}, ${value}` : value;
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
    if (count > limits.maxCount) {
      throw badRequest(
        'Too many headers to propagate',
        `At most ${limits.maxCount} X-* headers can be propagated to MCP servers (limit CODEMIE_FORWARDED_HEADERS_MAX_COUNT).`,
        'Send fewer X-* headers, or set propagate_headers to false.',
      );
    }
    if (bytes > limits.maxBytes) {
      throw badRequest(
        'Propagated headers too large',
        `X-* headers propagated to MCP servers may total at most ${limits.maxBytes} bytes (limit CODEMIE_FORWARDED_HEADERS_MAX_BYTES).`,
        'Send smaller X-* headers, or set propagate_headers to false.',
      );
    }
  }
  return count === 0 ? null : out;
}
