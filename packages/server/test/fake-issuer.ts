/** A minimal external OIDC issuer for tests: discovery + JWKS over real HTTP, keys it can rotate. */
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface FakeIssuer {
  issuer: string;
  /** Number of JWKS requests served. */
  jwksFetches: () => number;
  /** Adds a key (published unless told otherwise) and makes it the signing key. */
  addKey(opts?: { kid?: string; alg?: string; publish?: boolean }): Promise<string>;
  /** A Keycloak-like access token (typ "Bearer", iat, exp 5 min) with these claims; a claim set to undefined is left out. */
  sign(claims: JWTPayload, opts?: { kid?: string; alg?: string; typ?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startFakeIssuer(realm = 'ext'): Promise<FakeIssuer> {
  const keys = new Map<string, { alg: string; priv: CryptoKey; pub: JWK; published: boolean }>();
  let current = '';
  let fetches = 0;
  let issuer = '';
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    if (path === `/realms/${realm}/.well-known/openid-configuration`) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs`, token_endpoint: `${issuer}/protocol/openid-connect/token` }));
    } else if (path === `/realms/${realm}/protocol/openid-connect/certs`) {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [...keys.values()].filter((k) => k.published).map((k) => k.pub) }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  issuer = `http://127.0.0.1:${port}/realms/${realm}`;
  const fake: FakeIssuer = {
    issuer,
    jwksFetches: () => fetches,
    async addKey(opts = {}) {
      const alg = opts.alg ?? 'ES256';
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = opts.kid ?? `k${keys.size + 1}-${Math.random().toString(36).slice(2, 8)}`;
      keys.set(kid, { alg, priv: privateKey, pub: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, published: opts.publish ?? true });
      if (opts.publish ?? true) current = kid;
      return kid;
    },
    async sign(claims, opts = {}) {
      const kid = opts.kid ?? current;
      const k = keys.get(kid);
      if (!k) throw new Error(`no key ${kid}`);
      const now = Math.floor(Date.now() / 1000);
      // a Keycloak access token's shape (typ "Bearer"); claims given win, undefined drops one
      const all: JWTPayload = { typ: 'Bearer', iat: now, exp: now + 300, iss: issuer, ...claims };
      for (const k of Object.keys(all)) if (all[k] === undefined) delete all[k];
      return new SignJWT(all)
        .setProtectedHeader({ alg: opts.alg ?? k.alg, kid, typ: opts.typ ?? 'JWT' })
        .sign(k.priv);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  await fake.addKey();
  return fake;
}
