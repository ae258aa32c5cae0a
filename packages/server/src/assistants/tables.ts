export interface AssistantsTable {
  id: string;
  name: string;
  description: string;
  system_prompt: string;
  llm_model_type: string | null;
  project: string;
  shared: number;
  slug: string;
  temperature: number | null;
  top_p: number | null;
  /** JSON: conversation_starters, mcp_servers, toolkits, icon_url, context, categories, ... */
  data: string;
  created_by_id: string;
  created_by_username: string;
  created_by_name: string;
  date: string;
  update_date: string;
}

export interface AssistantTables {
  assistants: AssistantsTable;
}

declare module '../store/schema.js' {
  interface Database extends AssistantTables {}
}
