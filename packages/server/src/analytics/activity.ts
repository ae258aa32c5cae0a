/**
 * `/v1/admin/activity-events`: who created, changed, deleted, assigned what, read from the audit
 * log (audit/). Each successful audit event is shown as the reference's activity event: a domain,
 * an event type, the entity it is about, the actor, and the event's non-secret details as
 * attributes. Failed logins and permission denials stay in `/v1/admin/audit` only.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../store/schema.js';
import { fromJson } from '../store/json.js';

interface Kind {
  /** Stored audit event names (exact, or a prefix ending with '.'). */
  match: string;
  domain: string;
  entity: string;
  /** The reference's event type, when it names the event otherwise. */
  type?: string;
  /** The details key holding the entity's id. */
  idKey: string;
}

/** Longest match first: specific events before their prefix. */
const KINDS: Kind[] = [
  { match: 'login.succeeded', domain: 'user_management', entity: 'user', type: 'user.login', idKey: '' },
  { match: 'user.project_assigned', domain: 'user_management', entity: 'user', type: 'user.project.assigned', idKey: 'target' },
  { match: 'user.project_removed', domain: 'user_management', entity: 'user', type: 'user.project.removed', idKey: 'target' },
  { match: 'user.project_role_updated', domain: 'user_management', entity: 'user', type: 'user.project.role_updated', idKey: 'target' },
  { match: 'user.', domain: 'user_management', entity: 'user', idKey: 'target' },
  { match: 'project.', domain: 'project_management', entity: 'project', idKey: 'project' },
  { match: 'budget.cost_center.', domain: 'budget_management', entity: 'cost_center', idKey: 'cost_center_id' },
  { match: 'budget.', domain: 'budget_management', entity: 'project_budget', idKey: 'budget_id' },
  { match: 'client.', domain: 'platform_configuration', entity: 'client', idKey: 'clientId' },
  { match: 'dynamic_config.', domain: 'platform_configuration', entity: 'dynamic_config', idKey: 'name' },
  { match: 'customer_config.', domain: 'platform_configuration', entity: 'customer_config', idKey: 'id' },
];

const kindOf = (event: string) => KINDS.find((k) => (k.match.endsWith('.') ? event.startsWith(k.match) : event === k.match));
const typeOf = (event: string, k: Kind) => k.type ?? event;

/** Keys whose values never leave the server, whatever an event put in its details. */
const SECRET = /secret|password|token|api[_-]?key|authorization|credential/i;

function scrub(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(scrub);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET.test(k) ? '***' : scrub(x)]));
  return v;
}

export interface ActivityQuery {
  actor_id?: string;
  domain?: string[];
  event_type?: string[];
  entity_type?: string[];
  entity_id?: string;
  from?: string;
  to?: string;
  sort_dir: 'asc' | 'desc';
  limit: number;
  offset: number;
}

const like = (m: string) => (m.endsWith('.') ? sql`event like ${`${m}%`}` : sql`event = ${m}`);

export class ActivityEvents {
  constructor(private readonly db: Kysely<Database>) {}

  private eventCondition(q: ActivityQuery): RawBuilder<unknown> {
    let kinds = KINDS;
    if (q.domain?.length) kinds = kinds.filter((k) => q.domain!.includes(k.domain));
    if (q.entity_type?.length) kinds = kinds.filter((k) => q.entity_type!.includes(k.entity));
    const parts: RawBuilder<unknown>[] = [];
    if (!kinds.length) return sql`1 = 0`;
    parts.push(
      sql`(${sql.join(
        kinds.map((k) => like(k.match)),
        sql` or `,
      )})`,
    );
    if (q.event_type?.length) {
      // The reference's names, and the stored names they stand for.
      const names = q.event_type.flatMap((t) => [t, ...KINDS.filter((k) => k.type === t).map((k) => k.match)]);
      parts.push(
        sql`event in (${sql.join(
          names.map((x) => sql`${x}`),
          sql`, `,
        )})`,
      );
    }
    return sql.join(parts, sql` and `);
  }

  async list(q: ActivityQuery) {
    const where: RawBuilder<unknown>[] = [sql`a.outcome = 'success'`, this.eventCondition(q)];
    if (q.actor_id) where.push(sql`a.user_id = ${q.actor_id}`);
    if (q.from) where.push(sql`a.date >= ${new Date(q.from).toISOString()}`);
    if (q.to) where.push(sql`a.date <= ${new Date(q.to).toISOString()}`);
    if (q.entity_id) where.push(sql`a.details like ${`%${q.entity_id.replace(/[%_]/g, '')}%`}`);
    const w = sql.join(where, sql` and `);
    const dir = q.sort_dir === 'asc' ? sql`asc` : sql`desc`;
    type R = {
      id: string;
      date: string;
      event: string;
      user_id: string | null;
      username: string | null;
      details: string;
      email: string | null;
      name: string | null;
    };
    const select = sql`a.id, a.date, a.event, a.user_id, a.username, a.details, u.email, u.name from audit_log a left join idp_users u on u.id = a.user_id`;
    let rows: R[];
    let total: number;
    if (q.entity_id) {
      // The entity is inside the details: the candidates found by text are checked one by one.
      const all = (await sql<R>`select ${select} where ${w} order by a.date ${dir}, a.id ${dir}`.execute(this.db)).rows;
      const exact = all.filter((r) => this.item(r).entity_id === q.entity_id);
      total = exact.length;
      rows = exact.slice(q.offset, q.offset + q.limit);
    } else {
      const [c] = (await sql<{ n: unknown }>`select count(*) as n from audit_log a where ${w}`.execute(this.db)).rows;
      total = Number(c?.n ?? 0);
      rows = (await sql<R>`select ${select} where ${w} order by a.date ${dir}, a.id ${dir} limit ${q.limit} offset ${q.offset}`.execute(this.db)).rows;
    }
    return {
      data: rows.map((r) => this.item(r)),
      pagination: { page: Math.floor(q.offset / q.limit), per_page: q.limit, total, pages: Math.ceil(total / q.limit) },
    };
  }

  private item(r: {
    id: string;
    date: string;
    event: string;
    user_id: string | null;
    username: string | null;
    details: string;
    email: string | null;
    name: string | null;
  }) {
    const k = kindOf(r.event)!;
    const details = scrub(fromJson<Record<string, unknown>>(r.details, {})) as Record<string, unknown>;
    const id = k.idKey ? details[k.idKey] : r.user_id;
    return {
      id: r.id,
      domain: k.domain,
      event_type: typeOf(r.event, k),
      entity_type: k.entity,
      entity_id: id == null ? null : String(id),
      actor_id: r.user_id,
      actor_email: r.email || r.username,
      actor_name: r.name || r.username,
      attributes: details,
      created_at: r.date,
    };
  }

  /** Domains, event types and entity types that occur in the log, and which belong together. */
  async filterOptions() {
    const rows = (await sql<{ event: string }>`select distinct event from audit_log where outcome = 'success'`.execute(this.db)).rows;
    const mapping: Record<string, { event_types: string[]; entity_types: string[] }> = {};
    for (const { event } of rows) {
      const k = kindOf(event);
      if (!k) continue;
      const m = (mapping[k.domain] ??= { event_types: [], entity_types: [] });
      const t = typeOf(event, k);
      if (!m.event_types.includes(t)) m.event_types.push(t);
      if (!m.entity_types.includes(k.entity)) m.entity_types.push(k.entity);
    }
    for (const m of Object.values(mapping)) {
      m.event_types.sort();
      m.entity_types.sort();
    }
    const all = (f: (m: { event_types: string[]; entity_types: string[] }) => string[]) => [...new Set(Object.values(mapping).flatMap(f))].sort();
    return { domains: Object.keys(mapping).sort(), event_types: all((m) => m.event_types), entity_types: all((m) => m.entity_types), mapping };
  }
}
