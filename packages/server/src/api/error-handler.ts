/**
 * Maps every error — ours, Fastify's and zod's — to the envelope
 * {"error":{"message","details","help"}}. Unknown errors become a 500 without
 * stack traces; the full error goes to the log with the request id.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ApiError } from './errors.js';

interface ValidationIssue {
  path?: PropertyKey[];
  instancePath?: string;
  message?: string;
  code?: string;
}

/** `body.items[0].name` style paths, like the reference (leading "body" dropped). */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number' || (typeof seg === 'string' && /^\d+$/.test(seg))) out += `[${String(seg)}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || 'request';
}

function validationError(err: FastifyError): ApiError {
  const context = err.validationContext ?? 'body';
  const issues = (err.validation ?? []) as unknown as ValidationIssue[];
  const details = issues.map((i) => {
    const zodIssue = (i as { params?: { issue?: { path?: PropertyKey[]; code?: string; message?: string } } }).params?.issue;
    const path = zodIssue?.path ?? i.path ?? (i.instancePath ? i.instancePath.split('/').filter(Boolean) : []);
    const where = context === 'body' ? formatIssuePath(path) : formatIssuePath([context, ...path]);
    return { loc: where, msg: zodIssue?.message ?? i.message ?? 'invalid value', type: zodIssue?.code ?? i.code ?? 'invalid' };
  });
  const message = details.length ? details.map((d) => `${d.loc}: ${d.msg}`).join('; ') : err.message;
  return new ApiError(422, message, details, 'Check the request against the API schema at /openapi.json.');
}

/** Framework errors that carry a status and a code; mapped to friendly messages. */
function frameworkError(err: FastifyError): ApiError | null {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'Request body too large', err.message, 'Send a smaller body or raise CODEMIE_BODY_LIMIT.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'Invalid JSON body', err.message, 'The request body must be valid JSON.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'Unsupported media type', err.message, 'Send the body as application/json.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, 'Invalid Content-Length', err.message);
    // Multipart bodies with more parts than a route takes (its schema says how many).
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new ApiError(
        422,
        'body: too many parts in the multipart body',
        err.message,
        'See the operation in /openapi.json for how many files one request may carry.',
      );
  }
  if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message))) {
    return new ApiError(400, 'Invalid JSON body', err.message, 'The request body must be valid JSON.');
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new ApiError(err.statusCode, err.message || 'Bad request');
  }
  return null;
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const fe = err as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fe) || fe?.validation) return validationError(fe);
  return (
    frameworkError(fe) ??
    new ApiError(
      500,
      'Internal Server Error',
      'An unexpected error occurred while processing the request.',
      'Please try again later or contact support if the problem persists.',
    )
  );
}

export function sendError(reply: FastifyReply, err: ApiError): FastifyReply {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply.code(err.status).type('application/json; charset=utf-8').send(err.toBody());
}

export function installErrorHandling(app: FastifyInstance, onDenied?: (req: FastifyRequest, err: ApiError) => void): void {
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const apiErr = toApiError(err);
    if (apiErr.status === 403) onDenied?.(req, apiErr);
    if (apiErr.status >= 500) req.log.error({ err, ...(req.user ? { userId: req.user.id } : {}) }, 'request failed');
    else req.log.info({ status: apiErr.status, msg: apiErr.message }, 'request rejected');
    // Once streaming has started the status line is gone; the stream writer reports errors itself.
    if (reply.sent || reply.raw.headersSent) return;
    return sendError(reply, apiErr);
  });

  app.setNotFoundHandler((req, reply) => {
    const allowed = allowedMethods(app, req);
    if (allowed.length) {
      reply.header('allow', allowed.join(', '));
      return sendError(
        reply,
        new ApiError(405, 'Method Not Allowed', `${req.method} is not supported on ${req.url.split('?')[0]}.`, `Allowed: ${allowed.join(', ')}`),
      );
    }
    return sendError(
      reply,
      new ApiError(404, 'Not Found', `No route for ${req.method} ${req.url.split('?')[0]}.`, 'See /openapi.json or /docs for the available routes.'),
    );
  });
}

/**
 * Fastify reports an unknown method as "not found"; we answer 405 when the path exists
 * with other methods. Route patterns are collected as they are registered.
 */
const routePatterns = new WeakMap<FastifyInstance, { method: string; re: RegExp }[]>();

export function trackRoutes(app: FastifyInstance): void {
  const list: { method: string; re: RegExp }[] = [];
  routePatterns.set(app, list);
  app.addHook('onRoute', (opts) => {
    const escaped = opts.url
      .split('/')
      .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    const re = new RegExp(`^${escaped}/?$`);
    for (const m of [opts.method].flat()) list.push({ method: m, re });
  });
}

function allowedMethods(app: FastifyInstance, req: FastifyRequest): string[] {
  const url = req.url.split('?')[0];
  const list = routePatterns.get(app) ?? [];
  const methods = new Set(list.filter((r) => r.re.test(url)).map((r) => r.method));
  methods.delete('HEAD');
  methods.delete('OPTIONS'); // CORS preflight answers every path; it says nothing about this one
  return [...methods].sort();
}
