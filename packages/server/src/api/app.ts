/**
 * Builds the Fastify application: cross-cutting HTTP glue (request ids, errors, auth,
 * OpenAPI, CORS, Server-Timing) plus every domain module's routes, mounted under both
 * API prefixes.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppContext, DomainModule } from '../context.js';
import { installErrorHandling, trackRoutes } from './error-handler.js';
import { installAuth } from './auth.js';
import { installOpenApi } from './openapi.js';
import { genRequestId } from './request-id.js';
import { ROUTE_PREFIXES } from './prefixes.js';
import { installFairUse } from '../limits/hook.js';

export type App = FastifyInstance;

export interface BuildOptions {
  /** A pino logger instance or options; `false` silences logs (tests). */
  logger?: boolean | object;
}

export async function buildApp(ctx: AppContext, modules: DomainModule[], opts: BuildOptions = {}): Promise<App> {
  const logger = opts.logger ?? { level: ctx.config.logLevel };
  const isInstance = typeof logger === 'object' && typeof (logger as { child?: unknown }).child === 'function';
  const app = Fastify({
    ...(isInstance ? { loggerInstance: logger as FastifyBaseLogger } : { logger }),
    genReqId: genRequestId,
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    bodyLimit: ctx.config.bodyLimit,
    // Keep-alive sockets must not hold shutdown hostage; in-flight requests still finish.
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    ajv: { customOptions: { coerceTypes: 'array' } },
  }).withTypeProvider<ZodTypeProvider>();

  // The Python SDK sends `Content-Type: application/json` on every request, bodyless DELETEs and
  // POSTs included; like the reference (FastAPI), an empty JSON body means "no body", not a 400.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    parseJson(req, text, done);
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  trackRoutes(app);
  // Every permission denial lands in the audit log, whichever domain refused.
  installErrorHandling(app, (req, err) =>
    ctx.audit.record({
      event: 'access.denied',
      outcome: 'denied',
      req,
      details: { method: req.method, route: req.routeOptions.url, reason: typeof err.details === 'string' ? err.details : err.message },
    }),
  );
  // Hooks on every request are written callback-style: an async hook costs a promise and a tick.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
  // CORS only when browser origins are configured: otherwise the plugin would still run a hook on
  // every request just to add nothing. Registered before authentication: a browser's preflight
  // carries no credentials and must be answered, not refused with 401.
  if (ctx.config.corsOrigins.length) {
    await app.register(cors, {
      origin: ctx.config.corsOrigins,
      credentials: true,
      exposedHeaders: ['Content-Disposition', 'X-Request-ID', 'Retry-After'],
    });
  }
  installAuth(app, () => ctx.authenticator);
  installFairUse(app, ctx);
  // The interactive docs are public like the spec they render.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), public: true };
  });
  // During shutdown, responses still in flight tell clients to drop the connection, so
  // keep-alive sockets don't hold the close open once their last request is answered.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Also the Server-Timing header: the platform's own time for the request (handy when profiling latency).
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    if (!reply.hasHeader('server-timing')) reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(2)}`);
    done(null, payload);
  });
  // One log line per request (Fastify's default is two) and the HTTP metrics, by route pattern.
  app.addHook('onResponse', (req, reply, done) => {
    req.log.info(
      { method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100, ...(req.user ? { userId: req.user.id } : {}) },
      'request',
    );
    const route = req.routeOptions.url ?? 'unmatched';
    if (route !== '/metrics') {
      ctx.metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
      ctx.metrics.httpDuration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    }
    done();
  });

  await installOpenApi(app, ctx.version);

  for (const mod of modules) {
    if (mod.rootRoutes) await app.register(async (scope) => mod.rootRoutes!(scope, ctx));
    if (mod.apiRoutes) {
      for (const prefix of ROUTE_PREFIXES) {
        await app.register(async (scope) => mod.apiRoutes!(scope, ctx), { prefix });
      }
    }
  }
  await app.ready();
  return app;
}
