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
}

export interface ConversationMessagesTable {
  id: string;
  conversation_id: string;
  history_index: number;
  /** "User" | "Assistant" */
  role: string;
  message: string;
  date: string;
  /** JSON: the rest of the reference's GeneratedMessage (responseTime, tokens, thoughts, status...). */
  data: string;
}

export interface ConversationTables {
  conversations: ConversationsTable;
  conversation_messages: ConversationMessagesTable;
}

declare module '../store/schema.js' {
  interface Database extends ConversationTables {}
}
