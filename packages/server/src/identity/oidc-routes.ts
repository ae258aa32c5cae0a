/**
 * Keycloak-compatible endpoints of the embedded IdP under /auth/realms/<realm>/..., so SDKs
 * configured for Keycloak (auth_server_url=<base>/auth, realm codemie) work unchanged.
 * Errors here use Keycloak's `{error, error_description}` shape, not the API envelope.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { defineRoute, Reply } from '../api/route.js';
import type { RouteScope } from '../module.js';
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { OAuthError, type OAuthParams } from './tokens.js';
import type { AuditLog } from '../audit/audit.js';
import { requestBaseUrl, type IdentityRuntime } from './runtime.js';
import { TokenRejected } from '../auth/verifier.js';
import { randomUUID } from 'node:crypto';
import { AUTHORIZE_PARAMS, allowedRedirects, checkAuthorizeRequest, errorPage, loginPage, withParams, type AuthorizeRequest } from './authorize.js';

const realmParams = z.object({ realm: z.string().min(1).max(200) });

/** Keycloak's error body: `{error, error_description}`. */
const oauthErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() }).meta({ id: 'OAuthError' });

/** The form of the token, logout and userinfo endpoints: OAuth parameters, all strings. */
const oauthForm = z
  .object({
    grant_type: z.string().optional(),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    refresh_token: z.string().optional(),
    scope: z.string().optional(),
  })
  .catchall(z.string())
  .meta({ id: 'OAuthForm' });

const tokenResponse = z
  .object({
    access_token: z.string(),
    expires_in: z.number(),
    refresh_expires_in: z.number(),
    refresh_token: z.string().optional(),
    token_type: z.string(),
    id_token: z.string().optional(),
    'not-before-policy': z.number(),
    session_state: z.string().optional(),
    scope: z.string(),
  })
  .meta({ id: 'TokenResponse' });

const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).meta({ id: 'JWKS' });

const userinfoSchema = z.object({
  sub: z.string(),
  email_verified: z.boolean(),
  name: z.string(),
  preferred_username: z.string(),
  email: z.string().optional(),
});

const discoverySchema = z.object({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  jwks_uri: z.string(),
  userinfo_endpoint: z.string(),
  end_session_endpoint: z.string(),
  code_challenge_methods_supported: z.array(z.string()),
  grant_types_supported: z.array(z.string()),
  response_types_supported: z.array(z.string()),
  subject_types_supported: z.array(z.string()),
  id_token_signing_alg_values_supported: z.array(z.string()),
  token_endpoint_auth_methods_supported: z.array(z.string()),
  scopes_supported: z.array(z.string()),
  claims_supported: z.array(z.string()),
});

const realmSchema = z.object({ realm: z.string(), 'token-service': z.string(), 'account-service': z.string(), 'tokens-not-before': z.number() });

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

function formParams(req: FastifyRequest, form: Record<string, unknown> | undefined): OAuthParams {
  const body = form ?? {};
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

/** The embedded IdP's endpoints, in a scope of their own: form bodies, Keycloak's error shape. */
export function oidcScope(config: Config, rt: IdentityRuntime, audit?: AuditLog): RouteScope {
  const base = '/auth/realms/:realm';
  const tags = ['identity'];
  const common = { root: true, access: 'public' as const, tags, params: realmParams, errorBody: oauthErrorSchema };
  const noStore = { 'cache-control': 'no-store', pragma: 'no-cache' };
  /** Unknown realms answer like Keycloak. */
  const checkRealm = (realm: string) => {
    if (realm !== config.idpRealm) throw new OAuthError(404, 'Realm does not exist', `Realm '${realm}' does not exist`);
  };

  const userinfo = async (req: FastifyRequest) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    try {
      if (!m) throw new TokenRejected('Missing bearer token');
      const payload = await rt.verifier.verify(m[1]);
      const user = typeof payload.sub === 'string' ? await rt.repo.userById(payload.sub) : undefined;
      if (!user || !user.enabled) throw new TokenRejected('User not found or disabled');
      return { sub: user.id, email_verified: false, name: user.name, preferred_username: user.username, ...(user.email ? { email: user.email } : {}) };
    } catch (err) {
      if (!(err instanceof TokenRejected)) throw err;
      return new Reply(
        401,
        { error: 'invalid_token', error_description: 'Token verification failed' },
        { 'www-authenticate': `Bearer realm="${config.idpRealm}", error="invalid_token", error_description="Token verification failed"` },
      );
    }
  };

  return {
    root: true,
    setup(app: FastifyInstance) {
      app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(body as string)));
      });
      // Keycloak answers OAuth errors with its own body; keep that shape for every failure here.
      app.setErrorHandler((err, req, reply) => {
        if (err instanceof OAuthError) return sendOAuthError(reply, err);
        const status = (err as { statusCode?: number }).statusCode;
        if (status && status >= 400 && status < 500) {
          return reply.code(status).send({ error: 'invalid_request', error_description: (err as Error).message });
        }
        req.log.error({ err }, 'identity endpoint failed');
        return reply.code(500).send({ error: 'server_error', error_description: 'Unexpected error' });
      });
      installLoginPage(app, config, rt, audit);
    },
    routes: [
      defineRoute({
        ...common,
        method: 'POST',
        path: `${base}/protocol/openid-connect/token`,
        summary: 'OAuth2 token endpoint (authorization_code with PKCE, password, client_credentials, refresh_token)',
        form: true,
        body: oauthForm,
        responses: { 200: tokenResponse },
        errors: [400, 401, 404, 429],
        async handler({ req, params, body }) {
          checkRealm(params.realm);
          const p = formParams(req, body);
          const who = { username: p.grant_type === 'password' ? (p.username ?? null) : null, clientId: p.client_id ?? null, req };
          let res;
          try {
            res = await rt.tokens.token(issuerFor(config, req), p);
          } catch (err) {
            if (err instanceof OAuthError && p.grant_type !== 'refresh_token') {
              audit?.record({
                event: 'login.failed',
                outcome: 'failure',
                ...who,
                details: { grant_type: p.grant_type ?? null, error: err.error, status: err.status },
              });
            }
            throw err;
          }
          if (p.grant_type !== 'refresh_token') audit?.record({ event: 'login.succeeded', outcome: 'success', ...who, details: { grant_type: p.grant_type } });
          return new Reply(200, res, noStore);
        },
      }),
      defineRoute({
        ...common,
        method: 'POST',
        path: `${base}/protocol/openid-connect/logout`,
        summary: 'Revoke the session of a refresh token',
        form: true,
        body: oauthForm,
        responses: { 204: z.null().meta({ description: 'Session revoked' }) },
        errors: [400, 401, 404],
        async handler({ req, params, body }) {
          checkRealm(params.realm);
          await rt.tokens.logout(formParams(req, body));
          return new Reply(204, null);
        },
      }),
      defineRoute({
        ...common,
        method: 'GET',
        path: `${base}/protocol/openid-connect/certs`,
        summary: 'JSON Web Key Set of the realm',
        responses: { 200: jwksSchema },
        errors: [404],
        async handler({ params }) {
          checkRealm(params.realm);
          return new Reply(200, await rt.keys.jwks(), { 'cache-control': 'no-cache' });
        },
      }),
      ...(['GET', 'POST'] as const).map((method) =>
        defineRoute({
          ...common,
          method,
          path: `${base}/protocol/openid-connect/userinfo`,
          summary: 'Claims of the token owner',
          responses: { 200: userinfoSchema },
          errors: [401, 404],
          handler: ({ req, params }) => {
            checkRealm(params.realm);
            return userinfo(req);
          },
        }),
      ),
      defineRoute({
        ...common,
        method: 'GET',
        path: `${base}/.well-known/openid-configuration`,
        summary: 'OpenID Connect discovery document',
        responses: { 200: discoverySchema },
        errors: [404],
        handler({ req, params }) {
          checkRealm(params.realm);
          const issuer = issuerFor(config, req);
          const oidc = `${issuer}/protocol/openid-connect`;
          return {
            issuer,
            authorization_endpoint: `${oidc}/auth`,
            token_endpoint: `${oidc}/token`,
            jwks_uri: `${oidc}/certs`,
            userinfo_endpoint: `${oidc}/userinfo`,
            end_session_endpoint: `${oidc}/logout`,
            code_challenge_methods_supported: ['S256'],
            grant_types_supported: ['authorization_code', 'password', 'client_credentials', 'refresh_token'],
            response_types_supported: ['code', 'token'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: ['RS256'],
            token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
            scopes_supported: ['openid', 'profile', 'email'],
            claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'name', 'preferred_username', 'email', 'realm_access', 'applications', 'applications_admin'],
          };
        },
      }),
      defineRoute({
        ...common,
        method: 'GET',
        path: base,
        summary: 'Realm information',
        responses: { 200: realmSchema },
        errors: [404],
        handler({ req, params }) {
          checkRealm(params.realm);
          const issuer = issuerFor(config, req);
          return {
            realm: config.idpRealm,
            'token-service': `${issuer}/protocol/openid-connect`,
            'account-service': `${issuer}/account`,
            'tokens-not-before': 0,
          };
        },
      }),
    ],
  };
}

/** HTML answers of the login page: no framing, nothing loaded from elsewhere, never cached. */
function sendHtml(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    .header('referrer-policy', 'no-referrer')
    .send(html);
}

/**
 * The browser endpoints of the authorization-code grant (authorize.ts): GET shows the login page,
 * POST checks the password and redirects with a code. Plain Fastify routes (HTML, not JSON), left
 * out of the OpenAPI document.
 */
function installLoginPage(app: FastifyInstance, config: Config, rt: IdentityRuntime, audit?: AuditLog): void {
  const path = '/auth/realms/:realm/protocol/openid-connect/auth';
  const pick = (src: Record<string, unknown> | undefined): AuthorizeRequest => {
    const out: Record<string, string> = {};
    for (const k of AUTHORIZE_PARAMS) if (typeof src?.[k] === 'string') out[k] = src[k] as string;
    return out;
  };
  /** Validates the request; answers the error page or error redirect itself and returns null, or the request. */
  const prepare = (req: FastifyRequest, reply: FastifyReply, p: AuthorizeRequest): AuthorizeRequest | null => {
    const realm = (req.params as { realm: string }).realm;
    if (realm !== config.idpRealm) {
      sendHtml(reply, 404, errorPage(`Realm '${realm}' does not exist`));
      return null;
    }
    let problem;
    try {
      problem = checkAuthorizeRequest(p, config.consoleClientId, allowedRedirects(requestBaseUrl(config, req), config.consoleRedirectUris));
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      sendHtml(reply, 400, errorPage(err.description));
      return null;
    }
    if (problem) {
      reply.redirect(withParams(p.redirect_uri!, { error: problem.error, error_description: problem.description, state: p.state }), 302);
      return null;
    }
    return p;
  };
  const opts = { config: { public: true }, schema: { hide: true } };
  app.get(path, opts, async (req, reply) => {
    const p = prepare(req, reply, pick(req.query as Record<string, unknown>));
    if (!p) return reply;
    return sendHtml(reply, 200, loginPage({ action: req.url.split('?')[0], realm: config.idpRealm, params: p }));
  });
  app.post(path, opts, async (req, reply) => {
    const form = (req.body ?? {}) as Record<string, unknown>;
    const p = prepare(req, reply, pick(form));
    if (!p) return reply;
    const username = typeof form.username === 'string' ? form.username : '';
    const password = typeof form.password === 'string' ? form.password : '';
    const page = (status: number, error: string) =>
      sendHtml(reply, status, loginPage({ action: req.url.split('?')[0], realm: config.idpRealm, params: p, username, error }));
    let user;
    try {
      user = await rt.tokens.checkPassword(username, password);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      audit?.record({
        event: 'login.failed',
        outcome: 'failure',
        username: username || null,
        clientId: p.client_id ?? null,
        req,
        details: { grant_type: 'authorization_code', error: err.error, status: err.status },
      });
      if (err.status === 429) return page(429, 'Too many failed attempts. Try again later.');
      if (err.description === 'Account disabled') return page(400, 'Account is disabled, contact your administrator.');
      return page(401, 'Invalid username or password.');
    }
    const sessionId = randomUUID();
    const code = await rt.codes.create({
      userId: user.id,
      clientId: p.client_id!,
      redirectUri: p.redirect_uri!,
      codeChallenge: p.code_challenge!,
      scope: p.scope ?? 'openid',
      sessionId,
    });
    audit?.record({
      event: 'login.succeeded',
      outcome: 'success',
      username: user.username,
      clientId: p.client_id ?? null,
      req,
      details: { grant_type: 'authorization_code' },
    });
    return reply
      .header('cache-control', 'no-store')
      .redirect(withParams(p.redirect_uri!, { state: p.state, session_state: sessionId, iss: issuerFor(config, req), code }), 302);
  });
}
