/**
 * The reference's analytics filters: a time range (a named period, or start/end, default the last
 * 30 days), users and projects (comma-separated), and who may see what:
 * administrators and auditors everything; anyone else their own usage plus every usage in the
 * projects they administer.
 */
import { sql, type RawBuilder } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import { ApiError } from '../api/errors.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PERIODS: Record<string, number> = {
  last_hour: HOUR,
  last_6_hours: 6 * HOUR,
  last_24_hours: 24 * HOUR,
  last_7_days: 7 * DAY,
  last_30_days: 30 * DAY,
  last_60_days: 60 * DAY,
  last_year: 365 * DAY,
};
const DAY_BASED = new Set(['last_7_days', 'last_30_days', 'last_60_days', 'last_year']);

export interface FilterQuery {
  time_period?: string;
  start_date?: string;
  end_date?: string;
  users?: string;
  projects?: string;
}

export interface Filters {
  timePeriod: string | null;
  start: Date;
  end: Date;
  users: string[] | null;
  projects: string[] | null;
}

function invalid(details: string): ApiError {
  return new ApiError(400, 'Invalid request parameters', details, 'Please check your time_period, start_date, end_date, or date range values.');
}

function date(v: string, name: string): Date {
  // A date without a zone is UTC, as the reference reads it.
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) || !v.includes('T') ? v : `${v}Z`);
  if (Number.isNaN(d.getTime())) throw invalid(`${name}: invalid datetime '${v}'`);
  return d;
}

const list = (v: string | undefined) => {
  const xs = (v ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  return xs.length ? xs : null;
};

export function parseFilters(q: FilterQuery, now = new Date()): Filters {
  const users = list(q.users);
  const projects = list(q.projects);
  if (q.time_period) {
    const delta = PERIODS[q.time_period];
    if (delta === undefined) throw invalid(`Invalid time_period: '${q.time_period}'. Valid options are: ${Object.keys(PERIODS).join(', ')}`);
    let start = new Date(now.getTime() - delta);
    if (DAY_BASED.has(q.time_period)) start = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()));
    return { timePeriod: q.time_period, start, end: now, users, projects };
  }
  const endGiven = q.end_date ? date(q.end_date, 'end_date') : null;
  const startGiven = q.start_date ? date(q.start_date, 'start_date') : null;
  const end = endGiven ?? now;
  const start = startGiven ?? new Date(end.getTime() - 30 * DAY);
  if (start > end) throw invalid('start_date must be before end_date');
  if (end.getTime() > now.getTime() + 1000) throw invalid('end_date cannot be in the future');
  return { timePeriod: null, start, end, users, projects };
}

/** `metadata.filters_applied`, as the reference reports it. */
export function filtersApplied(f: Filters): Record<string, unknown> {
  return {
    time_period: f.timePeriod ?? 'custom',
    start_date: f.timePeriod ? null : f.start.toISOString(),
    end_date: f.timePeriod ? null : f.end.toISOString(),
    users: f.users,
    projects: f.projects,
  };
}

/** Whether the viewer sees every row (administrators, auditors). */
export function seesAll(viewer: AuthUser): boolean {
  return viewer.isAdmin || !!viewer.isAuditor;
}

const inList = (col: string, xs: string[]) =>
  sql`${sql.ref(col)} in (${sql.join(
    xs.map((x) => sql`${x}`),
    sql`, `,
  )})`;

/** The filters and the viewer's access, without the time range (conditions on user_id, user_name, project). */
export function scopeParts(viewer: AuthUser, f: Filters): RawBuilder<unknown>[] {
  const parts: RawBuilder<unknown>[] = [];
  if (f.users) parts.push(sql`(${inList('user_id', f.users)} or ${inList('user_name', f.users)})`);
  if (f.projects) parts.push(inList('project', f.projects));
  if (!seesAll(viewer)) {
    const own = sql`user_id = ${viewer.id}`;
    parts.push(viewer.adminProjects.length ? sql`(${own} or ${inList('project', viewer.adminProjects)})` : own);
  }
  return parts;
}

/** The WHERE clause of a usage query: time range, filters, the viewer's access, and extra conditions. */
export function usageWhere(
  viewer: AuthUser,
  f: Filters,
  extra: RawBuilder<unknown>[] = [],
  dateCol = 'date',
  userCols = ['user_id', 'user_name'],
  projectCol = 'project',
): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [sql`${sql.ref(dateCol)} >= ${f.start.toISOString()}`, sql`${sql.ref(dateCol)} <= ${f.end.toISOString()}`];
  if (f.users)
    parts.push(
      sql`(${sql.join(
        userCols.map((c) => inList(c, f.users!)),
        sql` or `,
      )})`,
    );
  if (f.projects) parts.push(inList(projectCol, f.projects));
  if (!seesAll(viewer)) {
    const own = sql`${sql.ref(userCols[0]!)} = ${viewer.id}`;
    parts.push(viewer.adminProjects.length ? sql`(${own} or ${inList(projectCol, viewer.adminProjects)})` : own);
  }
  parts.push(...extra);
  return sql.join(parts, sql` and `);
}
