/**
 * MCP client connections and their pool. A connection is keyed by the resolved server
 * config (placeholders applied) — never by propagated header values, which travel per call.
 * Pooled connections are shared, counted while in use and closed after an idle period;
 * closing a stdio connection reaps its child process.
 */
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
// The MCP SDK (client, transports, its protocol schemas) is loaded on the first connection: a
// server whose assistants use no MCP server never pays its start-up time and memory.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { MCPServerConfig } from './schemas.js';
import { fetchWithCallHeaders, withoutCallHeaders } from './call-headers.js';
import { VERSION } from '../version.js';

export type TransportKind = 'stdio' | 'streamable-http' | 'sse';

export function transportKind(c: MCPServerConfig): TransportKind {
  if (c.command) return 'stdio';
  return c.type === 'streamable-http' ? 'streamable-http' : 'sse';
}

export class McpConnection {
  users = 0;
  closed = false;
  idleTimer: NodeJS.Timeout | undefined;
  constructor(
    readonly key: string,
    readonly serverName: string,
    readonly kind: TransportKind,
    readonly client: Client,
    readonly transport: Transport,
    readonly pooled: boolean,
  ) {}

  /** The child process id of a stdio server (for tests and diagnostics). */
  get pid(): number | null {
    return this.kind === 'stdio' ? ((this.transport as StdioClientTransport).pid ?? null) : null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    await this.client.close().catch(() => undefined);
  }
}

export function poolKey(c: MCPServerConfig): string {
  const canonical = JSON.stringify({
    command: c.command ?? null,
    url: c.url ?? null,
    args: c.args,
    env: Object.entries(c.env).sort(),
    headers: Object.entries(c.headers)
      .map(([k, v]) => [k.toLowerCase(), v])
      .sort(),
    type: transportKind(c),
    auth_token: c.auth_token ?? null,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

async function makeTransport(c: MCPServerConfig, log: FastifyBaseLogger, serverName: string): Promise<Transport> {
  if (c.command) {
    const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
    const t = new StdioClientTransport({ command: c.command, args: c.args, env: c.env, stderr: 'pipe' });
    t.stderr?.on('data', (chunk: Buffer) => log.debug({ mcpServer: serverName, stderr: chunk.toString('utf8').slice(0, 500) }, 'mcp server stderr'));
    return t;
  }
  const headers: Record<string, string> = { ...c.headers };
  if (c.auth_token && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
    headers.Authorization = `Bearer ${c.auth_token}`;
  }
  const url = new URL(c.url!);
  const opts = { requestInit: { headers }, fetch: fetchWithCallHeaders() };
  if (transportKind(c) === 'streamable-http') {
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    return new StreamableHTTPClientTransport(url, opts);
  }
  const { SSEClientTransport } = await import('@modelcontextprotocol/sdk/client/sse.js');
  return new SSEClientTransport(url, opts);
}

export async function connect(
  c: MCPServerConfig,
  serverName: string,
  opts: { log: FastifyBaseLogger; timeoutMs: number; pooled: boolean; key: string },
): Promise<McpConnection> {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const client = new Client({ name: 'codemie-open', version: VERSION }, { capabilities: {} });
  const transport = await makeTransport(c, opts.log, serverName);
  const conn = new McpConnection(opts.key, serverName, transportKind(c), client, transport, opts.pooled);
  client.onclose = () => {
    conn.closed = true;
    clearTimeout(conn.idleTimer);
  };
  client.onerror = (err) => opts.log.debug({ mcpServer: serverName, err: err.message }, 'mcp transport error');
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      withoutCallHeaders(() => client.connect(transport, { timeout: opts.timeoutMs })),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`connection timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
      }),
    ]);
  } catch (err) {
    await conn.close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return conn;
}

/** Shared connections by config key; at most one connect in flight per key. */
export class ConnectionPool {
  private readonly conns = new Map<string, Promise<McpConnection>>();
  /** Every open connection, pooled or single-use (closed at shutdown even if no longer in `conns`). */
  private readonly live = new Set<McpConnection>();
  private closing = false;

  constructor(private readonly opts: { log: FastifyBaseLogger; connectTimeoutMs: number; idleTimeoutMs: number }) {}

  async acquire(c: MCPServerConfig, serverName: string): Promise<McpConnection> {
    if (this.closing) throw new Error('the MCP client is shutting down');
    if (c.single_usage) {
      const conn = await connect(c, serverName, { ...this.opts, timeoutMs: this.opts.connectTimeoutMs, pooled: false, key: '' });
      conn.users = 1;
      this.live.add(conn);
      if (this.closing) {
        await conn.close();
        throw new Error('the MCP client is shutting down');
      }
      return conn;
    }
    const key = poolKey(c);
    let pending = this.conns.get(key);
    if (pending) {
      const existing = await pending.catch(() => null);
      if (existing && !existing.closed) return this.use(existing);
      if (this.conns.get(key) === pending) this.conns.delete(key);
      pending = this.conns.get(key); // another request may have reconnected meanwhile
    }
    if (!pending) {
      const p = connect(c, serverName, { ...this.opts, timeoutMs: this.opts.connectTimeoutMs, pooled: true, key });
      pending = p;
      this.conns.set(key, p);
      p.then(
        (conn) => {
          this.live.add(conn);
          if (this.closing) void conn.close();
        },
        () => {
          if (this.conns.get(key) === p) this.conns.delete(key);
        },
      );
    }
    return this.use(await pending);
  }

  private use(conn: McpConnection): McpConnection {
    if (conn.closed) throw new Error('the connection to the server was closed');
    conn.users += 1;
    clearTimeout(conn.idleTimer);
    conn.idleTimer = undefined;
    return conn;
  }

  /** Done with a connection: single-use ones close now, pooled ones after the idle timeout. */
  async release(conn: McpConnection): Promise<void> {
    conn.users = Math.max(0, conn.users - 1);
    if (!conn.pooled || conn.closed || this.closing) {
      if (!conn.pooled || conn.closed) this.forget(conn);
      if (!conn.pooled) await conn.close();
      return;
    }
    if (conn.users === 0) {
      clearTimeout(conn.idleTimer);
      conn.idleTimer = setTimeout(() => {
        if (conn.users > 0) return;
        this.forget(conn);
        this.opts.log.debug({ mcpServer: conn.serverName }, 'closing idle MCP connection');
        void conn.close();
      }, this.opts.idleTimeoutMs);
      conn.idleTimer.unref();
    }
  }

  /** Drop a broken connection so the next request reconnects. */
  async discard(conn: McpConnection): Promise<void> {
    this.forget(conn);
    await conn.close();
  }

  private forget(conn: McpConnection): void {
    this.live.delete(conn);
    const pending = this.conns.get(conn.key);
    if (!pending) return;
    void pending.then(
      (c) => {
        if (c === conn && this.conns.get(conn.key) === pending) this.conns.delete(conn.key);
      },
      () => undefined,
    );
  }

  /** Currently pooled connections (tests, diagnostics). */
  async connections(): Promise<McpConnection[]> {
    const settled = await Promise.allSettled([...this.conns.values()]);
    return settled.flatMap((s) => (s.status === 'fulfilled' && !s.value.closed ? [s.value] : []));
  }

  /** Close every pooled connection (and reap stdio processes). */
  async close(): Promise<void> {
    this.closing = true;
    const all = await Promise.allSettled([...this.conns.values()]);
    this.conns.clear();
    for (const s of all) if (s.status === 'fulfilled') this.live.add(s.value);
    await Promise.all([...this.live].map((c) => c.close()));
    this.live.clear();
  }
}
