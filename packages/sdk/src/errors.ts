/**
 * Typed errors thrown by the SDK.
 *
 * CodeMieError            anything the SDK raises (network failure, bad configuration, malformed stream)
 * └ CodeMieApiError       the server answered with a non-2xx status (alias: ApiError, as in the reference SDK)
 *   ├ NotFoundError       404
 *   └ CodeMieAuthError    the token endpoint refused the credentials, or the API still answered 401
 *                         after one re-authentication
 * CodeMieTimeoutError     waitForCompletion gave up
 */

export class CodeMieError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CodeMieError';
  }
}

export interface ApiErrorInit {
  status: number;
  message: string;
  details?: unknown;
  help?: string | null;
  requestId?: string | null;
  /** Machine-readable code when the body carries one (Keycloak `error`, MCP `authentication_required`, ...). */
  code?: string | null;
  /** The parsed response body (JSON value or text). */
  body?: unknown;
  url?: string;
  method?: string;
}

export class CodeMieApiError extends CodeMieError {
  readonly status: number;
  readonly details: unknown;
  readonly help: string | null;
  readonly requestId: string | null;
  readonly code: string | null;
  readonly body: unknown;
  readonly url: string | undefined;
  readonly method: string | undefined;

  constructor(init: ApiErrorInit) {
    super(init.message);
    this.name = 'CodeMieApiError';
    this.status = init.status;
    this.details = init.details ?? null;
    this.help = init.help ?? null;
    this.requestId = init.requestId ?? null;
    this.code = init.code ?? null;
    this.body = init.body;
    this.url = init.url;
    this.method = init.method;
  }

  /** Same as `status`, named as in the Python SDK's ApiError. */
  get statusCode(): number {
    return this.status;
  }

  /** Same as `body`, named as in the Python SDK's ApiError. */
  get response(): unknown {
    return this.body;
  }
}

/** Name used by the reference SDK (`import { ApiError } from "codemie-sdk"`). */
export const ApiError = CodeMieApiError;
export type ApiError = CodeMieApiError;

export class NotFoundError extends CodeMieApiError {
  constructor(init: ApiErrorInit) {
    super(init);
    this.name = 'NotFoundError';
  }
}

export class CodeMieAuthError extends CodeMieApiError {
  constructor(init: ApiErrorInit) {
    super(init);
    this.name = 'CodeMieAuthError';
  }
}

export class CodeMieTimeoutError extends CodeMieError {
  /** The last state seen before giving up (e.g. the execution record). */
  readonly last: unknown;
  constructor(message: string, last?: unknown) {
    super(message);
    this.name = 'CodeMieTimeoutError';
    this.last = last;
  }
}

function asText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * Reads the fields of an error body in any of the shapes the platform and Keycloak use:
 * `{"error":{"message","details","help"}}` (the platform envelope), `{"error":"x","error_description":"y"}`
 * (Keycloak, OAuth2), `{"detail": "..." | [...]}` (framework errors), `{"message": "..."}`, or plain text.
 */
export function parseErrorBody(
  body: unknown,
  fallback: string,
): { message: string; details: unknown; help: string | null; code: string | null } {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    const err = b.error;
    if (err && typeof err === 'object' && !Array.isArray(err)) {
      const e = err as Record<string, unknown>;
      return {
        message: asText(e.message) ?? fallback,
        details: e.details ?? null,
        help: typeof e.help === 'string' ? e.help : null,
        code: typeof e.code === 'string' ? e.code : null,
      };
    }
    if (typeof err === 'string') {
      const description = typeof b.error_description === 'string' ? b.error_description : null;
      const { error: _e, error_description: _d, ...rest } = b;
      return {
        message: description ?? err,
        details: Object.keys(rest).length > 0 ? rest : null,
        help: null,
        code: err,
      };
    }
    if ('detail' in b) {
      const detail = b.detail;
      if (Array.isArray(detail)) {
        const msgs = detail
          .map((d) => (d && typeof d === 'object' ? asText((d as Record<string, unknown>).msg) : asText(d)))
          .filter((m): m is string => !!m);
        return { message: msgs.join('; ') || fallback, details: detail, help: null, code: null };
      }
      return { message: asText(detail) ?? fallback, details: null, help: null, code: null };
    }
    if (typeof b.message === 'string') {
      return { message: b.message, details: b.details ?? null, help: typeof b.help === 'string' ? b.help : null, code: null };
    }
    return { message: fallback, details: body, help: null, code: null };
  }
  if (typeof body === 'string' && body.trim() !== '') {
    return { message: body.trim().slice(0, 2000), details: null, help: null, code: null };
  }
  return { message: fallback, details: null, help: null, code: null };
}
