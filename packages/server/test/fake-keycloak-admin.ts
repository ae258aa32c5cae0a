/**
 * The part of Keycloak's admin REST API the server uses in external mode (identity/keycloak-admin.ts):
 * client_credentials token, user creation (409 on duplicates), realm-role lookup and grant, password
 * reset. Records what it was asked, for assertions.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface FakeKeycloakUser {
  id: string;
  username: string;
  email: string;
  firstName?: string;
  password?: string;
  realmRoles: string[];
}

export interface FakeKeycloakAdmin {
  url: string;
  realm: string;
  clientId: string;
  clientSecret: string;
  users: FakeKeycloakUser[];
  close(): Promise<void>;
}

const body = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => resolve(b));
  });

export async function startFakeKeycloakAdmin(realm = 'ext'): Promise<FakeKeycloakAdmin> {
  const clientId = 'codemie-admin';
  const clientSecret = 'admin-secret';
  const token = `kc-${randomUUID()}`;
  const users: FakeKeycloakUser[] = [];
  const roles = new Map([
    ['admin', randomUUID()],
    ['auditor', randomUUID()],
    ['developer', randomUUID()],
  ]);
  const server: Server = createServer(async (req, res) => {
    const url = req.url ?? '';
    const send = (status: number, data?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { ...(data !== undefined ? { 'content-type': 'application/json' } : {}), ...headers });
      res.end(data !== undefined ? JSON.stringify(data) : undefined);
    };
    if (req.method === 'POST' && url === `/realms/${realm}/protocol/openid-connect/token`) {
      const form = new URLSearchParams(await body(req));
      if (form.get('grant_type') !== 'client_credentials' || form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
        return send(401, { error: 'unauthorized_client' });
      }
      return send(200, { access_token: token, expires_in: 300, token_type: 'Bearer' });
    }
    const prefix = `/admin/realms/${realm}`;
    if (!url.startsWith(prefix)) return send(404);
    if (req.headers.authorization !== `Bearer ${token}`) return send(401);
    const path = url.slice(prefix.length);
    if (req.method === 'POST' && path === '/users') {
      const u = JSON.parse(await body(req)) as { username: string; email: string; firstName?: string; credentials?: Array<{ value: string }> };
      if (users.some((x) => x.username === u.username.toLowerCase())) return send(409, { errorMessage: 'User exists with same username' });
      if (users.some((x) => x.email === u.email.toLowerCase())) return send(409, { errorMessage: 'User exists with same email' });
      const id = randomUUID();
      users.push({
        id,
        username: u.username.toLowerCase(),
        email: u.email.toLowerCase(),
        firstName: u.firstName,
        password: u.credentials?.[0]?.value,
        realmRoles: [],
      });
      return send(201, undefined, {
        location: `${server.address() && `http://127.0.0.1:${(server.address() as { port: number }).port}`}${prefix}/users/${id}`,
      });
    }
    let m = /^\/roles\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && m) {
      const id = roles.get(decodeURIComponent(m[1]));
      return id ? send(200, { id, name: decodeURIComponent(m[1]) }) : send(404, { error: 'Could not find role' });
    }
    m = /^\/users\/([^/]+)\/role-mappings\/realm$/.exec(path);
    if (req.method === 'POST' && m) {
      const u = users.find((x) => x.id === m![1]);
      if (!u) return send(404);
      for (const r of JSON.parse(await body(req)) as Array<{ name: string }>) u.realmRoles.push(r.name);
      return send(204);
    }
    m = /^\/users\/([^/]+)\/reset-password$/.exec(path);
    if (req.method === 'PUT' && m) {
      const u = users.find((x) => x.id === m![1]);
      if (!u) return send(404, { error: 'User not found' });
      u.password = (JSON.parse(await body(req)) as { value: string }).value;
      return send(204);
    }
    return send(404);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    realm,
    clientId,
    clientSecret,
    users,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
