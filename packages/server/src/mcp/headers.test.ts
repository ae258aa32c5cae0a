import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors.js';
import { loadConfig } from '../config/config.js';
import { extractPropagatedHeaders, isBlockedHeader, limitsFromConfig } from './headers.js';
import { PlaceholderError, resolveConfig, resolveString } from './placeholders.js';
import { mcpServerConfigSchema } from './schemas.js';

const limits = limitsFromConfig(loadConfig({}));

describe('extractPropagatedHeaders', () => {
  it('keeps x-* headers (case-insensitive, lower-cased) and drops the default blocklist', () => {
    const got = extractPropagatedHeaders(
      {
        'X-Tenant-ID': 'acme-corp',
        'x-correlation-id': 'trace-123',
        'X-User-Context': 'engineering-team',
        authorization: 'Bearer secret',
        cookie: 'a=b',
        'x-api-key': 'k',
        'x-auth-token': 't',
        'x-auth-request-access-token': 'tok',
        'x-internal-secret': 's',
        'x-forwarded-for': '1.2.3.4',
        'x-real-ip': '1.2.3.4',
        'content-type': 'application/json',
        'x-multi': ['a', 'b'],
      },
      limits,
    );
    expect(got).toEqual({
      'x-tenant-id': 'acme-corp',
      'x-correlation-id': 'trace-123',
      'x-user-context': 'engineering-team',
      'x-multi': 'a, b',
    });
  });

  it('returns null when nothing is left', () => {
    expect(extractPropagatedHeaders({ authorization: 'x', 'x-api-key': 'y', accept: '*/*' }, limits)).toBeNull();
  });

  it('supports a configured blocklist with wildcard suffixes', () => {
    const cfg = loadConfig({ CODEMIE_FORWARDED_HEADERS_BLOCKLIST: 'x-secret-*, X-Drop' });
    const l = limitsFromConfig(cfg);
    expect(isBlockedHeader('X-Secret-Anything', l.blocklist)).toBe(true);
    expect(isBlockedHeader('x-drop', l.blocklist)).toBe(true);
    expect(isBlockedHeader('x-dropped', l.blocklist)).toBe(false);
    // authorization is not x-* anyway; x-api-key is no longer blocked with this list
    expect(extractPropagatedHeaders({ 'x-secret-a': '1', 'x-drop': '2', 'x-api-key': '3' }, l)).toEqual({ 'x-api-key': '3' });
  });

  it('too many headers → 400 naming the count limit', () => {
    const headers = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`x-h${i}`, 'v']));
    let err: unknown;
    try {
      extractPropagatedHeaders(headers, limits);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(400);
    expect((err as ApiError).message).toBe('Too many headers to propagate');
    expect(String((err as ApiError).details)).toContain('At most 32');
    expect(String((err as ApiError).details)).toContain('CODEMIE_FORWARDED_HEADERS_MAX_COUNT');
    // exactly at the limit is fine
    expect(Object.keys(extractPropagatedHeaders(Object.fromEntries(Object.entries(headers).slice(0, 32)), limits)!)).toHaveLength(32);
  });

  it('too large → 400 naming the size limit', () => {
    let err: unknown;
    try {
      extractPropagatedHeaders({ 'x-big': 'v'.repeat(9000) }, limits);
    } catch (e) {
      err = e;
    }
    expect((err as ApiError).status).toBe(400);
    expect((err as ApiError).message).toBe('Propagated headers too large');
    expect(String((err as ApiError).details)).toContain('8192 bytes');
  });
});

describe('placeholders', () => {
  const scope = { headers: { 'x-tenant-id': 'acme' }, user: { name: 'Ann Lee', username: 'ann' } };

  it('resolves {{headers.X-Name}} case-insensitively and {{user.*}}', () => {
    expect(resolveString('t={{headers.X-Tenant-ID}}/{{ user.username }}/{{user.name}}', scope, 'url')).toBe('t=acme/ann/Ann Lee');
  });

  it("accepts the reference's MCP-Connect form $headers.<name>", () => {
    expect(resolveString('Bearer $headers.X-Tenant-ID!', scope, 'headers.A')).toBe('Bearer acme!');
    expect(() => resolveString('$headers.x-none', scope, 'args[0]')).toThrow(/args\[0\]: placeholder \{\{headers.x-none\}\}/);
  });

  it('resolves url, headers, args and env of a config', () => {
    const c = mcpServerConfigSchema.parse({
      url: 'http://h/{{headers.x-tenant-id}}/mcp',
      headers: { 'X-Tenant': '{{headers.x-tenant-id}}', 'X-User': '{{user.username}}' },
    });
    const r = resolveConfig(c, scope);
    expect(r.url).toBe('http://h/acme/mcp');
    expect(r.headers).toEqual({ 'X-Tenant': 'acme', 'X-User': 'ann' });
    const s = resolveConfig(mcpServerConfigSchema.parse({ command: 'npx', args: ['--t={{headers.x-tenant-id}}'], env: { T: '{{headers.x-tenant-id}}' } }), scope);
    expect(s.args).toEqual(['--t=acme']);
    expect(s.env).toEqual({ T: 'acme' });
  });

  it('a missing header or unknown placeholder is a clear error naming it', () => {
    expect(() => resolveString('{{headers.x-region}}', scope, 'headers.X-Region')).toThrow(PlaceholderError);
    expect(() => resolveString('{{headers.x-region}}', scope, 'headers.X-Region')).toThrow(/headers.X-Region: placeholder \{\{headers.x-region\}\} has no value/);
    expect(() => resolveString('{{headers.x-region}}', { ...scope, headers: null }, 'url')).toThrow(/propagate_headers: true/);
    expect(() => resolveString('{{user.token}}', scope, 'url')).toThrow(/unknown placeholder \{\{user.token\}\}/);
  });
});

describe('MCPServerConfig schema', () => {
  it('needs exactly one of command or url', () => {
    const none = mcpServerConfigSchema.safeParse({ args: [] });
    expect(none.success).toBe(false);
    expect(none.error!.issues[0]).toMatchObject({ path: ['command'], message: "exactly one of 'command' or 'url' must be set" });
    const both = mcpServerConfigSchema.safeParse({ command: 'npx', url: 'http://x' });
    expect(both.error!.issues[0]).toMatchObject({ path: ['url'] });
  });

  it('allows only listed stdio commands', () => {
    expect(mcpServerConfigSchema.safeParse({ command: 'npx', args: ['-y', 'x'] }).success).toBe(true);
    for (const bad of ['bash', '/bin/sh', './npx', 'npx -y', '../node']) {
      const r = mcpServerConfigSchema.safeParse({ command: bad });
      expect(r.success, bad).toBe(false);
      expect(r.error!.issues[0].path).toEqual(['command']);
      expect(r.error!.issues[0].message).toContain('is not allowed');
    }
  });

  it('fills the reference defaults', () => {
    expect(mcpServerConfigSchema.parse({ url: 'https://mcp.example.com/mcp' })).toMatchObject({
      args: [],
      env: {},
      headers: {},
      single_usage: false,
    });
  });
});
