/**
 * `{{headers.x-name}}`, `{{user.name}}`, `{{user.username}}` placeholders in MCP server
 * configs (url, headers, args, env), resolved per request (`$headers.x-name`, the reference's
 * MCP-Connect form, is accepted too). Header names match
 * case-insensitively. An unknown or unresolvable placeholder is an error naming the
 * placeholder (never its would-be value); openToolset turns it into a warning for that
 * server and skips it.
 */
import type { AuthUser } from '../api/auth.js';
import type { MCPServerConfig } from './schemas.js';

export class PlaceholderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlaceholderError';
  }
}

export interface PlaceholderScope {
  headers: Record<string, string> | null;
  user: Pick<AuthUser, 'name' | 'username'>;
}

const PATTERN = /\{\{\s*([A-Za-z]+)\.([A-Za-z0-9_.-]+)\s*\}\}/g;
/** MCP-Connect's syntax in reference configs: `$headers.x-tenant-id` (same meaning as `{{headers.x-tenant-id}}`). */
const CONNECT_PATTERN = /\$headers\.([A-Za-z0-9_-]+)/g;

export function resolveString(s: string, scope: PlaceholderScope, where: string): string {
  return s.replace(CONNECT_PATTERN, (_, name: string) => `{{headers.${name}}}`).replace(PATTERN, (whole, kind: string, key: string) => {
    const k = kind.toLowerCase();
    if (k === 'headers') {
      const name = key.toLowerCase();
      const value = scope.headers?.[name];
      if (value === undefined) {
        throw new PlaceholderError(
          scope.headers
            ? `${where}: placeholder {{headers.${name}}} has no value: the request did not send header '${name}' (or it is blocklisted)`
            : `${where}: placeholder {{headers.${name}}} needs propagated headers: call with propagate_headers: true and send '${name}'`,
        );
      }
      return value;
    }
    if (k === 'user') {
      const field = key.toLowerCase();
      if (field === 'name') return scope.user.name;
      if (field === 'username') return scope.user.username;
      throw new PlaceholderError(`${where}: unknown placeholder ${whole} (supported: {{user.name}}, {{user.username}}, {{headers.<x-name>}})`);
    }
    throw new PlaceholderError(`${where}: unknown placeholder ${whole} (supported: {{user.name}}, {{user.username}}, {{headers.<x-name>}})`);
  });
}

function resolveMap(m: Record<string, string>, scope: PlaceholderScope, where: string): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, resolveString(v, scope, `${where}.${k}`)]));
}

/** The config with every placeholder in url, headers, args and env replaced. */
export function resolveConfig(c: MCPServerConfig, scope: PlaceholderScope): MCPServerConfig {
  return {
    ...c,
    url: c.url ? resolveString(c.url, scope, 'url') : c.url,
    headers: resolveMap(c.headers, scope, 'headers'),
    args: c.args.map((a, i) => resolveString(a, scope, `args[${i}]`)),
    env: resolveMap(c.env, scope, 'env'),
  };
}
