export interface AssistantsTable {
  id: string;
  name: string;
  description: string;
  system_prompt: string;
  llm_model_type: string | null;
  project: string;
  shared: number;
  /** Unique per project; null when the name derives none. */
  slug: string | null;
  temperature: number | null;
  top_p: number | null;
  /** JSON: conversation_starters, mcp_servers, toolkits, icon_url, context, prompt_variables, ... */
  data: string;
  created_by_id: string;
  created_by_username: string;
  created_by_name: string;
  date: string;
  update_date: string;
  /** Published to the marketplace (0/1). */
  is_global: number;
  /** JSON array of category ids (≤ 3). */
  categories: string;
  version_count: number;
  unique_users_count: number;
  unique_likes_count: number;
  unique_dislikes_count: number;
}

/** One immutable configuration of an assistant (reference `assistant_configurations`). */
export interface AssistantVersionsTable {
  id: string;
  assistant_id: string;
  version_number: number;
  /** JSON: the versioned fields (versions.ts VERSIONED_FIELDS). */
  config: string;
  /** JSON {id, username, name}. */
  created_by: string;
  change_notes: string | null;
  created_date: string;
}

export interface AssistantInteractionsTable {
  id: string;
  assistant_id: string;
  user_id: string;
  project: string | null;
  usage_count: number;
  reaction: string | null;
  reaction_at: string | null;
  first_used_at: string;
  last_used_at: string;
}

/** assistant_user_mappings (config = tools_config) and assistant_prompt_variable_mappings (config = variables_config). */
export interface AssistantUserConfigTable {
  id: string;
  assistant_id: string;
  user_id: string;
  config: string;
  created_at: string;
  updated_at: string;
}

export interface AssistantProjectMappingsTable {
  id: string;
  assistant_id: string;
  project_name: string;
  feature: string;
  created_at: string;
  updated_by: string;
}

export interface AssistantToolApprovalsTable {
  id: string;
  assistant_id: string;
  conversation_id: string;
  user_id: string;
  /** JSON: approvals.ts PausedTurn. */
  payload: string;
  date: string;
}

export interface A2aTasksTable {
  id: string;
  assistant_id: string;
  user_id: string;
  context_id: string | null;
  state: string;
  /** JSON: the A2A Task (protocol JSON form). */
  data: string;
  date: string;
  update_date: string;
}

export interface AssistantTables {
  assistants: AssistantsTable;
  assistant_versions: AssistantVersionsTable;
  assistant_interactions: AssistantInteractionsTable;
  assistant_user_mappings: AssistantUserConfigTable;
  assistant_prompt_variable_mappings: AssistantUserConfigTable;
  assistant_project_mappings: AssistantProjectMappingsTable;
  assistant_tool_approvals: AssistantToolApprovalsTable;
  a2a_tasks: A2aTasksTable;
}

declare module '../store/schema.js' {
  interface Database extends AssistantTables {}
}
