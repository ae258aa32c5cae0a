/**
 * Project budgets (`/v1/admin/project-budgets`) and their enforcement. A budget caps a project's
 * spending in a category over a period (`budget_duration`: 30d, 12h, 90m); the cap is shared among
 * the project's members (allocation `equal`: max/members each, unless overridden per member).
 * Before a model call (`infra.usage.checkBudget`) the caller's spending in the current period is
 * read from the usage records:
 * - at or over the member's hard allocation (or the project at its max): the call is refused with
 *   the reference's budget error, and a hard-limit event is kept (once per user, budget, period);
 * - at or over the soft allocation: a soft-limit event and an activity event, the call runs.
 * A period ends `budget_duration` after it started; the next call after that starts a new one.
 *
 * The check is on the path of every model call, so it stays cheap:
 * - a project's budgets come from an in-process cache (bounded in entries, `budget_rules` in
 *   /metrics), emptied for the project by every budget write in this process and otherwise at most
 *   BUDGET_CACHE_MS old, so another node's budget writes take effect here within that time;
 * - the period's spending is read like the analytics views (usageSource): whole hours from the
 *   hourly rollup, the partial first and last hours from the records, so the cost grows with the
 *   hours of the period, not with the calls made in it, and the sum is exact.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import { ApiError, badRequest, forbidden, notFound } from '../api/errors.js';
import type { AuditLog } from '../audit/audit.js';
import type { Database } from '../store/schema.js';
import { fromJson, toJson } from '../store/json.js';
import { trackCache } from '../metrics/caches.js';
import type { BudgetSubject } from './recorder.js';
import { usageSource } from './service.js';
import type { ProjectBudgetsTable } from './tables.js';

export const BUDGET_CATEGORIES = ['platform', 'cli', 'premium_models'] as const;
export type BudgetCategory = (typeof BUDGET_CATEGORIES)[number];
export const BUDGET_EXCEEDED_MESSAGE = 'Your LLM usage budget has been exceeded. Please contact your administrator to increase the limit.';

export interface BudgetDeps {
  db: Kysely<Database>;
  audit?: AuditLog;
  /** The project's members (user ids). */
  members(project: string): Promise<string[]>;
  /** The stored spelling of a project name, or undefined when there is no such project. */
  canonicalProject(name: string): Promise<string | undefined>;
}

export interface CreateBudgetBody {
  budget_id: string;
  project_name: string;
  budget_category: BudgetCategory;
  name: string;
  description?: string | null;
  soft_budget: number;
  max_budget: number;
  budget_duration: string;
  allocation_mode: string;
  models?: string[] | null;
}

export type UpdateBudgetBody = Partial<Pick<CreateBudgetBody, 'name' | 'description' | 'soft_budget' | 'max_budget' | 'budget_duration' | 'models'>>;

interface Override {
  allocated_soft_budget: number;
  allocated_max_budget: number;
  override_reason?: string | null;
}

export function durationMs(d: string): number {
  const m = /^(\d+)([dhm])$/.exec(d);
  if (!m) throw badRequest('Invalid budget_duration', `'${d}': expected a number followed by d, h or m (e.g. 30d)`);
  const unit = m[2] === 'd' ? 86_400_000 : m[2] === 'h' ? 3_600_000 : 60_000;
  const ms = Number(m[1]) * unit;
  // A period of zero length never ends, and one past ten years overflows the dates computed from it.
  if (!(ms >= 60_000 && ms <= MAX_PERIOD_MS)) {
    throw badRequest('Invalid budget_duration', `'${d}': the period must be at least 1m and at most 3650d`);
  }
  return ms;
}

const MAX_PERIOD_MS = 3650 * 86_400_000;

/** The start of the period `now` falls in (periods follow each other from the budget's first one). */
function currentPeriod(b: ProjectBudgetsTable, now: number): { start: number; end: number } {
  const len = durationMs(b.budget_duration);
  const first = Date.parse(b.period_start);
  const k = Math.max(0, Math.floor((now - first) / len));
  return { start: first + k * len, end: first + (k + 1) * len };
}

// Six decimals, as the reference reports money; a value too large to scale is returned as it is.
const round = (v: number) => (Math.abs(v) < 1e15 ? Math.round(v * 1e6) / 1e6 : v);

/** How long a project's budgets are taken from the cache before they are read again (other nodes' writes). */
export const BUDGET_CACHE_MS = 5_000;
/** Projects whose budgets are cached at most (the oldest read is dropped first). */
const BUDGET_CACHE_MAX = 10_000;

export class ProjectBudgets {
  /** Project → its budgets and when they were read (insertion order: oldest read first). */
  private readonly cache = new Map<string, { at: number; budgets: ProjectBudgetsTable[] }>();
  /** Bumped by every budget write: a read that started before a write does not fill the cache. */
  private generation = 0;

  constructor(private readonly d: BudgetDeps) {
    trackCache('budget_rules', this, (b) => b.cache.size, BUDGET_CACHE_MAX);
  }

  /** A budget of `project` was written in this process: the next check reads the project's budgets again. */
  private changed(project: string): void {
    this.generation++;
    const p = project.toLowerCase();
    for (const k of this.cache.keys()) if (k.toLowerCase() === p) this.cache.delete(k);
  }

  /** The budgets of `project`, from the cache when read less than BUDGET_CACHE_MS ago. */
  private async budgetsOf(project: string, now: number): Promise<ProjectBudgetsTable[]> {
    const hit = this.cache.get(project);
    if (hit && now - hit.at < BUDGET_CACHE_MS && hit.at <= now) return hit.budgets;
    const gen = this.generation;
    const budgets = await this.d.db.selectFrom('project_budgets').selectAll().where('project_name', '=', project).execute();
    if (gen === this.generation) {
      this.cache.delete(project);
      if (this.cache.size >= BUDGET_CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(project, { at: now, budgets });
    }
    return budgets;
  }

  private canManage(user: AuthUser, project: string): boolean {
    return user.isAdmin || user.adminProjects.some((p) => p.toLowerCase() === project.toLowerCase());
  }

  private canRead(user: AuthUser, project: string): boolean {
    return this.canManage(user, project) || !!user.isAuditor;
  }

  private async row(id: string): Promise<ProjectBudgetsTable> {
    const b = await this.d.db.selectFrom('project_budgets').selectAll().where('budget_id', '=', id).executeTakeFirst();
    if (!b) throw notFound('Budget not found', `Budget '${id}' does not exist`);
    return b;
  }

  private async allocations(b: ProjectBudgetsTable) {
    const members = await this.d.members(b.project_name);
    const overrides = fromJson<Record<string, Override>>(b.overrides, {});
    const each = members.length ? b.max_budget / members.length : b.max_budget;
    const eachSoft = members.length ? b.soft_budget / members.length : b.soft_budget;
    return members.sort().map((userId) => {
      const o = overrides[userId];
      return {
        user_id: userId,
        allocation_mode: o ? 'override' : b.allocation_mode,
        allocated_soft_budget: o ? o.allocated_soft_budget : eachSoft,
        allocated_max_budget: o ? o.allocated_max_budget : each,
        sync_status: null,
        budget_id: b.budget_id,
      };
    });
  }

  private async view(b: ProjectBudgetsTable) {
    const allocs = (await this.allocations(b)).map((a) => ({
      ...a,
      allocated_soft_budget: round(a.allocated_soft_budget),
      allocated_max_budget: round(a.allocated_max_budget),
    }));
    const period = currentPeriod(b, Date.now());
    return {
      budget_id: b.budget_id,
      project_name: b.project_name,
      budget_category: b.budget_category as BudgetCategory,
      budget_type: 'project',
      name: b.name,
      description: b.description,
      soft_budget: b.soft_budget,
      max_budget: b.max_budget,
      budget_duration: b.budget_duration,
      allocation_mode: b.allocation_mode,
      budget_reset_at: new Date(period.end).toISOString(),
      member_count: allocs.length,
      allocated_member_budget_total: round(allocs.reduce((s, a) => s + a.allocated_max_budget, 0)),
      provider: null,
      provider_sync_status: null,
      provider_last_synced_at: null,
      created_by: b.created_by,
      created_at: b.created_at,
      updated_at: b.updated_at,
      member_allocations: allocs,
      models: fromJson<string[] | null>(b.models, null),
    };
  }

  private event(event: string, user: AuthUser, details: Record<string, unknown>) {
    this.d.audit?.record({ event, outcome: 'success', userId: user.id, username: user.username, details });
  }

  async create(user: AuthUser, body: CreateBudgetBody) {
    const project = await this.d.canonicalProject(body.project_name);
    if (!project) throw notFound('Project not found', `Project '${body.project_name}' does not exist`);
    if (!this.canManage(user, project)) throw forbidden('Access denied', "Only administrators and the project's admins manage its budgets");
    if (body.soft_budget > body.max_budget) throw badRequest('Invalid budget', 'soft_budget cannot exceed max_budget');
    durationMs(body.budget_duration);
    const clash = await this.d.db
      .selectFrom('project_budgets')
      .select('budget_id')
      .where('project_name', '=', project)
      .where('budget_category', '=', body.budget_category)
      .executeTakeFirst();
    if (clash) throw new ApiError(409, 'Budget already exists', `Project '${project}' already has a '${body.budget_category}' budget (${clash.budget_id})`);
    const now = new Date().toISOString();
    const row: ProjectBudgetsTable = {
      budget_id: `${body.budget_id}-${randomUUID().slice(0, 8)}`,
      project_name: project,
      budget_category: body.budget_category,
      name: body.name,
      description: body.description ?? null,
      soft_budget: body.soft_budget,
      max_budget: body.max_budget,
      budget_duration: body.budget_duration,
      allocation_mode: body.allocation_mode,
      models: body.models ? toJson(body.models) : null,
      overrides: '{}',
      period_start: now,
      created_by: user.email || user.username,
      created_at: now,
      updated_at: null,
    };
    await this.d.db.insertInto('project_budgets').values(row).execute();
    this.changed(project);
    this.event('budget.project_budget.created', user, {
      budget_id: row.budget_id,
      project: project,
      soft_budget: row.soft_budget,
      max_budget: row.max_budget,
      budget_duration: row.budget_duration,
    });
    return this.view(row);
  }

  async list(user: AuthUser, q: { project_name?: string; page: number; per_page: number }) {
    let base = this.d.db.selectFrom('project_budgets');
    if (q.project_name) {
      if (!this.canRead(user, q.project_name)) throw forbidden('Access denied', "Only administrators, auditors and the project's admins see its budgets");
      base = base.where('project_name', '=', q.project_name);
    } else if (!user.isAdmin && !user.isAuditor) {
      if (!user.adminProjects.length) throw forbidden('Access denied', 'Only administrators, auditors and project admins see budgets');
      base = base.where('project_name', 'in', user.adminProjects);
    }
    const [{ n }] = await base.select((eb) => eb.fn.countAll<number>().as('n')).execute();
    const rows = await base
      .selectAll()
      .orderBy('created_at')
      .orderBy('budget_id')
      .limit(q.per_page)
      .offset(q.page * q.per_page)
      .execute();
    return { items: await Promise.all(rows.map((r) => this.view(r))), total: Number(n), page: q.page, per_page: q.per_page };
  }

  async get(user: AuthUser, id: string) {
    const b = await this.row(id);
    if (!this.canRead(user, b.project_name)) throw forbidden('Access denied', "Only administrators, auditors and the project's admins see its budgets");
    return this.view(b);
  }

  async update(user: AuthUser, id: string, body: UpdateBudgetBody) {
    const b = await this.row(id);
    if (!this.canManage(user, b.project_name)) throw forbidden('Access denied', "Only administrators and the project's admins manage its budgets");
    if (!Object.values(body).some((v) => v !== undefined)) throw badRequest('Nothing to update', 'Give at least one field');
    if (body.budget_duration) durationMs(body.budget_duration);
    const next = {
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.soft_budget !== undefined ? { soft_budget: body.soft_budget } : {}),
      ...(body.max_budget !== undefined ? { max_budget: body.max_budget } : {}),
      ...(body.budget_duration !== undefined ? { budget_duration: body.budget_duration } : {}),
      ...(body.models !== undefined ? { models: body.models ? toJson(body.models) : null } : {}),
      updated_at: new Date().toISOString(),
    };
    if ((next.soft_budget ?? b.soft_budget) > (next.max_budget ?? b.max_budget)) throw badRequest('Invalid budget', 'soft_budget cannot exceed max_budget');
    await this.d.db.updateTable('project_budgets').set(next).where('budget_id', '=', id).execute();
    this.changed(b.project_name);
    this.event('budget.project_budget.updated', user, {
      budget_id: id,
      project: b.project_name,
      fields: Object.keys(body).filter((k) => (body as Record<string, unknown>)[k] !== undefined),
    });
    return this.view({ ...b, ...next });
  }

  async remove(user: AuthUser, id: string): Promise<void> {
    const b = await this.row(id);
    if (!this.canManage(user, b.project_name)) throw forbidden('Access denied', "Only administrators and the project's admins manage its budgets");
    await this.d.db.deleteFrom('project_budgets').where('budget_id', '=', id).execute();
    this.changed(b.project_name);
    this.event('budget.project_budget.deleted', user, { budget_id: id, project: b.project_name });
  }

  /** Starts a new period now (spending so far no longer counts). */
  async reset(user: AuthUser, id: string) {
    const b = await this.row(id);
    if (!this.canManage(user, b.project_name)) throw forbidden('Access denied', "Only administrators and the project's admins manage its budgets");
    const now = new Date().toISOString();
    await this.d.db.updateTable('project_budgets').set({ period_start: now, updated_at: now }).where('budget_id', '=', id).execute();
    this.changed(b.project_name);
    this.event('budget.project_budget.reset', user, { budget_id: id, project: b.project_name });
    return this.view({ ...b, period_start: now, updated_at: now });
  }

  async members(user: AuthUser, id: string) {
    const b = await this.row(id);
    if (!this.canRead(user, b.project_name)) throw forbidden('Access denied', "Only administrators, auditors and the project's admins see its budgets");
    return { data: (await this.view(b)).member_allocations };
  }

  async override(user: AuthUser, id: string, userId: string, body: Override) {
    const b = await this.row(id);
    if (!this.canManage(user, b.project_name)) throw forbidden('Access denied', "Only administrators and the project's admins manage its budgets");
    if (!(await this.d.members(b.project_name)).includes(userId))
      throw notFound('Member not found', `User '${userId}' is not a member of project '${b.project_name}'`);
    if (body.allocated_soft_budget > body.allocated_max_budget)
      throw badRequest('Invalid allocation', 'allocated_soft_budget cannot exceed allocated_max_budget');
    const overrides = { ...fromJson<Record<string, Override>>(b.overrides, {}), [userId]: body };
    const now = new Date().toISOString();
    await this.d.db
      .updateTable('project_budgets')
      .set({ overrides: toJson(overrides), updated_at: now })
      .where('budget_id', '=', id)
      .execute();
    this.changed(b.project_name);
    this.event('budget.member_allocation.overridden', user, {
      budget_id: id,
      project: b.project_name,
      user_id: userId,
      allocated_max_budget: body.allocated_max_budget,
    });
    return this.view({ ...b, overrides: toJson(overrides), updated_at: now });
  }

  async clearOverride(user: AuthUser, id: string, userId: string) {
    const b = await this.row(id);
    if (!this.canManage(user, b.project_name)) throw forbidden('Access denied', "Only administrators and the project's admins manage its budgets");
    const overrides = fromJson<Record<string, Override>>(b.overrides, {});
    delete overrides[userId];
    const now = new Date().toISOString();
    await this.d.db
      .updateTable('project_budgets')
      .set({ overrides: toJson(overrides), updated_at: now })
      .where('budget_id', '=', id)
      .execute();
    this.changed(b.project_name);
    this.event('budget.member_allocation.override_cleared', user, { budget_id: id, project: b.project_name, user_id: userId });
    return this.view({ ...b, overrides: toJson(overrides), updated_at: now });
  }

  /** The budget check before a model call (installed as infra.usage's check). */
  async check(s: BudgetSubject): Promise<void> {
    const now = Date.now();
    const budgets = await this.budgetsOf(s.project, now);
    if (!budgets.length) return;
    for (const b of budgets) {
      // cli budgets cover the vendor's CLI, not platform calls; premium ones only their models.
      if (b.budget_category === 'cli') continue;
      const models = fromJson<string[] | null>(b.models, null);
      if (b.budget_category === 'premium_models' && !(models && s.model && models.includes(s.model))) continue;
      if (models && models.length && s.model && !models.includes(s.model) && b.budget_category !== 'platform') continue;
      const period = currentPeriod(b, now);
      const since = new Date(period.start).toISOString();
      // The whole period (to its end: a record dated ahead of this node's clock counts too).
      const src = usageSource([sql`project = ${b.project_name}`], new Date(period.start), new Date(period.end - 1));
      const spentRows = (
        await sql<{ project: number | string | null; user: number | string | null }>`select coalesce(sum(money_spent), 0) as project,
            coalesce(sum(case when user_id = ${s.user.id} then money_spent else 0 end), 0) as ${sql.ref('user')}
          from ${src} src`.execute(this.d.db)
      ).rows[0];
      const projectSpent = Number(spentRows?.project ?? 0);
      const userSpent = Number(spentRows?.user ?? 0);
      const allocs = await this.allocations(b);
      const mine = allocs.find((a) => a.user_id === s.user.id);
      const max = mine ? mine.allocated_max_budget : b.max_budget;
      const soft = mine ? mine.allocated_soft_budget : b.soft_budget;
      const name = s.user.email || s.user.username || s.user.id;
      if (userSpent >= max || projectSpent >= b.max_budget) {
        const spent = userSpent >= max ? userSpent : projectSpent;
        const limit = userSpent >= max ? max : b.max_budget;
        await this.limitEvent('hard', b, s.user.id, name, since, spent, limit);
        throw new ApiError(
          400,
          BUDGET_EXCEEDED_MESSAGE,
          `Budget has been exceeded: Your current spending: ${round(spent)}, available budget: ${round(limit)}`,
          null,
        );
      }
      if (soft > 0 && userSpent >= soft) await this.limitEvent('soft', b, s.user.id, name, since, userSpent, soft);
    }
  }

  private async limitEvent(kind: 'soft' | 'hard', b: ProjectBudgetsTable, userId: string, userName: string, periodStart: string, spent: number, limit: number) {
    const id = `${kind}:${b.budget_id}:${userId}:${periodStart}`;
    const date = new Date().toISOString();
    const existed = await this.d.db.selectFrom('budget_events').select('spent').where('id', '=', id).executeTakeFirst();
    if (existed) {
      if (spent > Number(existed.spent)) await this.d.db.updateTable('budget_events').set({ spent, date }).where('id', '=', id).execute();
      return;
    }
    await this.d.db
      .insertInto('budget_events')
      .values({ id, date, kind, budget_id: b.budget_id, project: b.project_name, user_id: userId, user_name: userName, spent, limit_value: limit })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    // The first time in a period: an activity event as well.
    this.d.audit?.record({
      event: kind === 'soft' ? 'budget.soft_limit.reached' : 'budget.hard_limit.reached',
      outcome: 'success',
      userId,
      username: userName,
      details: { budget_id: b.budget_id, project: b.project_name, spent: round(spent), limit: round(limit) },
    });
  }
}
