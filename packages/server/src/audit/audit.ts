/**
 * The audit log: security-relevant events (logins, failed logins, client and secret changes,
 * permission denials), one row each, readable by admins. Writes are fire-and-forget so a slow
 * database never fails the request being audited; failures are logged.
 */
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { fromJson, toJson } from '../store/json.js';
import { newRowId } from '../store/ids.js';

export interface AuditEvent {
  event: string;
  outcome: 'success' | 'failure' | 'denied';
  userId?: string | null;
  username?: string | null;
  clientId?: string | null;
  /** Non-secret details only: never passwords, secrets, tokens or propagated header values. */
  details?: Record<string, unknown>;
  req?: FastifyRequest;
}

export interface AuditEntry {
  id: string;
  date: string;
  event: string;
  outcome: string;
  user_id: string | null;
  username: string | null;
  client_id: string | null;
  ip: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

export class AuditLog {
  private pending = new Set<Promise<unknown>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: FastifyBaseLogger,
  ) {}

  record(e: AuditEvent): void {
    const row = {
      id: newRowId(),
      date: new Date().toISOString(),
      event: e.event,
      outcome: e.outcome,
      user_id: e.userId ?? e.req?.user?.id ?? null,
      username: e.username ?? e.req?.user?.username ?? null,
      client_id: e.clientId ?? null,
      ip: e.req?.ip ?? null,
      request_id: e.req?.id ?? null,
      details: toJson(e.details ?? {}),
    };
    const p = this.db
      .insertInto('audit_log')
      .values(row)
      .execute()
      .catch((err) => this.log.error({ err, event: e.event }, 'could not write audit log entry'))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Waits for writes in flight (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async list(q: { page: number; perPage: number; event?: string; userId?: string; since?: string }): Promise<{ rows: AuditEntry[]; total: number }> {
    let base = this.db.selectFrom('audit_log');
    if (q.event) base = base.where('event', '=', q.event);
    if (q.userId) base = base.where('user_id', '=', q.userId);
    if (q.since) base = base.where('date', '>=', q.since);
    const [{ n }] = await base.select((eb) => eb.fn.countAll<number>().as('n')).execute();
    const rows = await base
      .selectAll()
      .orderBy('date', 'desc')
      .orderBy('id')
      .limit(q.perPage)
      .offset(q.page * q.perPage)
      .execute();
    return { rows: rows.map((r) => ({ ...r, details: fromJson(r.details, {}) })), total: Number(n) };
  }
}
