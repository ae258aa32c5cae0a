/**
 * Typed errors, mapped to the wire envelope in exactly one place (error-handler.ts).
 * Domain code throws these; it never builds error bodies itself.
 */
export interface ErrorBody {
  error: { message: string; details: unknown; help: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: unknown = null,
    readonly help: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, details: this.details ?? null, help: this.help ?? null } };
  }
}

export const badRequest = (message: string, details: unknown = null, help: string | null = null) => new ApiError(400, message, details, help);

export const unauthorized = (
  details: unknown = 'No valid authentication credentials were provided with this request.',
  help: string | null = "Please ensure you're logged in and your session hasn't expired. Send 'Authorization: Bearer <access token>'.",
) => new ApiError(401, 'Authentication failed', details, help);

export const forbidden = (details: unknown, message = 'Access denied', help: string | null = null) => new ApiError(403, message, details, help);

/** The reference's 404 shape: "<Type> not found" / "The <Type> with ID [<id>] could not be found in the system." */
export const notFound = (type: string, id?: string, details?: string) =>
  new ApiError(
    404,
    `${type} not found`,
    details ?? (id !== undefined ? `The ${type.toLowerCase()} with ID [${id}] could not be found in the system.` : null),
    'Please ensure the specified ID is correct',
  );

export const conflict = (message: string, details: unknown = null) => new ApiError(409, message, details);

export const unprocessable = (message: string, details: unknown = null) => new ApiError(422, message, details);

export const tooManyRequests = (retryAfterSeconds: number, details: unknown = null) =>
  new ApiError(429, 'Too many attempts. Please wait and try again later.', details, null, {
    'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });

export const serviceUnavailable = (message: string, details: unknown = null, help: string | null = null) => new ApiError(503, message, details, help);
