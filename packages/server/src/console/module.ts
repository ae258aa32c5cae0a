/**
 * The web console (packages/web, docs/console.md): its built files served at `/` and `/assets/*`
 * (the API stays under /v1 and /code-assistant-api/v1, Swagger UI at /docs), and GET
 * /v1/console/config telling the console which OIDC issuer and client to sign in with: the
 * embedded IdP by default, a real Keycloak (or any OIDC provider) with CODEMIE_CONSOLE_ISSUER.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { defineRoute, RawBody } from '../api/route.js';
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { requestBaseUrl } from '../identity/runtime.js';
import { publicBaseUrl } from '../config/config.js';

/** Where `npm run build -w packages/web` (run by `npm start`) writes the console. */
export const CONSOLE_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web/dist');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

const consoleConfigSchema = z
  .object({
    issuer: z.string().meta({ description: 'OIDC issuer; its discovery document names the authorization, token and logout endpoints' }),
    client_id: z.string(),
    scope: z.string(),
    api_base: z.string().meta({ description: 'Path of the API the console calls' }),
    embedded_idp: z.boolean(),
  })
  .meta({ id: 'ConsoleConfig' });

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>CodeMie</title></head>
<body style="font-family:system-ui,sans-serif;padding:2rem"><h1>CodeMie</h1>
<p>The web console is not built in this installation. Build it with <code>npm run build -w packages/web</code>
(<code>npm start</code> does it), or use the API: <a href="/docs">/docs</a>.</p></body></html>
`;

export function consoleModule(infra: Infra, opts: { dist?: string } = {}): Module<null> {
  const { config } = infra;
  const dist = path.resolve(opts.dist ?? config.consoleDir ?? CONSOLE_DIST);
  const assetsDir = path.join(dist, 'assets');
  let index: string | undefined;
  const indexHtml = () => {
    if (index === undefined && existsSync(path.join(dist, 'index.html'))) index = readFileSync(path.join(dist, 'index.html'), 'utf8');
    return index;
  };
  const security = {
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  return {
    name: 'console',
    services: null,
    started() {
      if (config.role === 'worker') return;
      const who = config.consoleIssuer ? `through ${config.consoleIssuer}` : `as admin: CODEMIE_ADMIN_PASSWORD, or the password printed at first start`;
      process.stdout.write(
        indexHtml()
          ? `Web console: ${publicBaseUrl(config)}/  (sign in ${who})\n`
          : `Web console: not built (run \`npm run build -w packages/web\`; \`npm start\` does it)\n`,
      );
    },
    routes: [
      defineRoute({
        method: 'GET',
        path: '/console/config',
        access: 'public',
        tags: ['console'],
        summary: 'Sign-in settings of the web console (OIDC issuer and public client)',
        responses: { 200: consoleConfigSchema },
        handler({ req }) {
          const embedded = !config.consoleIssuer;
          return {
            issuer: config.consoleIssuer?.replace(/\/$/, '') ?? `${requestBaseUrl(config, req)}/auth/realms/${config.idpRealm}`,
            client_id: config.consoleClientId,
            scope: 'openid profile email',
            api_base: '/v1',
            embedded_idp: embedded,
          };
        },
      }),
    ],
    scopes: [
      {
        root: true,
        routes: [
          defineRoute({
            method: 'GET',
            path: '/',
            root: true,
            access: 'public',
            tags: ['console'],
            summary: 'The web console (HTML)',
            responses: { 200: { contentType: 'text/html', description: 'The console page', schema: z.string() } },
            handler: () => new RawBody('text/html; charset=utf-8', indexHtml() ?? NOT_BUILT, { ...security, 'cache-control': 'no-cache' }),
          }),
        ],
        setup(app: FastifyInstance) {
          const opts = { config: { public: true }, schema: { hide: true } };
          app.get('/assets/*', opts, async (req, reply) => {
            const rel = (req.params as { '*': string })['*'];
            const file = path.resolve(assetsDir, rel);
            if (!file.startsWith(assetsDir + path.sep) || !/^[\w.\-/]+$/.test(rel)) return reply.code(404).send({ error: 'Not Found' });
            let body: Buffer;
            try {
              body = await readFile(file);
            } catch {
              return reply.code(404).headers({ 'content-type': 'application/json' }).send({ error: 'Not Found', message: 'No such asset' });
            }
            return reply
              .code(200)
              .headers({
                ...security,
                'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
                // Vite puts a content hash in every asset's name.
                'cache-control': 'public, max-age=31536000, immutable',
              })
              .send(body);
          });
        },
      },
    ],
  };
}
