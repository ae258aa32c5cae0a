/**
 * Wire schemas shared by every domain: the error envelope (registered once, referenced by every
 * operation's error responses), the `{message}` answer, the reference's paging envelope.
 */
import { z } from 'zod';

/** `{"error":{"message","details","help"}}`: every error the API answers, framework errors included. */
export const errorEnvelopeSchema = z
  .object({
    error: z.object({
      message: z.string(),
      /** A sentence, or structured detail (validation issues, per-row import errors, ...). */
      details: z.unknown(),
      help: z.string().nullable(),
    }),
  })
  .meta({ id: 'ErrorResponse', description: 'The error envelope of every failed request.' });

/** `{"message": "..."}`, the reference's answer to most writes. */
export const messageSchema = z.object({ message: z.string() }).meta({ id: 'MessageResponse' });

export const paginationSchema = z
  .object({
    page: z.number().int(),
    per_page: z.number().int(),
    total: z.number().int(),
    pages: z.number().int(),
  })
  .meta({ id: 'Pagination' });

/** The reference's paged list: `{data: [...], pagination: {page, per_page, total, pages}}`. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), pagination: paginationSchema });
}

/** `created_by` / `updated_by` as the reference stores them. */
export const userRefSchema = z.object({ user_id: z.string(), username: z.string(), name: z.string() }).meta({ id: 'UserRef' });

/**
 * A boolean query parameter as clients send it: `true`/`false`, `1`/`0`, and the Python SDK's
 * `True`/`False` (FastAPI accepts any case).
 */
/**
 * An integer query parameter as FastAPI reads one: decimal digits (surrounding spaces allowed);
 * an empty value, a fraction or `1e3` is refused (422). Documented as an integer.
 */
export function intQuery(range: { min?: number; max?: number } = {}) {
  let n = z.number().int();
  if (range.min !== undefined) n = n.min(range.min);
  if (range.max !== undefined) n = n.max(range.max);
  return z.preprocess((v) => (typeof v === 'string' ? (/^\s*-?\d+\s*$/.test(v) ? Number(v) : Number.NaN) : v), n);
}

const boolText = () =>
  z.enum(['true', 'false', 'True', 'False', 'TRUE', 'FALSE', '1', '0']).transform((v) => v === 'true' || v === 'True' || v === 'TRUE' || v === '1');

export function boolQuery(): z.ZodOptional<ReturnType<typeof boolText>>;
export function boolQuery(defaultValue: boolean): z.ZodDefault<ReturnType<typeof boolText>>;
export function boolQuery(defaultValue?: boolean) {
  return defaultValue === undefined ? boolText().optional() : boolText().default(defaultValue);
}
