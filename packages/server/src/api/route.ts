/**
 * Route descriptors: one object per HTTP operation, the single source of its path, inputs,
 * responses (success and error), stream chunks, access rule and handler. The adapter in
 * register.ts turns descriptors into Fastify routes (validation, serialization, auth, fair use,
 * streams); openapi.ts documents them from the same objects. See docs/adding-an-endpoint.md.
 */
import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { z } from 'zod';
import type { AuthUser } from './auth.js';
import type { RunAdmission } from '../limits/fair-use.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route, checked before its input is validated. Entity rules (owner, project
 * member, shared) stay in the domain services; this is the route-level gate.
 * - `public`: no token needed;
 * - `user`: any authenticated caller (the default);
 * - `admin`: platform administrators only;
 * - `admin-or-auditor`: administrators, and auditors (read-only routes across projects).
 */
export type Access = 'public' | 'user' | 'admin' | 'admin-or-auditor';

/** Error statuses a route can declare; each is documented with the error envelope. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 410 | 413 | 414 | 415 | 422 | 423 | 429 | 431 | 500 | 501 | 502 | 503 | 504;

type Schema = z.ZodType;
type Opt<T extends Schema | undefined> = T extends Schema ? z.output<T> : undefined;

/** A success body that is not JSON (a file download, Prometheus text), documented by content type. */
export interface RawResponseSpec {
  contentType: string;
  description: string;
  /** A string schema documents text; omit for binary. */
  schema?: Schema;
}

export type SuccessResponses = { [status: number]: Schema | RawResponseSpec };

/** One event of an event-stream response: `data` is a chunk; `id` becomes SSE's `id:` (Last-Event-ID resume). */
export interface StreamEvent<T> {
  id?: string;
  data: T;
}

/** A status other than the first declared one, or extra headers. */
export class Reply<B = unknown> {
  constructor(
    readonly status: number,
    readonly body: B,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** A non-JSON body (stream, buffer or text) with its content type. */
export class RawBody {
  constructor(
    readonly contentType: string,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
    readonly status = 200,
  ) {}
}

export interface EventStreamOptions<T> {
  /** Extra response headers (e.g. x-workflow-execution-id). */
  headers?: Record<string, string>;
  /** The chunk to send when the producer throws after the stream started (the status line is gone by then). */
  onError?: (err: unknown) => T;
  /** Interval of keep-alive comments (default 15 s). */
  heartbeatMs?: number;
}

/** An event-stream answer: written as Server-Sent Events, or NDJSON when the client asks for it. */
export class EventStream<T = unknown> {
  constructor(
    readonly events: AsyncIterable<StreamEvent<T>>,
    readonly options: EventStreamOptions<T> = {},
  ) {}
}

type FirstStatus<R extends SuccessResponses> = Extract<keyof R, number>;
type BodyOf<R extends SuccessResponses, K extends keyof R> = R[K] extends Schema ? z.output<R[K]> : unknown;
/** What a handler may return: the first success body, a Reply, a RawBody or an EventStream. */
export type HandlerResult<R extends SuccessResponses, S extends Schema | undefined> =
  BodyOf<R, FirstStatus<R>> | Reply | RawBody | (S extends Schema ? EventStream<z.output<S>> : never);

export interface HandlerInput<P, Q, B, R extends SuccessResponses, S extends Schema | undefined, A extends Access> {
  params: P;
  query: Q;
  body: B;
  /** The caller; null only on public routes. */
  user: A extends 'public' ? AuthUser | null : AuthUser;
  req: FastifyRequest;
  reply: FastifyReply;
  /** Aborted when the client goes away before the answer is complete. */
  readonly signal: AbortSignal;
  /** The controller behind `signal`, for a producer that may abort the work itself (see AgentRequest.controller). */
  readonly controller: AbortController;
  /** Fair-use admission of a run-starting route (`startsRun`); rolled back by the adapter when the handler fails. */
  admission: RunAdmission;
  /** Answers with another declared status (or extra headers). */
  respond<K extends Extract<keyof R, number>>(status: K, body: BodyOf<R, K>, headers?: Record<string, string>): Reply;
  /** Answers with an event stream of declared chunks. */
  stream(
    events: AsyncIterable<StreamEvent<S extends Schema ? z.output<S> : never>>,
    options?: EventStreamOptions<S extends Schema ? z.output<S> : never>,
  ): EventStream<S extends Schema ? z.output<S> : never>;
}

export interface RouteSpec<
  P extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  B extends Schema | undefined = undefined,
  R extends SuccessResponses = SuccessResponses,
  S extends Schema | undefined = undefined,
  A extends Access = 'user',
> {
  method: HttpMethod;
  /** Fastify syntax (`/assistants/:assistant_id`), relative to the API prefixes unless `root`. */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  access?: A;
  params?: P;
  query?: Q;
  body?: B;
  /** Success responses by status; the first is what a plain return value answers with. */
  responses: R;
  /** Error statuses this route can answer, besides those every route of its kind can (see register.ts). */
  errors?: readonly ErrorStatus[];
  /** The body of this route's errors when it is not the API envelope (OAuth endpoints answer Keycloak's shape). */
  errorBody?: Schema;
  /** The chunk schema when the handler may answer with an event stream. */
  stream?: S;
  /** Starts a run or calls a model: fair-use admission instead of the plain request-rate check. */
  startsRun?: boolean;
  /** Served at the server root instead of under /v1 and /code-assistant-api/v1. */
  root?: boolean;
  /** Left out of the OpenAPI document (interactive docs' own assets and the like). */
  hidden?: boolean;
  /** The body is multipart/form-data, read by the handler itself (documented by `multipart`). */
  multipart?: { fields: Record<string, { type: 'string' | 'binary'; array?: boolean; maxItems?: number; required?: boolean; description?: string }> };
  /** Body is application/x-www-form-urlencoded (OAuth token endpoints). */
  form?: boolean;
  /** Extra Fastify route options (bodyLimit, ...). */
  options?: Pick<RouteShorthandOptions, 'bodyLimit'>;
  handler(input: HandlerInput<Opt<P>, Opt<Q>, Opt<B>, R, S, A>): Promise<HandlerResult<R, S>> | HandlerResult<R, S>;
}

/** A route as the adapter sees it (types erased). */
export type Route = RouteSpec<Schema | undefined, Schema | undefined, Schema | undefined, SuccessResponses, Schema | undefined, Access>;

/**
 * Declares a route. The identity function exists for its types: the handler's input is typed from
 * the schemas and its result is checked against the declared responses.
 */
export function defineRoute<
  P extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  B extends Schema | undefined = undefined,
  R extends SuccessResponses = SuccessResponses,
  S extends Schema | undefined = undefined,
  A extends Access = 'user',
>(spec: RouteSpec<P, Q, B, R, S, A>): Route {
  return spec as unknown as Route;
}
