/**
 * Accounting at the source: every unit of work (an assistant call, a workflow state, a tool call,
 * a webhook invocation) is one row of `usage_records`, keyed by the unit's own identity so that a
 * retry, a worker takeover or a replay writes the same row again instead of a second one.
 *
 * Callers that store the work in a transaction pass it (`record(rows, trx)`): the usage commits
 * or rolls back with the work. Without one, rows are written through a group-commit batcher
 * (SQLite) so that recording adds one small insert per call to the hot path.
 *
 * The recorder also carries the budget check (`checkBudget`), set by the analytics module: other
 * domains call it before they start a model call, without depending on the analytics module.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Dialect } from '../store/db.js';
import type { TokenUsage } from '../llm/types.js';
import { createWriteBatcher, type WriteBatcher } from '../store/write-batch.js';
import { compiledOnce, type CompiledOnce } from '../store/compiled-query.js';
import type { UsageKind, UsageRecordsTable, UsageRollupTable } from './tables.js';

export interface UsageActor {
  id: string;
  /** E-mail, else username. */
  email?: string | null;
  username?: string | null;
}

export interface UsageInput {
  /** The unit of work's identity (idempotency key), e.g. `assistant:<uuid>`, `wf_state:<row id>`. */
  key: string;
  kind: UsageKind;
  user: UsageActor;
  project: string;
  date?: string;
  assistantId?: string | null;
  assistantName?: string | null;
  workflowId?: string | null;
  workflowName?: string | null;
  executionId?: string | null;
  conversationId?: string | null;
  model?: string | null;
  toolName?: string | null;
  toolType?: string | null;
  mcpServer?: string | null;
  webhookAlias?: string | null;
  usage?: Partial<TokenUsage>;
  latencyMs?: number;
  status: 'success' | 'error' | 'aborted' | 'interrupted';
  errorClass?: string | null;
}

/** Who is about to spend, where (budget check before a model call). */
export interface BudgetSubject {
  user: UsageActor;
  project: string;
  model?: string | null;
}

export type BudgetCheck = (s: BudgetSubject) => Promise<void>;

/** Rows per INSERT: 25 columns × 500 stays under SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 500;
/** Up to this many rows, one compiled statement per row (no query building on the hot path). */
const SMALL = 20;

const RECORD_COLUMNS = [
  'id',
  'date',
  'kind',
  'user_id',
  'user_name',
  'project',
  'assistant_id',
  'assistant_name',
  'workflow_id',
  'workflow_name',
  'execution_id',
  'conversation_id',
  'model',
  'tool_name',
  'tool_type',
  'mcp_server',
  'webhook_alias',
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'money_spent',
  'latency_ms',
  'status',
  'error_class',
] as const satisfies ReadonlyArray<keyof UsageRecordsTable>;
const ROLLUP_COLUMNS = [
  'id',
  'bucket',
  'kind',
  'project',
  'user_id',
  'user_name',
  'assistant_id',
  'assistant_name',
  'workflow_id',
  'workflow_name',
  'model',
  'tool_name',
  'tool_type',
  'mcp_server',
  'webhook_alias',
  'status',
  'error_class',
  'conversation_id',
  'calls',
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'money_spent',
  'latency_ms',
  'last_date',
] as const satisfies ReadonlyArray<keyof UsageRollupTable>;

/** A record written again replaces what it measured (the last attempt is what the unit of work cost). */
const replaced = {
  date: sql<string>`excluded.date`,
  status: sql<string>`excluded.status`,
  input_tokens: sql<number>`excluded.input_tokens`,
  output_tokens: sql<number>`excluded.output_tokens`,
  cached_tokens: sql<number>`excluded.cached_tokens`,
  money_spent: sql<number>`excluded.money_spent`,
  latency_ms: sql<number>`excluded.latency_ms`,
  error_class: sql<string | null>`excluded.error_class`,
  model: sql<string | null>`excluded.model`,
};

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);

export function usageRow(i: UsageInput): UsageRecordsTable {
  const u = i.usage ?? {};
  return {
    id: i.key.slice(0, 300),
    date: i.date ?? new Date().toISOString(),
    kind: i.kind,
    user_id: i.user.id,
    user_name: i.user.email || i.user.username || i.user.id,
    project: i.project,
    assistant_id: i.assistantId ?? null,
    assistant_name: i.assistantName ?? null,
    workflow_id: i.workflowId ?? null,
    workflow_name: i.workflowName ?? null,
    execution_id: i.executionId ?? null,
    conversation_id: i.conversationId ?? null,
    model: i.model ?? null,
    tool_name: i.toolName ?? null,
    tool_type: i.toolType ?? null,
    mcp_server: i.mcpServer ?? null,
    webhook_alias: i.webhookAlias ?? null,
    input_tokens: Math.round(num(u.input_tokens)),
    output_tokens: Math.round(num(u.output_tokens)),
    cached_tokens: Math.round(num(u.cached_tokens)),
    money_spent: num(u.money_spent),
    latency_ms: Math.round(num(i.latencyMs) * 1000) / 1000,
    status: i.status,
    error_class: i.errorClass ? i.errorClass.slice(0, 200) : null,
  };
}

type RollupKey = Omit<UsageRollupTable, 'calls' | 'input_tokens' | 'output_tokens' | 'cached_tokens' | 'money_spent' | 'latency_ms' | 'last_date'>;

/** The rollup row a record belongs to: its hour and grouping columns ('' for absent values). */
export function rollupKey(r: UsageRecordsTable): RollupKey {
  const k = {
    bucket: r.date.slice(0, 13),
    kind: r.kind,
    project: r.project,
    user_id: r.user_id,
    user_name: r.user_name,
    assistant_id: r.assistant_id ?? '',
    assistant_name: r.assistant_name ?? '',
    workflow_id: r.workflow_id ?? '',
    workflow_name: r.workflow_name ?? '',
    model: r.model ?? '',
    tool_name: r.tool_name ?? '',
    tool_type: r.tool_type ?? '',
    mcp_server: r.mcp_server ?? '',
    webhook_alias: r.webhook_alias ?? '',
    status: r.status,
    error_class: r.error_class ?? '',
    conversation_id: r.kind === 'assistant' ? (r.conversation_id ?? '') : '',
  };
  const { user_name: _n, assistant_name: _a, workflow_name: _w, ...identity } = k;
  const id = createHash('sha1')
    .update(JSON.stringify(Object.values(identity)))
    .digest('hex');
  return { id, ...k };
}

export class UsageRecorder {
  private readonly writes: WriteBatcher<Database>;
  private guard: BudgetCheck | undefined;
  /** The one-row statements of the hot path, compiled once (a call writes one or a few rows). */
  private readonly one: {
    insert: CompiledOnce<unknown[], unknown>;
    rollup: CompiledOnce<unknown[], unknown>;
    old: CompiledOnce<[string], UsageRecordsTable>;
  };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {
    this.writes = createWriteBatcher(db, dialect);
    const obj = (cols: readonly string[], vals: unknown[]) => Object.fromEntries(cols.map((c, i) => [c, vals[i]]));
    this.one = {
      insert: compiledOnce(
        (...vals: unknown[]) =>
          db
            .insertInto('usage_records')
            .values(obj(RECORD_COLUMNS, vals) as unknown as UsageRecordsTable)
            .onConflict((oc) => oc.column('id').doUpdateSet(replaced)),
        RECORD_COLUMNS.length,
      ),
      rollup: compiledOnce(
        (...vals: unknown[]) =>
          db
            .insertInto('usage_rollup')
            .values(obj(ROLLUP_COLUMNS, vals) as unknown as UsageRollupTable)
            .onConflict((oc) => oc.column('id').doUpdateSet(this.added())),
        ROLLUP_COLUMNS.length,
      ),
      old: compiledOnce((id: string) => db.selectFrom('usage_records').selectAll().where('id', '=', id), 1),
    };
  }

  /** The rollup's ON CONFLICT update: the delta added to the stored sums. */
  private added() {
    const greatest = this.dialect === 'postgres' ? 'greatest' : 'max';
    return {
      calls: sql<number>`usage_rollup.calls + excluded.calls`,
      input_tokens: sql<number>`usage_rollup.input_tokens + excluded.input_tokens`,
      output_tokens: sql<number>`usage_rollup.output_tokens + excluded.output_tokens`,
      cached_tokens: sql<number>`usage_rollup.cached_tokens + excluded.cached_tokens`,
      money_spent: sql<number>`usage_rollup.money_spent + excluded.money_spent`,
      latency_ms: sql<number>`usage_rollup.latency_ms + excluded.latency_ms`,
      last_date: sql<string>`${sql.raw(greatest)}(usage_rollup.last_date, excluded.last_date)`,
      user_name: sql<string>`excluded.user_name`,
    };
  }

  /**
   * Writes the rows (the same key again replaces its row: the last attempt of a unit of work is
   * what it cost) and their hourly rollup. In `trx` when given, so the usage commits with the
   * work it describes. `fresh`: the keys are new (a random id), no earlier row to replace.
   */
  async record(inputs: UsageInput | UsageInput[], trx?: Transaction<Database> | Kysely<Database>, opts: { fresh?: boolean } = {}): Promise<void> {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (!list.length) return;
    // One row per key within one write (the last wins), as the database would keep it.
    const rows = [...new Map(list.map((i) => [i.key, usageRow(i)])).values()];
    const small = rows.length <= SMALL;
    const write = async (db: Transaction<Database> | Kysely<Database>) => {
      let old: UsageRecordsTable[] = [];
      if (!opts.fresh) {
        old = small
          ? (await Promise.all(rows.map((r) => this.one.old.run(db, [r.id])))).flatMap((r) => r.rows)
          : await db
              .selectFrom('usage_records')
              .selectAll()
              .where(
                'id',
                'in',
                rows.map((r) => r.id),
              )
              .execute();
      }
      if (small)
        for (const r of rows)
          await this.one.insert.run(
            db,
            RECORD_COLUMNS.map((c) => r[c]),
          );
      else
        for (let i = 0; i < rows.length; i += CHUNK)
          await db
            .insertInto('usage_records')
            .values(rows.slice(i, i + CHUNK))
            .onConflict((oc) => oc.column('id').doUpdateSet(replaced))
            .execute();
      await this.rollup(db, old, rows);
    };
    if (trx) await write(trx);
    else await this.writes.run((t) => write(t));
  }

  /** Applies the rows' difference to the hourly rollup: the replaced rows out, the new rows in. */
  private async rollup(db: Transaction<Database> | Kysely<Database>, old: UsageRecordsTable[], rows: UsageRecordsTable[]): Promise<void> {
    const deltas = new Map<string, UsageRollupTable>();
    const apply = (r: UsageRecordsTable, sign: 1 | -1) => {
      const k = rollupKey(r);
      let d = deltas.get(k.id);
      if (!d) deltas.set(k.id, (d = { ...k, calls: 0, input_tokens: 0, output_tokens: 0, cached_tokens: 0, money_spent: 0, latency_ms: 0, last_date: '' }));
      d.calls += sign;
      d.input_tokens += sign * Number(r.input_tokens);
      d.output_tokens += sign * Number(r.output_tokens);
      d.cached_tokens += sign * Number(r.cached_tokens);
      d.money_spent += sign * Number(r.money_spent);
      d.latency_ms += sign * Number(r.latency_ms);
      if (sign > 0 && r.date > d.last_date) d.last_date = r.date;
    };
    for (const r of old) apply(r, -1);
    for (const r of rows) apply(r, 1);
    const values = [...deltas.values()].filter((d) => d.calls || d.money_spent || d.input_tokens || d.output_tokens || d.latency_ms);
    if (!values.length) return;
    if (values.length <= SMALL)
      for (const v of values)
        await this.one.rollup.run(
          db,
          ROLLUP_COLUMNS.map((c) => v[c]),
        );
    else
      for (let i = 0; i < values.length; i += CHUNK)
        await db
          .insertInto('usage_rollup')
          .values(values.slice(i, i + CHUNK))
          .onConflict((oc) => oc.column('id').doUpdateSet(this.added()))
          .execute();
    // A key that lost its last record (a replaced record moved to another key) leaves no row behind.
    if (old.length)
      await db
        .deleteFrom('usage_rollup')
        .where(
          'id',
          'in',
          values.map((v) => v.id),
        )
        .where('calls', '<=', 0)
        .execute();
  }

  /** Installs the budget check (the analytics module). */
  useBudgetCheck(check: BudgetCheck): void {
    this.guard = check;
  }

  /** Throws the reference's budget error when a hard limit is reached; notes soft limits. No-op without budgets. */
  async checkBudget(s: BudgetSubject): Promise<void> {
    if (this.guard) await this.guard(s);
  }
}
