/**
 * Builds the Fastify application: cross-cutting HTTP glue (request ids, errors, auth, text
 * hygiene, OpenAPI, CORS, Server-Timing) plus every module's route descriptors, mounted under both
 * API prefixes (or at the root).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import cors from '@fastify/cors';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { ApiError } from './errors.js';
import { installErrorHandling, sendError, trackRoutes } from './error-handler.js';
import { installAuth, type Authenticator } from './auth.js';
import { installOpenApi } from './openapi.js';
import { genRequestId } from './request-id.js';
import { ROUTE_PREFIXES } from './prefixes.js';
import { installFairUse, runAdmission } from '../limits/hook.js';
import { installShedding, LoadShedder } from '../limits/shedding.js';
import { registerRoutes, type RegisterDeps } from './register.js';
import type { Route } from './route.js';
import { checkText, decodeUtf8, mayHoldBadText } from './text.js';

export type App = FastifyInstance;

export interface BuildOptions {
  /** A pino logger instance or options; `false` silences logs (tests). */
  logger?: boolean | object;
  /** Resolves the caller of protected routes (read per request: tests swap it). */
  authenticator: () => Authenticator;
}

/** Request line and headers together; larger → 431. */
const MAX_HEADER_BYTES = 64 * 1024;

/** Longest path parameter the router accepts; longer ones are refused by the descriptors' own limits first. */
const MAX_PARAM_LENGTH = 4096;

/** Errors Fastify meets before a route runs (bad URL encoding, an over-long parameter), in the envelope. */
function frameworkErrors(err: { code?: string }, _req: FastifyRequest, reply: FastifyReply) {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return sendError(reply, new ApiError(414, 'URI Too Long', `A path parameter is longer than ${MAX_PARAM_LENGTH} characters.`, 'Send shorter identifiers.'));
  }
  if (err.code === 'FST_ERR_BAD_URL') return sendError(reply, new ApiError(400, 'Bad Request', 'The URL is not validly encoded.', 'Percent-encode the path.'));
  return sendError(
    reply,
    new ApiError(
      500,
      'Internal Server Error',
      'An unexpected error occurred while processing the request.',
      'Please try again later or contact support if the problem persists.',
    ),
  );
}

/** Malformed requests Node's HTTP parser refuses (431, 408, 400): answered in the envelope on the raw socket. */
function clientError(err: NodeJS.ErrnoException, socket: Socket) {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  const [status, text, message, details] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'Request header fields too large', 'The request headers exceed the server limit.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'Request timeout', 'The request was not received in time.']
        : [400, 'Bad Request', 'Bad request', 'The request could not be parsed as HTTP.'];
  const body = JSON.stringify(new ApiError(status as number, message as string, details).toBody());
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export async function buildApp(infra: Infra, modules: Module[], opts: BuildOptions): Promise<App> {
  const { config } = infra;
  const logger = opts.logger ?? { level: config.logLevel };
  const isInstance = typeof logger === 'object' && typeof (logger as { child?: unknown }).child === 'function';
  const app = Fastify({
    ...(isInstance ? { loggerInstance: logger as FastifyBaseLogger } : { logger }),
    genReqId: genRequestId,
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    bodyLimit: config.bodyLimit,
    // Keep-alive sockets must not hold shutdown hostage; in-flight requests still finish.
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    clientErrorHandler: clientError,
    // Request line + headers: Node's default (16 KiB) is too small for a long `filters` query.
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    ajv: { customOptions: { coerceTypes: 'array' } },
  }).withTypeProvider<ZodTypeProvider>();

  // The Python SDK sends `Content-Type: application/json` on every request, bodyless DELETEs and
  // POSTs included; like the reference (FastAPI), an empty JSON body means "no body", not a 400.
  // Text that is not UTF-8, or holds NUL characters or lone surrogates, is refused here (422).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    let text: string;
    try {
      text = decodeUtf8(body as Buffer);
    } catch (err) {
      return done(err as Error, undefined);
    }
    // Only JSON's own whitespace makes a body empty (a lone vertical tab is not JSON: 400).
    if (/^[ \t\n\r]*$/.test(text)) return done(null, undefined);
    parseJson(req, text, (err, value) => {
      if (err) return done(err, undefined);
      const bad = mayHoldBadText(text) ? checkText(value) : null;
      done(bad, bad ? undefined : value);
    });
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  trackRoutes(app);
  // Every permission denial lands in the audit log, whichever domain refused.
  installErrorHandling(app, (req, err) =>
    infra.audit.record({
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
  if (config.corsOrigins.length) {
    await app.register(cors, {
      origin: config.corsOrigins,
      credentials: true,
      exposedHeaders: ['Content-Disposition', 'X-Request-ID', 'Retry-After'],
    });
  }
  installAuth(app, opts.authenticator);
  // Load shedding before fair use: a refused call costs nothing, not even a counter round trip.
  installShedding(
    app,
    new LoadShedder(
      {
        maxInflight: config.maxInflightCalls,
        maxInflightPerUser: config.maxInflightCallsPerUser,
        maxEventLoopDelayMs: config.maxEventLoopDelayMs,
        retryAfterSeconds: 1,
      },
      infra.metrics.registry,
    ),
  );
  installFairUse(app, infra.fairUse);
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
      {
        method: req.method,
        url: req.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        ...(req.user ? { userId: req.user.id } : {}),
      },
      'request',
    );
    const route = req.routeOptions.url ?? 'unmatched';
    if (route !== '/metrics') {
      infra.metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
      infra.metrics.httpDuration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    }
    done();
  });

  await installOpenApi(app, infra.version);

  const deps: RegisterDeps = {
    admission: (req) => runAdmission(infra.fairUse, req),
    isAuditor: (u) => u.isAuditor ?? u.roles.includes(config.auditorRole),
  };
  const mount = async (routes: Route[], setup?: (scope: FastifyInstance) => void | Promise<void>) => {
    const root = routes.filter((r) => r.root);
    const api = routes.filter((r) => !r.root);
    if (root.length) {
      await app.register(async (scope) => {
        await setup?.(scope);
        registerRoutes(scope, root, deps);
      });
    }
    if (api.length) {
      for (const prefix of ROUTE_PREFIXES) {
        await app.register(
          async (scope) => {
            await setup?.(scope);
            registerRoutes(scope, api, deps);
          },
          { prefix },
        );
      }
    }
  };
  for (const mod of modules) {
    if (mod.routes?.length) await mount(mod.routes);
    for (const scope of mod.scopes ?? []) await mount(scope.root ? scope.routes.map((r) => ({ ...r, root: true })) : scope.routes, scope.setup);
  }
  await app.ready();
  return app;
}
