/** The workflows domain's tables (migration 0004_workflows). JSON columns are text (see store/json.ts). */
export interface WorkflowsTable {
  id: string;
  name: string;
  description: string;
  project: string;
  mode: string;
  shared: number;
  yaml_config: string;
  /** JSON: [{yaml_config, date, created_by}] of earlier versions. */
  yaml_config_history: string;
  icon_url: string | null;
  start_hint: string | null;
  created_by_id: string;
  /** JSON {user_id, username, name}. */
  created_by: string;
  updated_by: string | null;
  date: string;
  update_date: string;
  /** Published to the marketplace (0030). */
  is_global: number;
  /** JSON array of category ids (0030). */
  categories: string;
  /** The number of the current version (0030). */
  version_count: number;
}

/** One saved version of a workflow (0030): written at creation and at every save that changes it. */
export interface WorkflowVersionsTable {
  id: string;
  workflow_id: string;
  version_number: number;
  name: string;
  description: string;
  mode: string;
  yaml_config: string;
  icon_url: string | null;
  start_hint: string | null;
  /** JSON {user_id, username, name}. */
  created_by: string;
  change_notes: string | null;
  date: string;
}

export interface WorkflowExecutionsTable {
  id: string;
  workflow_id: string;
  project: string;
  name: string;
  prompt: string;
  file_names: string;
  overall_status: string;
  output: string | null;
  created_by_id: string;
  created_by: string;
  updated_by: string | null;
  tokens_usage: string;
  session_id: string;
  tags: string;
  conversation_id: string | null;
  /** Headers to propagate to MCP tools (already filtered), JSON object or null. */
  propagated_headers: string | null;
  /** The yaml_config this execution runs (a snapshot: later edits of the workflow don't affect it). */
  yaml_config: string;
  /** The engine's checkpoint (context store, history, frontier, step), JSON. */
  checkpoint: string;
  /** Incremented at each start/resume: stream subscribers follow only their segment. */
  run_seq: number;
  date: string;
  update_date: string;
}

export interface WorkflowExecutionStatesTable {
  id: string;
  execution_id: string;
  /** The YAML state id. */
  name: string;
  task: string;
  status: string;
  output: string | null;
  error: string | null;
  /** Deterministic key of the task in the engine's frontier: `<step>:<index>`; unique per execution. */
  task_key: string;
  step: number;
  iteration_number: number | null;
  preceding_state_ids: string;
  /** JSON: the context store this state started with (transition snapshots). */
  context: string | null;
  /** JSON: what this state contributed (context updates, history entries, usage), replayed on recovery. */
  result: string | null;
  started_at: string | null;
  completed_at: string | null;
  date: string;
  update_date: string;
}

export interface WorkflowThoughtsTable {
  id: string;
  execution_id: string;
  execution_state_id: string;
  parent_id: string | null;
  author_name: string;
  author_type: string;
  input_text: string;
  content: string;
  error: number;
  date: string;
}

export interface WorkflowTables {
  workflows: WorkflowsTable;
  workflow_executions: WorkflowExecutionsTable;
  workflow_execution_states: WorkflowExecutionStatesTable;
  workflow_thoughts: WorkflowThoughtsTable;
  workflow_versions: WorkflowVersionsTable;
}

declare module '../store/schema.js' {
  interface Database extends WorkflowTables {}
}
