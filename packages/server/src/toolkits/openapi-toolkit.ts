/**
 * The OpenAPI toolkit (reference codemie_tools/open_api): `open_api_spec` hands the model the
 * spec from the user's OpenAPI credentials, `open_api` makes one HTTP request. A request goes out
 * only when its host is on the administrator's allow-list (CODEMIE_OPENAPI_ALLOWED_HOSTS) and,
 * when the spec lists `servers`, under one of them; redirects are not followed; the answer is read
 * up to a size limit, within a timeout. The credentials' API key (or basic auth) is added as the
 * reference does (`Authorization`, or `auth_header_name`).
 */
import { parse as parseYaml } from 'yaml';
import { ToolFailure, type BuiltinTool, type BuiltinToolkit, type Credentials } from './types.js';

export interface OpenApiOptions {
  allowedHosts: string[];
  maxResponseBytes: number;
  maxSpecBytes: number;
  timeoutMs: number;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/** `host`, `host:port` or `*.domain` entries against a URL. */
export function hostAllowed(url: URL, allowed: string[]): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowed.some((entry) => {
    const e = entry.trim().toLowerCase();
    if (!e) return false;
    const m = /^(.*?)(?::(\d+))?$/.exec(e.replace(/^\[|\](?=:|$)/g, ''))!;
    const [h, p] = [m[1]!, m[2]];
    if (p && p !== port) return false;
    if (h.startsWith('*.')) return host.endsWith(h.slice(1)) && host !== h.slice(2);
    return host === h;
  });
}

function specText(c: Credentials | null): string {
  const v = c?.spec ?? c?.openapi_spec;
  return typeof v === 'string' ? v : v && typeof v === 'object' ? JSON.stringify(v) : '';
}

/** The servers the spec declares (absolute URLs), relative ones resolved against nothing are skipped. */
function specServers(spec: string): string[] {
  let doc: unknown;
  try {
    doc = spec.trim().startsWith('{') ? JSON.parse(spec) : parseYaml(spec);
  } catch {
    return [];
  }
  const d = doc as { servers?: Array<{ url?: unknown }>; host?: unknown; basePath?: unknown; schemes?: unknown };
  const out: string[] = [];
  for (const s of Array.isArray(d?.servers) ? d.servers : []) if (typeof s?.url === 'string' && /^https?:\/\//i.test(s.url)) out.push(s.url);
  // Swagger 2.0
  if (typeof d?.host === 'string') {
    const schemes = Array.isArray(d.schemes) && d.schemes.length ? (d.schemes as string[]) : ['https'];
    for (const sc of schemes) out.push(`${sc}://${d.host}${typeof d.basePath === 'string' ? d.basePath : ''}`);
  }
  return out;
}

function underServer(url: URL, servers: string[]): boolean {
  return servers.some((s) => {
    try {
      const base = new URL(s);
      if (base.origin !== url.origin) return false;
      const prefix = base.pathname.replace(/\/+$/, '');
      return !prefix || url.pathname === prefix || url.pathname.startsWith(`${prefix}/`);
    } catch {
      return false;
    }
  });
}

/** A JSON object, or `k=v&k2=v2` / `k: v` lines, as the model sends headers and query fields. */
function parseDict(v: unknown, what: string): Record<string, string> {
  if (v == null || v === '') return {};
  if (typeof v === 'object' && !Array.isArray(v))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : JSON.stringify(x)]));
  if (typeof v !== 'string') throw new ToolFailure(`'${what}' must be a JSON object or a string`);
  const t = v.trim();
  if (t.startsWith('{')) {
    try {
      return parseDict(JSON.parse(t) as unknown, what);
    } catch (err) {
      if (err instanceof ToolFailure) throw err;
      throw new ToolFailure(`'${what}' is not valid JSON`);
    }
  }
  const out: Record<string, string> = {};
  for (const part of t.split(/[&\n]/)) {
    const m = /^\s*([^=:]+?)\s*[=:]\s*(.*?)\s*$/.exec(part);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

function pick(data: unknown, fields: string): unknown {
  const out: Record<string, unknown> = {};
  for (const f of fields
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    let cur: unknown = data;
    for (const part of f.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
    if (cur !== undefined) out[f] = cur;
  }
  return out;
}

async function readLimited(res: Response, max: number): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.length > max) {
      chunks.push(value.subarray(0, max - size));
      size = max;
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
    size += value.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}

export function openApiToolkit(o: OpenApiOptions): BuiltinToolkit {
  const credsSchema = {
    spec: { type: 'str', required: true },
    api_key: { type: 'str', required: false },
    is_basic_auth: { type: 'bool', required: false },
    username: { type: 'str', required: false },
    auth_header_name: { type: 'str', required: false },
    timeout: { type: 'int', required: false },
  };
  const invoke: BuiltinTool = {
    name: 'open_api',
    label: 'Invoke external API',
    description: [
      'Make one HTTP request to the REST API described by the OpenAPI specification (get it with open_api_spec first).',
      'Give the method, the full URL, and optionally headers and query fields (JSON objects as strings), a body (a JSON string) and filter_fields',
      '(comma-separated dot paths to keep from a JSON answer). Authentication is added for you.',
    ].join(' '),
    userDescription: 'Calls a REST API described by an OpenAPI specification (only hosts the administrator allows).',
    inputSchema: {
      type: 'object',
      properties: {
        method: { type: 'string', description: 'HTTP method: GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS' },
        url: { type: 'string', description: 'The full URL of the request' },
        headers: { type: 'string', description: 'Request headers as a JSON object string' },
        fields: { type: 'string', description: 'Query parameters as a JSON object string' },
        body: { type: 'string', description: 'The request body (a JSON string), empty for none' },
        filter_fields: { type: 'string', description: 'Comma-separated dot paths of JSON fields to return, e.g. "data.items,total"' },
      },
      required: ['method', 'url'],
    },
    credentialType: 'OpenAPI',
    credsSchema,
    async run(args, ctx) {
      const c = await ctx.credentials();
      const spec = specText(c);
      if (!spec) throw new ToolFailure('No OpenAPI specification provided. Please configure the OpenAPI specification in the tool settings.');
      const method = String(args.method ?? '').toUpperCase();
      if (!METHODS.has(method)) throw new ToolFailure(`Unsupported HTTP method '${String(args.method)}'`);
      let url: URL;
      try {
        url = new URL(String(args.url ?? ''));
      } catch {
        throw new ToolFailure(`'${String(args.url)}' is not an absolute URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ToolFailure('Only http and https URLs can be called');
      if (url.username || url.password) throw new ToolFailure('URLs with credentials in them are not allowed');
      if (!hostAllowed(url, o.allowedHosts)) {
        throw new ToolFailure(`Host '${url.host}' is not on the allow-list of the OpenAPI toolkit (CODEMIE_OPENAPI_ALLOWED_HOSTS); ask your administrator`);
      }
      const servers = specServers(spec);
      if (servers.length && !underServer(url, servers))
        throw new ToolFailure(`'${url.origin}${url.pathname}' is not under a server of the specification (${servers.join(', ')})`);
      for (const [k, v] of Object.entries(parseDict(args.fields, 'fields'))) url.searchParams.append(k, v);
      const headers = new Headers();
      for (const [k, v] of Object.entries(parseDict(args.headers, 'headers'))) {
        if (/^(host|content-length|connection|transfer-encoding)$/i.test(k)) continue;
        try {
          headers.set(k, v);
        } catch {
          throw new ToolFailure(`Invalid header '${k}'`);
        }
      }
      const apiKey = typeof (c?.api_key ?? c?.openapi_api_key) === 'string' ? String(c?.api_key ?? c?.openapi_api_key) : '';
      if (apiKey.trim()) {
        const user = c?.username ?? c?.openapi_username;
        const value = c?.is_basic_auth === true && user ? `Basic ${Buffer.from(`${String(user)}:${apiKey}`).toString('base64')}` : apiKey;
        headers.set(typeof c?.auth_header_name === 'string' && c.auth_header_name ? c.auth_header_name : 'Authorization', value);
      }
      const body = typeof args.body === 'string' && args.body && method !== 'GET' && method !== 'HEAD' ? args.body : undefined;
      if (body && !headers.has('content-type')) headers.set('content-type', 'application/json');
      const own = Number(c?.timeout);
      const timeoutMs = Number.isFinite(own) && own > 0 ? Math.min(own * 1000, o.timeoutMs) : o.timeoutMs;
      let res: Response;
      try {
        res = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]) });
      } catch (err) {
        const e = err as Error;
        if (e.name === 'TimeoutError') throw new ToolFailure(`Timeout Error: the request to ${url.origin}${url.pathname} timed out after ${timeoutMs} ms`);
        throw new ToolFailure(
          `Connection Error: failed to establish a connection to ${url.origin}${url.pathname}${e.cause ? ` (${(e.cause as Error).message})` : ''}`,
        );
      }
      const { text, truncated } = await readLimited(res, o.maxResponseBytes);
      const note = truncated ? `\n[response truncated at ${o.maxResponseBytes} bytes]` : '';
      if (res.status >= 300 && res.status < 400)
        throw new ToolFailure(`HTTP ${res.status}: redirects are not followed (to ${res.headers.get('location') ?? 'unknown'})`);
      if (!res.ok) throw new ToolFailure(`HTTP Error ${res.status}: the server returned an error: ${text}${note}`);
      const filter = typeof args.filter_fields === 'string' ? args.filter_fields.trim() : '';
      if (filter && (res.headers.get('content-type') ?? '').startsWith('application/json') && !truncated) {
        try {
          return JSON.stringify(pick(JSON.parse(text), filter));
        } catch {
          /* not JSON after all: the raw text */
        }
      }
      return `${text}${note}`;
    },
  };
  const getSpec: BuiltinTool = {
    name: 'open_api_spec',
    label: 'Get Open API spec',
    description: 'Get the OpenAPI specification of the API this assistant can call: its servers, paths, parameters and schemas.',
    userDescription: 'Returns the OpenAPI specification configured for the assistant.',
    inputSchema: { type: 'object', properties: { query: { type: 'string', description: "The user's initial request" } } },
    readOnly: true,
    credentialType: 'OpenAPI',
    credsSchema,
    async run(_args, ctx) {
      const spec = specText(await ctx.credentials());
      if (!spec) return 'No OpenAPI specification provided. Please configure the OpenAPI specification in the tool settings.';
      if (Buffer.byteLength(spec) > o.maxSpecBytes) throw new ToolFailure(`The OpenAPI specification is larger than ${o.maxSpecBytes} bytes`);
      return spec;
    },
  };
  return { toolkit: 'OpenAPI', label: 'Open API', settingsConfig: true, tools: [invoke, getSpec] };
}
