/**
 * Keycloak-compatible endpoints of the embedded IdP under /auth/realms/<realm>/..., so SDKs
 * configured for Keycloak (auth_server_url=<base>/auth, realm codemie) work unchanged.
 * Errors here use Keycloak's `{error, error_description}` shape, not the API envelope.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { OAuthError, type OAuthParams } from './tokens.js';
import type { AuditLog } from '../audit/audit.js';
import { requestBaseUrl, type IdentityRuntime } from './runtime.js';
import { TokenRejected } from '../auth/verifier.js';

const realmParams = z.object({ realm: z.string() });

/** The issuer for tokens minted in answer to this request (see docs/identity.md, "Issuer"). */
export function issuerFor(config: Config, req: FastifyRequest): string {
  return `${requestBaseUrl(config, req)}/auth/realms/${config.idpRealm}`;
}

function basicCredentials(req: FastifyRequest): { id?: string; secret?: string } {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m) return {};
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return {};
  const dec = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { id: dec(decoded.slice(0, i)), secret: dec(decoded.slice(i + 1)) };
}

function formParams(req: FastifyRequest): OAuthParams {
  const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
  const out: OAuthParams = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v;
  const basic = basicCredentials(req);
  if (basic.id !== undefined) {
    out.client_id ??= basic.id;
    out.client_secret ??= basic.secret;
  }
  return out;
}

function sendOAuthError(reply: FastifyReply, err: OAuthError): FastifyReply {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply.code(err.status).header('cache-control', 'no-store').send(err.toBody());
}

export function oidcRoutes(app: FastifyInstance, config: Config, rt: IdentityRuntime, audit?: AuditLog): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  // Unknown realms answer like Keycloak.
  app.addHook('preHandler', async (req, reply) => {
    const realm = (req.params as { realm?: string }).realm;
    if (realm !== undefined && realm !== config.idpRealm) {
      return reply.code(404).send({ error: 'Realm does not exist', error_description: `Realm '${realm}' does not exist` });
    }
  });

  // Keycloak answers OAuth errors with its own body; keep that shape for every failure here.
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof OAuthError) return sendOAuthError(reply, err);
    req.log.error({ err }, 'identity endpoint failed');
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply.code(status).send({ error: 'invalid_request', error_description: (err as Error).message });
    }
    return reply.code(500).send({ error: 'server_error', error_description: 'Unexpected error' });
  });

  const base = '/auth/realms/:realm';
  const common = { config: { public: true }, schema: { tags: ['identity'], params: realmParams } };

  app.post(`${base}/protocol/openid-connect/token`, { ...common, schema: { ...common.schema, summary: 'OAuth2 token endpoint (password, client_credentials, refresh_token)' } }, async (req, reply) => {
    const p = formParams(req);
    const who = { username: p.grant_type === 'password' ? (p.username ?? null) : null, clientId: p.client_id ?? null, req };
    let res;
    try {
      res = await rt.tokens.token(issuerFor(config, req), p);
    } catch (err) {
      if (err instanceof OAuthError && p.grant_type !== 'refresh_token') {
        audit?.record({ event: 'login.failed', outcome: 'failure', ...who, details: { grant_type: p.grant_type ?? null, error: err.error, status: err.status } });
      }
      throw err;
    }
    if (p.grant_type !== 'refresh_token') audit?.record({ event: 'login.succeeded', outcome: 'success', ...who, details: { grant_type: p.grant_type } });
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(res);
  });

  app.post(`${base}/protocol/openid-connect/logout`, { ...common, schema: { ...common.schema, summary: 'Revoke the session of a refresh token' } }, async (req, reply) => {
    await rt.tokens.logout(formParams(req));
    return reply.code(204).send();
  });

  app.get(`${base}/protocol/openid-connect/certs`, { ...common, schema: { ...common.schema, summary: 'JSON Web Key Set of the realm' } }, async (_req, reply) => {
    return reply.header('cache-control', 'no-cache').send(await rt.keys.jwks());
  });

  const userinfo = async (req: FastifyRequest, reply: FastifyReply) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    try {
      if (!m) throw new TokenRejected('Missing bearer token');
      const payload = await rt.verifier.verify(m[1]);
      const user = typeof payload.sub === 'string' ? await rt.repo.userById(payload.sub) : undefined;
      if (!user || !user.enabled) throw new TokenRejected('User not found or disabled');
      return reply.send({
        sub: user.id,
        email_verified: false,
        name: user.name,
        preferred_username: user.username,
        ...(user.email ? { email: user.email } : {}),
      });
    } catch (err) {
      if (!(err instanceof TokenRejected)) throw err;
      return reply
        .code(401)
        .header('www-authenticate', `Bearer realm="${config.idpRealm}", error="invalid_token", error_description="Token verification failed"`)
        .send({ error: 'invalid_token', error_description: 'Token verification failed' });
    }
  };
  app.get(`${base}/protocol/openid-connect/userinfo`, { ...common, schema: { ...common.schema, summary: 'Claims of the token owner' } }, userinfo);
  app.post(`${base}/protocol/openid-connect/userinfo`, { ...common, schema: { ...common.schema, summary: 'Claims of the token owner' } }, userinfo);

  app.get(`${base}/.well-known/openid-configuration`, { ...common, schema: { ...common.schema, summary: 'OpenID Connect discovery document' } }, async (req) => {
    const issuer = issuerFor(config, req);
    const oidc = `${issuer}/protocol/openid-connect`;
    return {
      issuer,
      token_endpoint: `${oidc}/token`,
      jwks_uri: `${oidc}/certs`,
      userinfo_endpoint: `${oidc}/userinfo`,
      end_session_endpoint: `${oidc}/logout`,
      grant_types_supported: ['password', 'client_credentials', 'refresh_token'],
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      scopes_supported: ['openid', 'profile', 'email'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'name', 'preferred_username', 'email', 'realm_access', 'applications', 'applications_admin'],
    };
  });

  app.get(base, { ...common, schema: { ...common.schema, summary: 'Realm information' } }, async (req) => {
    const issuer = issuerFor(config, req);
    return {
      realm: config.idpRealm,
      'token-service': `${issuer}/protocol/openid-connect`,
      'account-service': `${issuer}/account`,
      'tokens-not-before': 0,
    };
  });
}
