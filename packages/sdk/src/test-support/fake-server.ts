/**
 * A small local stand-in for the platform and its Keycloak token endpoint, for the SDK's tests:
 * node:http on 127.0.0.1, port 0. It records every request and lets each test add routes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  raw: Buffer;
  body: unknown;
}

export type Handler = (req: Recorded, res: ServerResponse) => void | Promise<void>;

export interface FakeUser {
  username: string;
  password: string;
}

export interface FakeClient {
  clientId: string;
  secret?: string;
}

export const REALM = 'codemie';
export const API_PREFIX = '/code-assistant-api';

export class FakePlatform {
  private server: Server;
  private routes: { method: string; pattern: RegExp; handler: Handler; auth: boolean }[] = [];
  readonly requests: Recorded[] = [];
  readonly tokenRequests: URLSearchParams[] = [];
  readonly validTokens = new Set<string>();
  readonly validRefresh = new Set<string>();
  users: FakeUser[] = [{ username: 'alice', password: 'secret' }];
  clients: FakeClient[] = [{ clientId: 'codemie-sdk' }, { clientId: 'svc', secret: 'svc-secret' }];
  expiresIn = 300;
  refreshExpiresIn: number | null = 1800;
  issueRefresh = true;
  private n = 0;
  port = 0;

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  /** What to pass as codemie_api_domain. */
  get apiDomain(): string {
    return `${this.origin}${API_PREFIX}`;
  }
  /** What to pass as auth_server_url. */
  get authUrl(): string {
    return `${this.origin}/auth`;
  }

  /** Adds a route; `path` may contain `:param` placeholders. API routes are matched with or without the prefix. */
  route(method: string, path: string, handler: Handler, opts: { auth?: boolean } = {}): this {
    const pattern = new RegExp(`^(?:${API_PREFIX})?${path.replace(/:[a-zA-Z_]+/g, '[^/]+')}$`);
    this.routes.unshift({ method, pattern, handler, auth: opts.auth ?? true });
    return this;
  }

  /** Adds a route answering a fixed JSON body. */
  json(method: string, path: string, body: unknown, status = 200): this {
    return this.route(method, path, (_req, res) => send(res, status, body));
  }

  apiRequests(): Recorded[] {
    return this.requests.filter((r) => !r.path.startsWith('/auth/'));
  }

  last(): Recorded {
    const r = this.apiRequests().at(-1);
    if (!r) throw new Error('no API request recorded');
    return r;
  }

  /** Invalidates every issued access token (as a restarted identity provider would). */
  revokeAccessTokens(): void {
    this.validTokens.clear();
  }

  grants(): string[] {
    return this.tokenRequests.map((f) => f.get('grant_type') ?? '');
  }

  private issue(res: ServerResponse): void {
    this.n++;
    const access = `tok-${this.n}`;
    this.validTokens.add(access);
    const body: Record<string, unknown> = {
      access_token: access,
      expires_in: this.expiresIn,
      token_type: 'Bearer',
      'not-before-policy': 0,
      scope: 'openid profile email',
    };
    if (this.issueRefresh) {
      const refresh = `ref-${this.n}`;
      this.validRefresh.add(refresh);
      body.refresh_token = refresh;
      if (this.refreshExpiresIn !== null) body.refresh_expires_in = this.refreshExpiresIn;
    }
    send(res, 200, body);
  }

  private token(form: URLSearchParams, res: ServerResponse): void {
    this.tokenRequests.push(form);
    const deny = (status: number, error: string, description: string) =>
      send(res, status, { error, error_description: description });
    const grant = form.get('grant_type');
    const client = this.clients.find((c) => c.clientId === form.get('client_id'));
    if (!client) return deny(401, 'unauthorized_client', 'Invalid client or Invalid client credentials');
    if (client.secret && client.secret !== form.get('client_secret')) {
      return deny(401, 'unauthorized_client', 'Invalid client or Invalid client credentials');
    }
    if (grant === 'password') {
      const u = this.users.find((x) => x.username === form.get('username') && x.password === form.get('password'));
      if (!u) return deny(401, 'invalid_grant', 'Invalid user credentials');
      return this.issue(res);
    }
    if (grant === 'client_credentials') {
      if (!client.secret) return deny(401, 'unauthorized_client', 'Public client not allowed to retrieve service account');
      return this.issue(res);
    }
    if (grant === 'refresh_token') {
      const rt = form.get('refresh_token') ?? '';
      if (!this.validRefresh.has(rt)) return deny(400, 'invalid_grant', 'Invalid refresh token');
      this.validRefresh.delete(rt);
      return this.issue(res);
    }
    return deny(400, 'unsupported_grant_type', 'Unsupported grant_type');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    let body: unknown = undefined;
    const ct = req.headers['content-type'] ?? '';
    if (raw.length > 0) {
      if (ct.includes('application/json')) body = JSON.parse(raw.toString('utf8'));
      else if (ct.includes('x-www-form-urlencoded')) body = new URLSearchParams(raw.toString('utf8'));
      else body = raw.toString('latin1');
    }
    const rec: Recorded = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, raw, body };
    this.requests.push(rec);
    try {
      if (rec.method === 'POST' && url.pathname === `/auth/realms/${REALM}/protocol/openid-connect/token`) {
        if (!ct.includes('application/x-www-form-urlencoded')) return send(res, 415, { error: 'invalid_request' });
        return this.token(body as URLSearchParams, res);
      }
      const route = this.routes.find((r) => r.method === rec.method && r.pattern.test(url.pathname));
      if (!route) {
        return send(res, 404, { error: { message: 'Route not found', details: `${rec.method} ${url.pathname}`, help: null } });
      }
      if (route.auth) {
        const auth = req.headers.authorization ?? '';
        const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
        if (!this.validTokens.has(token)) {
          return send(res, 401, {
            error: {
              message: 'Authentication failed',
              details: 'No valid authentication credentials were provided with this request.',
              help: 'Please ensure you are logged in.',
            },
          });
        }
      }
      await route.handler(rec, res);
    } catch (err) {
      if (!res.headersSent) send(res, 500, { error: { message: String(err), details: null, help: null } });
      else res.end();
    }
  }
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers });
  res.end(text);
}

/** Writes the given pieces one by one with a short pause, so the client sees them as separate reads. */
export async function writeSlowly(res: ServerResponse, contentType: string | null, pieces: string[], pauseMs = 5): Promise<void> {
  const headers: Record<string, string> = { 'Cache-Control': 'no-cache' };
  if (contentType) headers['Content-Type'] = contentType;
  res.writeHead(200, headers);
  res.flushHeaders();
  for (const p of pieces) {
    res.write(p);
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  res.end();
}

export async function startFake(): Promise<FakePlatform> {
  return new FakePlatform().start();
}
