/**
 * The adapter from route descriptors (route.ts) to Fastify: schemas for validation, serialization
 * and OpenAPI; the access gate; typed handler input; the answer (JSON, another status, a raw body,
 * or an event stream written as SSE/NDJSON with heartbeats and abort on disconnect); fair-use
 * admission rolled back when the handler fails.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { z } from 'zod';
import type { AuthUser } from './auth.js';
import { forbidden, unauthorized } from './errors.js';
import { errorEnvelopeSchema } from './schemas.js';
import { EventStream, RawBody, Reply, type Access, type ErrorStatus, type RawResponseSpec, type Route } from './route.js';
import { negotiateStreamFormat, openStream } from './stream.js';
import { sseEventSchema } from '../wire/chunk.js';
import { checkText } from './text.js';
import type { RunAdmission } from '../limits/fair-use.js';

export interface RegisterDeps {
  /** The fair-use admission of a run-starting request (limits/hook.ts). */
  admission(req: FastifyRequest): RunAdmission;
  /** Whether a user holds the read-only auditor role (identity). */
  isAuditor(user: AuthUser): boolean;
}

export const ADMIN_ONLY = 'This action requires administrator or maintainer privileges.';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The descriptor behind this route (OpenAPI and error documentation read it). */
    descriptor?: Route;
  }
}

const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'Bad request: malformed JSON, or input the operation cannot accept',
  401: 'Missing, invalid or expired token',
  403: 'Authenticated, but not allowed',
  404: 'Unknown entity',
  405: 'Method not allowed',
  409: 'Conflicts with the current state',
  410: 'Gone',
  413: 'Request body too large',
  414: 'A path parameter is too long',
  415: 'Unsupported media type',
  422: 'The input fails the schema',
  423: 'Locked',
  429: 'Rate limited (see Retry-After)',
  431: 'Request line and headers too large',
  500: 'Unexpected server error (no stack traces)',
  501: 'Not implemented on this server',
  502: 'The upstream model or service failed',
  503: 'A dependency is unavailable (see Retry-After where given)',
  504: 'The upstream model or service timed out',
};

/** Error statuses every route of a kind can answer, added to what it declares. */
export function errorStatusesOf(route: Route): ErrorStatus[] {
  const out = new Set<ErrorStatus>(route.errors ?? []);
  if ((route.access ?? 'user') !== 'public') {
    out.add(401);
    out.add(429);
  }
  // Run-starting routes are shed with 503 when the process is at capacity (limits/shedding.ts).
  if (route.startsRun) out.add(503);
  if (route.access === 'admin' || route.access === 'admin-or-auditor') out.add(403);
  // Input that fails the schema: 422 in the envelope; routes with an error format of their own
  // (the OAuth endpoints) answer it with 400, as Keycloak does.
  if (route.params || route.query || route.body) out.add(route.errorBody ? 400 : 422);
  if (route.body) {
    out.add(400); // malformed JSON
    out.add(413);
    out.add(415);
  }
  // Any request can be too large for the HTTP parser or the router.
  out.add(414);
  out.add(431);
  out.add(500);
  return [...out].sort((a, b) => a - b);
}

const isRaw = (r: unknown): r is RawResponseSpec => !!r && typeof r === 'object' && 'contentType' in r && !(r instanceof z.ZodType);

/** Fastify's `schema.response` for a descriptor: success schemas, stream content types, the envelope per error status. */
function responseSchemas(route: Route): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  const statuses = Object.keys(route.responses).map(Number);
  for (const status of statuses) {
    const r = route.responses[status];
    if (isRaw(r)) {
      out[status] = { description: r.description, content: { [r.contentType]: { schema: r.schema ?? z.string().meta({ format: 'binary' }) } } };
    } else if (route.stream && status === statuses[0]) {
      out[status] = {
        description: 'JSON, or with `stream: true` an event stream of chunks (Server-Sent Events; NDJSON with Accept: application/x-ndjson)',
        content: {
          'application/json': { schema: r },
          'text/event-stream': { schema: sseEventSchema },
          'application/x-ndjson': { schema: route.stream },
        },
      };
    } else {
      out[status] = r;
    }
  }
  for (const status of errorStatusesOf(route)) {
    // 414 and 431 are answered before any route runs: always in the envelope.
    const body = status === 414 || status === 431 ? errorEnvelopeSchema : (route.errorBody ?? errorEnvelopeSchema);
    out[status] ??= { description: ERROR_DESCRIPTIONS[status], content: { 'application/json': { schema: body } } };
  }
  return out;
}

function gate(access: Access, deps: RegisterDeps) {
  if (access !== 'admin' && access !== 'admin-or-auditor') return undefined;
  return (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    const user = req.user;
    if (!user) return done(unauthorized());
    if (user.isAdmin || (access === 'admin-or-auditor' && req.method === 'GET' && deps.isAuditor(user))) return done();
    done(forbidden(ADMIN_ONLY));
  };
}

/** NUL bytes and lone surrogates in path and query parameters → 422 (JSON bodies are checked while parsed). */
function checkUrlText(req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) {
  const bad = checkText(req.params, 'path') ?? checkText(req.query, 'query');
  done(bad ?? undefined);
}

/** Registers descriptors on `app` (a prefix scope or the root). */
export function registerRoutes(app: FastifyInstance, routes: Route[], deps: RegisterDeps): void {
  for (const route of routes) app.route(toFastify(route, deps));
}

function toFastify(route: Route, deps: RegisterDeps): RouteOptions {
  const access = route.access ?? 'user';
  const firstStatus = Number(Object.keys(route.responses)[0]);
  const accessGate = gate(access, deps);
  return {
    method: route.method,
    url: route.path,
    ...route.options,
    config: { public: access === 'public', startsRun: route.startsRun, descriptor: route },
    schema: {
      tags: route.tags,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      ...(route.params ? { params: route.params } : {}),
      ...(route.query ? { querystring: route.query } : {}),
      ...(route.body ? { body: route.body } : {}),
      response: responseSchemas(route),
      ...(route.hidden ? { hide: true } : {}),
    },
    // The access gate runs before validation: an unauthorised caller learns nothing about the input.
    preValidation: accessGate ? [accessGate, checkUrlText] : [checkUrlText],
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      let controller: AbortController | undefined;
      let admission: RunAdmission | undefined;
      let admitted = false;
      const onClose = () => {
        if (!reply.raw.writableFinished) controller?.abort('client disconnected');
      };
      const lazyController = () => {
        if (!controller) {
          controller = new AbortController();
          reply.raw.on('close', onClose);
        }
        return controller;
      };
      const input = {
        params: req.params,
        query: req.query,
        body: req.body,
        user: req.user,
        req,
        reply,
        get signal() {
          return lazyController().signal;
        },
        get controller() {
          return lazyController();
        },
        get admission(): RunAdmission {
          if (!admission) {
            const a = deps.admission(req);
            admission = {
              admit: async (project, runId) => {
                await a.admit(project, runId);
                admitted = true;
              },
              rollback: () => a.rollback(),
            };
          }
          return admission;
        },
        respond: (status: number, body: unknown, headers?: Record<string, string>) => new Reply(status, body, headers),
        stream: (events: EventStream['events'], options?: EventStream['options']) => new EventStream(events, options),
      };
      const rollback = async () => {
        if (admitted) {
          admitted = false;
          await admission!.rollback();
        }
      };
      let result: unknown;
      try {
        result = await route.handler(input as never);
      } catch (err) {
        await rollback();
        reply.raw.off('close', onClose);
        throw err;
      }
      if (result instanceof EventStream) {
        await writeEventStream(req, reply, result, lazyController(), rollback);
        return reply;
      }
      reply.raw.off('close', onClose);
      if (result instanceof Reply) {
        for (const [k, v] of Object.entries(result.headers)) reply.header(k, v);
        return reply.code(result.status).send(result.body);
      }
      if (result instanceof RawBody) {
        for (const [k, v] of Object.entries(result.headers)) reply.header(k, v);
        return reply.code(result.status).type(result.contentType).send(result.body);
      }
      reply.code(firstStatus);
      return result;
    },
  } as RouteOptions;
}

/**
 * Writes an EventStream: headers at once (with the time spent so far), each event as it comes;
 * a producer failure before its first event frees the request's fair-use admission. The client
 * going away aborts `controller`, and the loop stops pulling (the producer's finally blocks run).
 */
async function writeEventStream(
  req: FastifyRequest,
  reply: FastifyReply,
  s: EventStream,
  controller: AbortController,
  rollback: () => Promise<void>,
): Promise<void> {
  const writer = openStream(req, reply, negotiateStreamFormat(req), {
    controller,
    heartbeatMs: s.options.heartbeatMs,
    headers: { 'server-timing': `app;dur=${reply.elapsedTime.toFixed(2)}`, ...s.options.headers },
  });
  let started = false;
  try {
    for await (const ev of s.events) {
      started = true;
      await writer.write(ev);
      if (writer.signal.aborted) break;
    }
  } catch (err) {
    if (!started) await rollback().catch(() => undefined);
    req.log.error({ err }, 'event stream failed');
    if (s.options.onError && !writer.signal.aborted) await writer.write({ data: s.options.onError(err) });
  } finally {
    writer.end();
  }
}
