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
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Dialect } from '../store/db.js';
import type { TokenUsage } from '../llm/types.js';
import { createWriteBatcher, type WriteBatcher } from '../store/write-batch.js';
import type { UsageKind, UsageRecordsTable } from './tables.js';

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

export class UsageRecorder {
  private readonly writes: WriteBatcher<Database>;
  private guard: BudgetCheck | undefined;

  constructor(private readonly db: Kysely<Database>, dialect: Dialect) {
    this.writes = createWriteBatcher(db, dialect);
  }

  /**
   * Writes the rows (the same key again replaces its row: the last attempt of a unit of work is
   * what it cost). In `trx` when given, so the usage commits with the work it describes.
   */
  async record(inputs: UsageInput | UsageInput[], trx?: Transaction<Database> | Kysely<Database>): Promise<void> {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (!list.length) return;
    // One row per key within one write (the last wins), as the database would keep it.
    const rows = [...new Map(list.map((i) => [i.key, usageRow(i)])).values()];
    const write = (db: Transaction<Database> | Kysely<Database>) =>
      db
        .insertInto('usage_records')
        .values(rows)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            date: eb.ref('excluded.date'),
            status: eb.ref('excluded.status'),
            input_tokens: eb.ref('excluded.input_tokens'),
            output_tokens: eb.ref('excluded.output_tokens'),
            cached_tokens: eb.ref('excluded.cached_tokens'),
            money_spent: eb.ref('excluded.money_spent'),
            latency_ms: eb.ref('excluded.latency_ms'),
            error_class: eb.ref('excluded.error_class'),
            model: eb.ref('excluded.model'),
          })),
        )
        .execute();
    if (trx) await write(trx);
    else await this.writes.run((t) => write(t));
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
