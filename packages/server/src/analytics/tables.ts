/** Usage accounting and budgets (analytics/): one row per unit of work, budgets and their limit events. */

/** What a usage record describes. */
export type UsageKind = 'assistant' | 'workflow' | 'workflow_state' | 'tool' | 'webhook' | 'datasource';

export interface UsageRecordsTable {
  /** The idempotency key of the unit of work (e.g. `assistant:<request>`, `wf_state:<row>`): one row per unit. */
  id: string;
  /** ISO 8601, UTC (compares as text on both databases). */
  date: string;
  kind: UsageKind;
  user_id: string;
  /** The user's e-mail (or username): what the reference shows in user columns. */
  user_name: string;
  project: string;
  assistant_id: string | null;
  assistant_name: string | null;
  workflow_id: string | null;
  workflow_name: string | null;
  execution_id: string | null;
  conversation_id: string | null;
  model: string | null;
  tool_name: string | null;
  /** mcp | toolkit | agent | datasource | ... */
  tool_type: string | null;
  mcp_server: string | null;
  webhook_alias: string | null;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  money_spent: number;
  latency_ms: number;
  /** success | error | aborted | interrupted */
  status: string;
  error_class: string | null;
}

export interface ProjectBudgetsTable {
  budget_id: string;
  project_name: string;
  budget_category: string;
  name: string;
  description: string | null;
  soft_budget: number;
  max_budget: number;
  budget_duration: string;
  allocation_mode: string;
  /** JSON array of model names, or null (every model). */
  models: string | null;
  /** JSON object user_id → { soft, max } of overridden member allocations. */
  overrides: string;
  /** Start of the current period (ISO); the period resets at start + duration. */
  period_start: string;
  created_by: string;
  created_at: string;
  updated_at: string | null;
}

/** A soft-limit warning or a hard-limit refusal, once per user, budget and period. */
export interface BudgetEventsTable {
  id: string;
  date: string;
  kind: 'soft' | 'hard';
  budget_id: string;
  project: string;
  user_id: string;
  user_name: string;
  /** What the user had spent in the period when the limit was met. */
  spent: number;
  limit_value: number;
}

declare module '../store/schema.js' {
  interface Database {
    usage_records: UsageRecordsTable;
    usage_rollup: UsageRollupTable;
    project_budgets: ProjectBudgetsTable;
    budget_events: BudgetEventsTable;
  }
}

/**
 * Hourly rollup of usage_records, kept exact in the same transaction as every record write:
 * one row per hour and grouping key ('' for an absent key value), with counts and sums.
 */
export interface UsageRollupTable {
  /** sha1 of the bucket and the key columns. */
  id: string;
  /** 'YYYY-MM-DDTHH' (UTC): the hour's prefix of the records' ISO dates. */
  bucket: string;
  kind: string;
  project: string;
  user_id: string;
  user_name: string;
  assistant_id: string;
  assistant_name: string;
  workflow_id: string;
  workflow_name: string;
  model: string;
  tool_name: string;
  tool_type: string;
  mcp_server: string;
  webhook_alias: string;
  status: string;
  error_class: string;
  /** Assistant calls only (chats are counted per conversation); '' for other kinds. */
  conversation_id: string;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  money_spent: number;
  latency_ms: number;
  last_date: string;
}
