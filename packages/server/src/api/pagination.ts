import { z } from 'zod';
import { badRequest } from './errors.js';
import { intQuery, type paginationSchema } from './schemas.js';

/** The reference's paging: 0-based `page`, `per_page`; envelope {data, pagination:{page, per_page, total, pages}}. */
export function pageQuery(defaultPerPage: number, maxPerPage = 100) {
  return z.object({
    page: intQuery({ min: 0 }).default(0),
    per_page: intQuery({ min: 1, max: maxPerPage }).default(defaultPerPage),
  });
}

export { paginationSchema } from './schemas.js';

export interface Page<T> {
  data: T[];
  pagination: z.infer<typeof paginationSchema>;
}

export function pageOf<T>(data: T[], total: number, page: number, perPage: number): Page<T> {
  return { data, pagination: { page, per_page: perPage, total, pages: Math.ceil(total / perPage) } };
}

/** The `filters` query parameter of list routes: a JSON object, else 400 with `details`. */
export function parseFilters(raw: string | undefined, details: string): Record<string, unknown> {
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw badRequest('Invalid filters', details);
}
