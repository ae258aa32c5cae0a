/**
 * Skills (reference `skills`, `skill_events`): named instruction bundles a user writes once and
 * attaches to assistants; the reactions on them; and the event log of skill lifecycle steps
 * (`codemie skill add/remove/...` from the CLI) and of each use by an assistant (command `use`).
 */
export interface SkillsTable {
  id: string;
  /** kebab-case, unique per author and project */
  name: string;
  description: string;
  /** Markdown instructions */
  content: string;
  project: string;
  /** private | project | public */
  visibility: string;
  created_by_id: string;
  /** JSON {id, username, name} */
  created_by: string;
  /** JSON string[] (≤ 3) */
  categories: string;
  /** JSON ToolKitDetails[] */
  toolkits: string;
  /** JSON MCPServerDetails[] */
  mcp_servers: string;
  /** JSON [{path, mime_type, encoding, size_bytes, content}] */
  companion_files: string;
  /** JSON string[] */
  enabled_builtin_subagents: string;
  unique_likes_count: number;
  unique_dislikes_count: number;
  created_date: string;
  updated_date: string | null;
}

export interface SkillReactionsTable {
  skill_id: string;
  user_id: string;
  /** like | dislike */
  reaction: string;
  reaction_at: string;
}

export interface SkillEventsTable {
  id: string;
  created_at: string;
  user_id: string;
  user_email: string | null;
  session_id: string;
  agent: string;
  agent_version: string | null;
  client_type: string | null;
  cli_version: string | null;
  repository: string | null;
  branch: string | null;
  project: string | null;
  command: string;
  status: string;
  scope: string | null;
  error_code: string | null;
  agent_selection_mode: string | null;
  /** JSON string[] */
  target_agents: string;
  source: string | null;
  skill_slug: string | null;
  skill_id: string | null;
  /** JSON object or null */
  attributes: string | null;
}

export interface SkillTables {
  skills: SkillsTable;
  skill_reactions: SkillReactionsTable;
  skill_events: SkillEventsTable;
}

declare module '../store/schema.js' {
  interface Database extends SkillTables {}
}
