/**
 * The MCP client layer against REAL MCP servers: the recording server (test/mcp-servers/recording.mjs)
 * over streamable HTTP and stdio, and the published @modelcontextprotocol/server-everything.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadConfig, type Config } from '../src/config/config.js';
import type { AuthUser } from '../src/api/auth.js';
import type { Toolset } from '../src/llm/tool.js';
import { createMcpService, type McpService } from '../src/mcp/service.js';
import { extractPropagatedHeaders, limitsFromConfig } from '../src/mcp/headers.js';
import { mcpServerDetailsSchema, type MCPServerDetailsInput } from '../src/mcp/schemas.js';
import { startTestPlatform } from './helpers.js';
import { startRecordingHttpServer, startRecordingSseServer, startMcpHttpServer, type McpHttpServer } from './mcp-servers/recording.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const RECORDING = path.join(here, 'mcp-servers', 'recording.mjs');
const EVERYTHING = path.resolve(here, '../../../node_modules/@modelcontextprotocol/server-everything/dist/index.js');

const user: AuthUser = {
  id: 'u1',
  username: 'ann',
  name: 'Ann Lee',
  email: 'ann@example.com',
  roles: [],
  projects: ['demo'],
  adminProjects: [],
  isAdmin: false,
  userType: 'regular',
};
const log = pino({ level: 'silent' });

function servers(...list: MCPServerDetailsInput[]) {
  return list.map((s) => mcpServerDetailsSchema.parse(s));
}

function tool(ts: Toolset, name: string) {
  const t = ts.tools.find((x) => x.name === name);
  if (!t) throw new Error(`no tool ${name} in ${ts.tools.map((x) => x.name).join(',')}`);
  return t;
}

const call = (ts: Toolset, name: string, args: Record<string, unknown> = {}) =>
  tool(ts, name).execute(args, { signal: new AbortController().signal, toolCallId: 'c1' });

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const incoming = {
  'X-Tenant-ID': 'acme-corp',
  'X-Correlation-ID': 'trace-123',
  'X-User-Context': 'engineering-team',
  Authorization: 'Bearer user-token',
  Cookie: 'session=abc',
  'X-Api-Key': 'k-123',
  'X-Forwarded-For': '10.0.0.1',
};

describe('MCP client over streamable HTTP (recording server)', () => {
  let http: McpHttpServer;
  let cfg: Config;
  let mcp: McpService;
  beforeAll(async () => {
    http = await startRecordingHttpServer();
    cfg = loadConfig({ CODEMIE_MCP_TOOL_TIMEOUT_MS: '800', CODEMIE_MCP_MAX_OUTPUT_CHARS: '1000' });
    mcp = createMcpService({ config: cfg, log });
  });
  afterAll(async () => {
    await mcp.close();
    await http.close();
  });

  const rec = () => servers({ name: 'rec', config: { url: http.url, type: 'streamable-http' } });

  it('lists tools with their JSON schemas and calls them', async () => {
    const ts = await mcp.openToolset(rec(), { propagatedHeaders: null, user });
    try {
      expect(ts.warnings).toEqual([]);
      expect(ts.tools.map((t) => t.name).sort()).toEqual(['big', 'echo', 'env', 'fail', 'slow', 'whoami']);
      expect(tool(ts, 'echo').inputSchema).toMatchObject({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] });
      expect(tool(ts, 'echo').description).toBe('Echoes the given text');
      expect(await call(ts, 'echo', { text: 'hello' })).toEqual({ output: 'hello', isError: false });
    } finally {
      await ts.close();
    }
  });

  it('propagation on: the call carries the X-* headers minus the blocklist; off: none', async () => {
    const propagated = extractPropagatedHeaders(incoming, limitsFromConfig(cfg));
    expect(propagated).toEqual({ 'x-tenant-id': 'acme-corp', 'x-correlation-id': 'trace-123', 'x-user-context': 'engineering-team' });
    const before = http.requests.length;
    const ts = await mcp.openToolset(rec(), { propagatedHeaders: propagated, user });
    const seen = JSON.parse((await call(ts, 'whoami')).output) as { headers: Record<string, string> };
    await ts.close();
    expect(seen.headers['x-tenant-id']).toBe('acme-corp');
    expect(seen.headers['x-correlation-id']).toBe('trace-123');
    expect(seen.headers['x-user-context']).toBe('engineering-team');
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers['x-api-key']).toBeUndefined();
    expect(seen.headers['x-forwarded-for']).toBeUndefined();
    // every HTTP request of this request's use (tools/list and tools/call) carried them
    const mine = http.requests.slice(before).filter((r) => r.rpcMethod === 'tools/list' || r.rpcMethod === 'tools/call');
    expect(mine.length).toBeGreaterThanOrEqual(2);
    for (const r of mine) expect(r.headers['x-tenant-id']).toBe('acme-corp');

    const off = await mcp.openToolset(rec(), { propagatedHeaders: null, user });
    const seenOff = JSON.parse((await call(off, 'whoami')).output) as { headers: Record<string, string> };
    await off.close();
    expect(Object.keys(seenOff.headers).filter((h) => h.startsWith('x-'))).toEqual([]);
  });

  it('concurrent requests with different X-Tenant-ID on ONE pooled connection each see their own', async () => {
    const tenants = Array.from({ length: 8 }, (_, i) => `tenant-${i}`);
    const sets = await Promise.all(tenants.map((t) => mcp.openToolset(rec(), { propagatedHeaders: { 'x-tenant-id': t }, user })));
    const pooled = await mcp.connections();
    expect(pooled.filter((c) => c.serverName === 'rec')).toHaveLength(1);
    const sessionsBefore = http.sessions.size;
    // interleave: each call waits inside the server while the others are sent
    const results = await Promise.all(sets.flatMap((ts) => [call(ts, 'whoami'), call(ts, 'slow', { ms: 50 }), call(ts, 'whoami')]));
    const whoami = results.filter((_, i) => i % 3 !== 1).map((r) => JSON.parse(r.output) as { headers: Record<string, string> });
    whoami.forEach((w, i) => expect(w.headers['x-tenant-id']).toBe(tenants[Math.floor(i / 2)]));
    // one session id for all of them
    const sessionIds = new Set(whoami.map((w) => w.headers['mcp-session-id']));
    expect(sessionIds.size).toBe(1);
    expect(http.sessions.size).toBe(sessionsBefore);
    await Promise.all(sets.map((s) => s.close()));
  });

  it('tool errors come back as isError results, never thrown: isError, timeout, truncation', async () => {
    const ts = await mcp.openToolset(rec(), { propagatedHeaders: null, user });
    try {
      expect(await call(ts, 'fail')).toEqual({ isError: true, output: "MCP tool 'fail' returned an error: something went wrong on purpose" });
      const slow = await call(ts, 'slow', { ms: 3000 });
      expect(slow).toEqual({ isError: true, output: "MCP tool 'slow' on server 'rec' timed out after 800 ms" });
      const big = await call(ts, 'big', { size: 5000 });
      expect(big.isError).toBe(false);
      expect(big.output).toBe(`${'x'.repeat(1000)}\n[output truncated: showing 1000 of 5000 characters]`);
      // the connection is still usable after a timeout
      expect(await call(ts, 'echo', { text: 'still here' })).toEqual({ output: 'still here', isError: false });
    } finally {
      await ts.close();
    }
  });

  it('a call cancelled by the caller (abort signal) → an error result, promptly', async () => {
    const ts = await mcp.openToolset(rec(), { propagatedHeaders: null, user });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    // The tool would take 60 s (twice the test's timeout): an answer at all means the cancel got through.
    const r = await tool(ts, 'slow').execute({ ms: 60_000 }, { signal: ac.signal, toolCallId: 'c2' });
    expect(r).toEqual({ isError: true, output: "MCP tool 'slow' on server 'rec' was cancelled" });
    await ts.close();
  });

  it('a server that accepts connections but never answers → warning after the connect timeout', async () => {
    const { createServer } = await import('node:http');
    const hang = createServer(() => undefined);
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    const port = (hang.address() as { port: number }).port;
    const quick = createMcpService({ config: loadConfig({ CODEMIE_MCP_CONNECT_TIMEOUT_MS: '400' }), log });
    // the server never answers: without the connect timeout this would hang (and the test time out)
    const ts = await quick.openToolset(servers({ name: 'hang', config: { url: `http://127.0.0.1:${port}/mcp`, type: 'streamable-http' } }, ...rec()), {
      propagatedHeaders: null,
      user,
    });
    expect(ts.warnings).toHaveLength(1);
    expect(ts.warnings[0].source).toBe('mcp:hang');
    expect(ts.warnings[0].message).toContain('timed out');
    expect(ts.tools.length).toBeGreaterThan(0);
    await ts.close();
    await quick.close();
    hang.closeAllConnections();
    await new Promise<void>((r) => hang.close(() => r()));
  });

  it('tools allow-list limits what is exposed', async () => {
    const ts = await mcp.openToolset(servers({ name: 'rec', tools: ['echo', 'whoami'], config: { url: http.url, type: 'streamable-http' } }), {
      propagatedHeaders: null,
      user,
    });
    expect(ts.tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
    await ts.close();
  });

  it('a server that is down → warning; the others still work; disabled servers are skipped', async () => {
    const dead = await startRecordingHttpServer();
    const deadUrl = dead.url;
    await dead.close();
    const ts = await mcp.openToolset(
      servers(
        { name: 'down', config: { url: deadUrl, type: 'streamable-http' } },
        { name: 'off', enabled: false, config: { url: deadUrl, type: 'streamable-http' } },
        { name: 'rec', tools: ['echo'], config: { url: http.url, type: 'streamable-http' } },
      ),
      { propagatedHeaders: null, user },
    );
    try {
      expect(ts.warnings).toHaveLength(1);
      expect(ts.warnings[0].source).toBe('mcp:down');
      expect(ts.warnings[0].message).toMatch(/^could not connect to or list tools of MCP server 'down': /);
      expect(ts.tools.map((t) => t.name)).toEqual(['echo']);
      expect((await call(ts, 'echo', { text: 'ok' })).output).toBe('ok');
    } finally {
      await ts.close();
    }
  });

  it('a server that dies after opening → the call is an error result; messages never quote propagated values', async () => {
    const doomed = await startRecordingHttpServer();
    const secret = 'secret-tenant-42';
    const details = servers({ name: 'doomed', config: { url: `http://127.0.0.1:${doomed.port}/t/{{headers.x-tenant-id}}`, type: 'streamable-http' } });
    const ts = await mcp.openToolset(details, { propagatedHeaders: { 'x-tenant-id': secret }, user });
    expect(ts.warnings).toEqual([]);
    await doomed.close();
    const r = await call(ts, 'echo', { text: 'anyone?' });
    expect(r.isError).toBe(true);
    expect(r.output).toMatch(/^MCP tool 'echo' on server 'doomed' failed: /);
    expect(r.output).not.toContain(secret);
    await ts.close();
    // next request: the broken connection was dropped; the server is still down → a warning
    const again = await mcp.openToolset(details, { propagatedHeaders: { 'x-tenant-id': secret }, user });
    expect(again.warnings).toHaveLength(1);
    expect(again.warnings[0].message).not.toContain(secret);
    await again.close();
  });

  it('the same tool name on two servers gets unique model-safe names', async () => {
    const ts = await mcp.openToolset(
      servers(
        { name: 'a', tools: ['echo'], config: { url: http.url, type: 'streamable-http' } },
        { name: 'b.2', tools: ['echo'], config: { url: `${http.url}?b`, type: 'streamable-http' } },
      ),
      { propagatedHeaders: null, user },
    );
    expect(ts.tools.map((t) => t.name)).toEqual(['echo', 'b_2_echo']);
    expect((await call(ts, 'b_2_echo', { text: 'from b' })).output).toBe('from b');
    await ts.close();
  });

  it('{{headers.*}} and {{user.*}} placeholders are resolved per request; missing → warning for that server', async () => {
    const cfgd = servers({
      name: 'tenant',
      config: {
        url: `http://127.0.0.1:${http.port}/t/{{headers.x-tenant-id}}`,
        type: 'streamable-http',
        headers: { 'X-Tenant': '{{headers.X-Tenant-ID}}', 'X-Caller': '{{user.username}}' },
      },
    });
    const ts = await mcp.openToolset(cfgd, { propagatedHeaders: { 'x-tenant-id': 'globex' }, user });
    const seen = JSON.parse((await call(ts, 'whoami')).output) as { headers: Record<string, string>; path: string };
    await ts.close();
    expect(seen.path).toBe('/t/globex');
    expect(seen.headers['x-tenant']).toBe('globex');
    expect(seen.headers['x-caller']).toBe('ann');

    const missing = await mcp.openToolset(cfgd, { propagatedHeaders: { 'x-other': '1' }, user });
    expect(missing.tools).toEqual([]);
    expect(missing.warnings).toEqual([
      {
        source: 'mcp:tenant',
        message:
          "MCP server 'tenant' skipped: url: placeholder {{headers.x-tenant-id}} has no value: the request did not send header 'x-tenant-id' (or it is blocklisted)",
      },
    ]);
    await missing.close();
  });

  it('a pooled connection closes after the idle timeout', async () => {
    const short = createMcpService({ config: loadConfig({ CODEMIE_MCP_IDLE_TIMEOUT_MS: '1000' }), log });
    const ts = await short.openToolset(rec(), { propagatedHeaders: null, user });
    expect(await short.connections()).toHaveLength(1);
    await ts.close();
    await new Promise((r) => setTimeout(r, 1300));
    expect(await short.connections()).toHaveLength(0);
    await short.close();
  });
});

describe('MCP client over SSE (url with type null → SSE, as the reference)', () => {
  let sse: McpHttpServer;
  let mcp: McpService;
  beforeAll(async () => {
    sse = await startRecordingSseServer();
    mcp = createMcpService({ config: loadConfig({}), log });
  });
  afterAll(async () => {
    await mcp.close();
    await sse.close();
  });

  it('propagated headers ride on each POSTed call; concurrent callers each see their own', async () => {
    const details = servers({ name: 'rec-sse', config: { url: sse.url } });
    const a = await mcp.openToolset(details, { propagatedHeaders: { 'x-tenant-id': 'a' }, user });
    const b = await mcp.openToolset(details, { propagatedHeaders: { 'x-tenant-id': 'b' }, user });
    expect(a.warnings).toEqual([]);
    const [ra, rb] = await Promise.all([call(a, 'whoami'), call(b, 'whoami')]);
    expect(JSON.parse(ra.output).headers['x-tenant-id']).toBe('a');
    expect(JSON.parse(rb.output).headers['x-tenant-id']).toBe('b');
    expect(sse.sessions.size).toBe(1);
    // the long-lived event stream (opened by the pooled connection) carries no request's headers
    const streams = sse.requests.filter((r) => r.httpMethod === 'GET');
    expect(streams).toHaveLength(1);
    expect(streams[0].headers['x-tenant-id']).toBeUndefined();
    await Promise.all([a.close(), b.close()]);
  });
});

describe('MCP client over stdio (recording server as a node script)', () => {
  let mcp: McpService;
  beforeAll(() => {
    mcp = createMcpService({ config: loadConfig({ CODEMIE_MCP_IDLE_TIMEOUT_MS: '1500' }), log });
  });
  afterAll(async () => {
    await mcp.close();
  });
  const stdio = (extra: Record<string, unknown> = {}) => servers({ name: 'rec-stdio', config: { command: 'node', args: [RECORDING, 'stdio'], ...extra } });

  it('propagated headers arrive in _meta of tools/call; absent when off', async () => {
    const ts = await mcp.openToolset(stdio(), { propagatedHeaders: { 'x-tenant-id': 'acme-corp', 'x-correlation-id': 'trace-123' }, user });
    const seen = JSON.parse((await call(ts, 'whoami')).output) as { meta: { headers?: Record<string, string> } | null };
    expect(seen.meta?.headers).toEqual({ 'x-tenant-id': 'acme-corp', 'x-correlation-id': 'trace-123' });
    await ts.close();
    const off = await mcp.openToolset(stdio(), { propagatedHeaders: null, user });
    const seenOff = JSON.parse((await call(off, 'whoami')).output) as { meta: { headers?: unknown } | null };
    expect(seenOff.meta?.headers).toBeUndefined();
    await off.close();
  });

  it('placeholders in args and env are resolved (a distinct process per resolved config)', async () => {
    const ts = await mcp.openToolset(stdio({ args: [RECORDING, 'stdio', '--tenant={{headers.x-tenant-id}}'], env: { WHO: '{{user.name}}' } }), {
      propagatedHeaders: { 'x-tenant-id': 'initech' },
      user,
    });
    expect(JSON.parse((await call(ts, 'whoami')).output).argv).toEqual(['--tenant=initech']);
    expect((await call(ts, 'env', { name: 'WHO' })).output).toBe('Ann Lee');
    await ts.close();
  });

  it('stdio processes are reaped: on idle, and on service close', async () => {
    const ts = await mcp.openToolset(stdio({ args: [RECORDING, 'stdio', 'reap-idle'] }), { propagatedHeaders: null, user });
    const pid = JSON.parse((await call(ts, 'whoami')).output).pid as number;
    expect(pidAlive(pid)).toBe(true);
    await ts.close();
    await waitFor(() => !pidAlive(pid));

    const other = createMcpService({ config: loadConfig({}), log });
    const ts2 = await other.openToolset(stdio({ args: [RECORDING, 'stdio', 'reap-close'] }), { propagatedHeaders: null, user });
    const pid2 = JSON.parse((await call(ts2, 'whoami')).output).pid as number;
    const conn = (await other.connections())[0];
    expect(conn.pid).toBe(pid2);
    await ts2.close();
    expect(pidAlive(pid2)).toBe(true); // pooled, idle timeout is 5 minutes
    await other.close();
    await waitFor(() => !pidAlive(pid2));
  });

  it('single_usage: the process lives only for the request', async () => {
    const ts = await mcp.openToolset(stdio({ args: [RECORDING, 'stdio', 'single'], single_usage: true }), { propagatedHeaders: null, user });
    const pid = JSON.parse((await call(ts, 'whoami')).output).pid as number;
    expect((await mcp.connections()).some((c) => c.pid === pid)).toBe(false);
    await ts.close();
    await waitFor(() => !pidAlive(pid));
  });

  it('a command that cannot start → warning, not a crash', async () => {
    const ts = await mcp.openToolset(servers({ name: 'nope', config: { command: 'node', args: ['/nonexistent/server.mjs'] } }), {
      propagatedHeaders: null,
      user,
    });
    expect(ts.tools).toEqual([]);
    expect(ts.warnings[0]).toMatchObject({ source: 'mcp:nope' });
    expect(ts.warnings[0].message).toMatch(/could not connect to or list tools of MCP server 'nope'/);
    await ts.close();
  });
});

describe('the published @modelcontextprotocol/server-everything', () => {
  let mcp: McpService;
  beforeAll(() => {
    mcp = createMcpService({ config: loadConfig({}), log });
  });
  afterAll(async () => {
    await mcp.close();
  });

  it('over stdio (node dist/index.js stdio): lists and calls tools, _meta accepted', async () => {
    const ts = await mcp.openToolset(servers({ name: 'everything', config: { command: 'node', args: [EVERYTHING, 'stdio'] } }), {
      propagatedHeaders: { 'x-tenant-id': 'acme-corp' },
      user,
    });
    try {
      expect(ts.warnings).toEqual([]);
      const names = ts.tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['echo', 'get-sum']));
      expect(await call(ts, 'echo', { message: 'hi' })).toEqual({ output: 'Echo: hi', isError: false });
      const sum = await call(ts, 'get-sum', { a: 2, b: 3 });
      expect(sum.isError).toBe(false);
      expect(sum.output).toContain('5');
    } finally {
      await ts.close();
    }
  });

  it('over streamable HTTP (its server hosted on 127.0.0.1): headers reach it', async () => {
    const { createServer } = (await import(path.join(path.dirname(EVERYTHING), 'server', 'index.js'))) as {
      createServer: () => { server: { connect(t: unknown): Promise<void> } };
    };
    const http = await startMcpHttpServer(() => createServer().server);
    try {
      const ts = await mcp.openToolset(servers({ name: 'everything-http', config: { url: http.url, type: 'streamable-http' } }), {
        propagatedHeaders: { 'x-tenant-id': 'acme-corp' },
        user,
      });
      expect(ts.warnings).toEqual([]);
      expect(await call(ts, 'echo', { message: 'over http' })).toEqual({ output: 'Echo: over http', isError: false });
      const calls = http.requests.filter((r) => r.rpcMethod === 'tools/call');
      expect(calls).toHaveLength(1);
      expect(calls[0].headers['x-tenant-id']).toBe('acme-corp');
      await ts.close();
    } finally {
      await mcp.close();
      mcp = createMcpService({ config: loadConfig({}), log });
      await http.close();
    }
  });
});

describe('platform shutdown', () => {
  it('ctx.mcp is wired into the platform and its stdio processes are reaped on shutdown', async () => {
    const p = await startTestPlatform({ db: 'sqlite' });
    const ts = await p.infra.mcp.openToolset(servers({ name: 'rec', config: { command: 'node', args: [RECORDING, 'stdio', 'platform'] } }), {
      propagatedHeaders: null,
      user,
    });
    const pid = JSON.parse((await call(ts, 'whoami')).output).pid as number;
    await ts.close();
    expect(pidAlive(pid)).toBe(true);
    await p.stop();
    await waitFor(() => !pidAlive(pid));
  });
});
