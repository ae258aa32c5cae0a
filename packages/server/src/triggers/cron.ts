/**
 * Cron expressions of schedules: parsed by cron-parser (the version BullMQ's job schedulers use, so
 * both modes agree on every tick), evaluated in the schedule's IANA time zone (default UTC).
 * Validation follows the reference's texts: invalid → 422 "Invalid cron expression", more often
 * than the minimum interval (an hour by default, as the reference) → 400 "Cron expression runs too
 * frequently", unknown zone → 422 "Invalid timezone".
 */
import { CronExpressionParser } from 'cron-parser';
import { ApiError } from '../api/errors.js';

export const INVALID_CRON_EXPRESSION_MESSAGE = 'Invalid cron expression';
export const CRON_EXPRESSION_HELP_MESSAGE =
  "Please provide a valid cron expression that runs at most once per hour. Examples: '0 * * * *' (hourly), '0 9 * * MON-FRI' (weekdays at 9 AM), '0 0 * * *' (daily).";

export function isValidTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function validateTimezone(tz: string): void {
  if (!isValidTimezone(tz)) {
    throw new ApiError(
      422,
      'Invalid timezone',
      `'${tz}' is not a recognised IANA timezone name.`,
      "Provide an IANA timezone name such as 'Europe/Warsaw', 'America/New_York', or 'UTC'.",
    );
  }
}

/** Throws the reference's errors for an expression that is not a usable schedule. */
export function validateCron(expression: unknown, minIntervalSeconds: number): string {
  if (expression === undefined) {
    throw new ApiError(422, 'Cron expression is missing.', 'Please provide a cron expression for the scheduler.', CRON_EXPRESSION_HELP_MESSAGE);
  }
  if (typeof expression !== 'string') {
    throw new ApiError(422, 'Invalid schedule format', 'Schedule must be a valid cron expression string.', CRON_EXPRESSION_HELP_MESSAGE);
  }
  const cron = expression.trim();
  if (!cron) throw new ApiError(422, INVALID_CRON_EXPRESSION_MESSAGE, 'Cron expression cannot be empty.', CRON_EXPRESSION_HELP_MESSAGE);
  const fields = cron.split(/\s+/);
  // Five fields, as the reference; a seconds field only where the operator allows sub-minute schedules.
  const allowed = minIntervalSeconds < 60 ? [5, 6] : [5];
  const invalid = (why: string) =>
    new ApiError(422, INVALID_CRON_EXPRESSION_MESSAGE, `The cron expression '${expression}' is not valid: ${why}`, CRON_EXPRESSION_HELP_MESSAGE);
  if (!allowed.includes(fields.length)) throw invalid(`Wrong number of fields; got ${fields.length}, expected ${allowed.join(' or ')}`);
  const dow = fields[fields.length - 1];
  if (/(^|[,-/])7($|[,-/])/.test(dow)) throw invalid('day of week must be in the range 0-6 (or SUN-SAT)');
  let first: Date;
  let second: Date;
  try {
    const it = CronExpressionParser.parse(cron, { currentDate: new Date(), tz: 'UTC' });
    first = it.next().toDate();
    second = it.next().toDate();
  } catch (err) {
    throw invalid((err as Error).message);
  }
  const gap = (second.getTime() - first.getTime()) / 1000;
  if (gap < minIntervalSeconds) {
    const minutes = Math.floor(gap / 60);
    throw new ApiError(
      400,
      `Cron expression runs too frequently: every ${minutes} minute(s)`,
      `Schedule must run at most once per ${minIntervalSeconds >= 3600 ? 'hour' : `${minIntervalSeconds} second(s)`}. Current schedule: '${cron}'`,
      "Please use a schedule that runs hourly or less frequently (e.g., '0 * * * *' for hourly, '0 */2 * * *' for every 2 hours, '0 0 * * *' for daily)",
    );
  }
  return cron;
}

/** The next tick strictly after `after`, in the schedule's time zone. */
export function nextTick(cron: string, tz: string, after: Date): Date {
  return CronExpressionParser.parse(cron, { currentDate: after, tz }).next().toDate();
}
