/**
 * A real MCP server (built with the MCP SDK) for tests. Tools:
 *   echo {text}     → text
 *   whoami {}       → JSON {headers, meta, path, pid, argv}: the HTTP headers and _meta it received for THIS call
 *   env {name}      → value of an environment variable of the server process
 *   slow {ms}       → sleeps, then "done"
 *   fail {}         → an isError result
 *   big {size}      → `size` characters of "x"
 * Run over stdio:  node recording.mjs stdio [extra args shown by whoami]
 * Run over HTTP:   node recording.mjs http   (prints "listening <port>"; binds 127.0.0.1, port 0)
 * or in-process:   startRecordingHttpServer() → {url, port, requests, close()}
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const text = (t) => ({ content: [{ type: 'text', text: t }] });

export function createRecordingServer(info = {}) {
  const server = new McpServer({ name: 'recording', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echoes the given text', inputSchema: { text: z.string() } }, async ({ text: t }) => text(t));
  server.registerTool(
    'whoami',
    { description: 'Returns the HTTP headers and _meta received for this call' },
    async (extra) =>
      text(
        JSON.stringify({
          headers: extra.requestInfo?.headers ?? null,
          meta: extra._meta ?? null,
          path: info.path ?? null,
          pid: process.pid,
          argv: process.argv.slice(3),
        }),
      ),
  );
  server.registerTool('env', { description: 'Value of an environment variable', inputSchema: { name: z.string() } }, async ({ name }) =>
    text(process.env[name] ?? '<unset>'),
  );
  server.registerTool('slow', { description: 'Sleeps for ms milliseconds', inputSchema: { ms: z.number() } }, async ({ ms }, extra) => {
    await sleep(ms, undefined, { signal: extra.signal }).catch(() => undefined);
    return text('done');
  });
  server.registerTool('fail', { description: 'Always fails' }, async () => ({
    isError: true,
    content: [{ type: 'text', text: 'something went wrong on purpose' }],
  }));
  server.registerTool('big', { description: 'Returns size characters', inputSchema: { size: z.number() } }, async ({ size }) =>
    text('x'.repeat(size)),
  );
  return server;
}

/** The recording server over streamable HTTP. */
export function startRecordingHttpServer() {
  return startMcpHttpServer((info) => createRecordingServer(info));
}

/**
 * Any MCP server (factory → an McpServer per session) over streamable HTTP on 127.0.0.1:0, one
 * session per client. `requests` records every HTTP request (method, JSON-RPC method, headers, path).
 */
export async function startMcpHttpServer(factory) {
  const sessions = new Map();
  const requests = [];
  const httpServer = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    requests.push({ httpMethod: req.method, rpcMethod: body?.method ?? null, headers: { ...req.headers }, path: req.url });
    const sid = req.headers['mcp-session-id'];
    let transport = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (!transport) {
      if (req.method !== 'POST' || body?.method !== 'initialize') {
        res.writeHead(typeof sid === 'string' ? 404 : 400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'no session' }, id: null }));
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => sessions.set(id, transport),
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      await factory({ path: req.url }).connect(transport);
    }
    await transport.handleRequest(req, res, body);
  });
  return listen(httpServer, '/mcp', requests, sessions);
}

/** The recording server over the legacy HTTP+SSE transport: GET /sse opens the stream, POST /messages?sessionId=… carries calls. */
export async function startRecordingSseServer() {
  const sessions = new Map();
  const requests = [];
  const httpServer = http.createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && u.pathname === '/sse') {
      requests.push({ httpMethod: 'GET', rpcMethod: null, headers: { ...req.headers }, path: req.url });
      const transport = new SSEServerTransport('/messages', res);
      sessions.set(transport.sessionId, transport);
      transport.onclose = () => sessions.delete(transport.sessionId);
      await createRecordingServer({ path: req.url }).connect(transport);
      return;
    }
    if (req.method === 'POST' && u.pathname === '/messages') {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      requests.push({ httpMethod: 'POST', rpcMethod: body?.method ?? null, headers: { ...req.headers }, path: req.url });
      const transport = sessions.get(u.searchParams.get('sessionId'));
      if (!transport) {
        res.writeHead(404).end('no session');
        return;
      }
      await transport.handlePostMessage(req, res, body);
      return;
    }
    res.writeHead(404).end();
  });
  return listen(httpServer, '/sse', requests, sessions);
}

const mode = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()) ? process.argv[2] : undefined;
if (mode === 'stdio') {
  await createRecordingServer().connect(new StdioServerTransport());
} else if (mode === 'http') {
  const s = await startRecordingHttpServer();
  console.log(`listening ${s.port}`);
}

/** Starts an HTTP MCP server on a free loopback port; close() ends its sessions and connections. */
async function listen(httpServer, path, requests, sessions) {
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const port = httpServer.address().port;
  return {
    port,
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    sessions,
    async close() {
      for (const t of sessions.values()) await t.close().catch(() => undefined);
      httpServer.closeAllConnections();
      await new Promise((resolve) => httpServer.close(() => resolve()));
    },
  };
}
