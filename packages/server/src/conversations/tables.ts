/** The conversations domain's tables (migrations 0003_assistants, 0040_conversations). JSON columns are text. */
export interface ConversationsTable {
  id: string;
  user_id: string;
  user_name: string;
  name: string;
  initial_assistant_id: string | null;
  project: string | null;
  folder: string | null;
  pinned: number;
  llm_model: string | null;
  date: string;
  update_date: string;
  /** JSON string[]: the assistants that answered, the latest first. */
  assistant_ids: string;
  is_workflow: number;
  mcp_server_single_usage: number;
  enable_image_generation: number | null;
  image_generation_model: string | null;
  /** JSON marks ({mark, rating, comments, date, ...}) or null. */
  final_user_mark: string | null;
  final_operator_mark: string | null;
  /** Set once the conversation is finished (no more messages). */
  finished_at: string | null;
}

export interface ConversationMessagesTable {
  id: string;
  conversation_id: string;
  /** Position in the history (ascending; gaps allowed). */
  seq: number;
  history_index: number;
  /** "User" | "Assistant" */
  role: string;
  message: string;
  date: string;
  /** JSON: the rest of the reference's GeneratedMessage (responseTime, tokens, thoughts, marks...). */
  data: string;
}

export interface ConversationFoldersTable {
  id: string;
  user_id: string;
  folder_name: string;
  date: string;
  update_date: string;
}

export interface ConversationSharesTable {
  /** The share_id. */
  id: string;
  conversation_id: string;
  /** sha256 (hex) of the share token; the token itself is never stored. */
  token_hash: string;
  shared_by_user_id: string;
  shared_by_user_name: string;
  created_at: string;
  access_count: number;
  last_access_at: string | null;
  /** JSON Snapshot (share/snapshot.ts): what the link shows, fixed when it was made. */
  snapshot: string;
}

export interface ConversationFeedbackTable {
  id: string;
  conversation_id: string;
  /** The message the feedback is about (deleted with it). */
  message_id: string | null;
  /** Who gave it. */
  user_id: string;
  conversation_owner_id: string;
  project: string | null;
  assistant_id: string | null;
  /** "user" | "operator" */
  author: string;
  /** "correct" | "partially correct" | "wrong" */
  mark: string;
  rating: number | null;
  comments: string | null;
  type: string | null;
  request: string;
  response: string;
  /** JSON [{role, message}] or null. */
  history: string | null;
  app_name: string | null;
  repo_name: string | null;
  index_type: string | null;
  date: string;
  update_date: string;
}

export interface ConversationTables {
  conversations: ConversationsTable;
  conversation_messages: ConversationMessagesTable;
  conversation_folders: ConversationFoldersTable;
  conversation_shares: ConversationSharesTable;
  conversation_feedback: ConversationFeedbackTable;
}

declare module '../store/schema.js' {
  interface Database extends ConversationTables {}
}
