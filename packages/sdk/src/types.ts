/**
 * Wire types. Field names are exactly what the API sends and accepts (snake_case, except the camelCase
 * keys of the assistant call response). Every object type is open (`[key: string]: unknown`) so fields the
 * server adds later are kept, not lost.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface Pagination {
  page: number;
  per_page: number;
  total: number;
  pages: number;
  [key: string]: unknown;
}

export interface Paginated<T> {
  data: T[];
  pagination: Pagination;
}

export interface MessageResponse {
  message: string;
  [key: string]: unknown;
}

export interface CreatedBy {
  id?: string;
  user_id?: string;
  username?: string;
  name?: string;
  [key: string]: unknown;
}

// ---------------------------------------------------------------- users

export interface UserProject {
  name: string;
  display_name?: string | null;
  is_project_admin?: boolean;
  [key: string]: unknown;
}

export interface User {
  user_id: string;
  name: string;
  username: string;
  email: string;
  projects?: UserProject[];
  applications: string[];
  applications_admin: string[];
  is_admin: boolean;
  is_maintainer?: boolean;
  knowledge_bases?: string[];
  user_type?: string;
  picture?: string;
  [key: string]: unknown;
}

export type UserData = Record<string, unknown>;

// ---------------------------------------------------------------- LLM models

export interface LLMModel {
  base_name: string;
  deployment_name: string;
  label?: string | null;
  multimodal?: boolean | null;
  react_agent?: boolean | null;
  enabled: boolean;
  provider?: string | null;
  default?: boolean;
  max_output_tokens?: number | null;
  features?: Record<string, boolean>;
  [key: string]: unknown;
}

// ---------------------------------------------------------------- assistants

export interface ToolDetails {
  name: string;
  label?: string | null;
  settings_config?: boolean;
  settings?: unknown;
  user_description?: string | null;
  [key: string]: unknown;
}

export interface ToolKitDetails {
  toolkit: string;
  tools: ToolDetails[];
  label?: string;
  settings_config?: boolean;
  settings?: unknown;
  is_external?: boolean;
  [key: string]: unknown;
}

export interface MCPServerConfig {
  command?: string | null;
  url?: string | null;
  args?: string[];
  env?: Record<string, string>;
  headers?: Record<string, string>;
  type?: string | null;
  single_usage?: boolean;
  [key: string]: unknown;
}

export interface MCPServerDetails {
  name: string;
  description?: string | null;
  enabled?: boolean;
  mcp_config_id?: string | null;
  config?: MCPServerConfig | null;
  tools?: string[] | null;
  [key: string]: unknown;
}

export interface Context {
  context_type: 'knowledge_base' | 'code' | 'provider' | string;
  name: string;
  [key: string]: unknown;
}

/** Minimal list item (`minimal_response: true`). */
export interface AssistantBase {
  id: string;
  name: string;
  slug?: string | null;
  project?: string;
  description?: string | null;
  icon_url?: string | null;
  created_by?: CreatedBy | null;
  user_abilities?: string[];
  shared?: boolean;
  is_global?: boolean | null;
  [key: string]: unknown;
}

export interface Assistant extends AssistantBase {
  system_prompt?: string;
  llm_model_type?: string | null;
  toolkits?: ToolKitDetails[];
  mcp_servers?: MCPServerDetails[];
  context?: Context[];
  conversation_starters?: string[];
  temperature?: number | null;
  top_p?: number | null;
  assistant_ids?: string[];
  categories?: { id: string; [key: string]: unknown }[];
  date?: string;
  update_date?: string;
}

export interface AssistantCreateParams {
  name: string;
  description?: string;
  system_prompt?: string;
  llm_model_type?: string;
  project?: string;
  context?: Context[];
  icon_url?: string;
  toolkits?: ToolKitDetails[];
  mcp_servers?: MCPServerDetails[];
  conversation_starters?: string[];
  temperature?: number;
  top_p?: number;
  shared?: boolean;
  is_react?: boolean;
  is_global?: boolean;
  slug?: string;
  assistant_ids?: string[];
  categories?: string[];
  [key: string]: unknown;
}

export type AssistantUpdateParams = Partial<AssistantCreateParams>;

export interface AssistantCreateResponse {
  message: string;
  assistantId?: string | null;
  validation?: unknown;
  [key: string]: unknown;
}

export interface AssistantListParams {
  page?: number;
  per_page?: number;
  /** `visible_to_user` (default), `created_by_user`, `marketplace`, `project_with_marketplace`, `all`, `templates` */
  scope?: string;
  minimal_response?: boolean;
  /** Sent as the JSON `filters` query parameter (`project`, `search`, `shared`, ...). */
  filters?: Record<string, unknown>;
  sort_by?: string;
  sort_order?: 'asc' | 'desc';
  [key: string]: unknown;
}

export interface HistoryMessage {
  role: 'User' | 'Assistant' | string;
  message: string;
  [key: string]: unknown;
}

/** Body of `POST /v1/assistants/{id}/model` (snake_case; the server also accepts camelCase). */
export interface AssistantChatParams {
  text?: string;
  stream?: boolean;
  conversation_id?: string;
  content_raw?: string;
  file_names?: string[];
  llm_model?: string;
  /** camelCase alias used by the integration guide */
  llmModel?: string;
  history?: HistoryMessage[] | string;
  history_index?: number;
  system_prompt?: string;
  background_task?: boolean;
  metadata?: Record<string, unknown>;
  output_schema?: Record<string, unknown>;
  propagate_headers?: boolean;
  save_history?: boolean;
  top_k?: number;
  version?: number;
  [key: string]: unknown;
}

export interface Thought {
  id: string;
  parent_id?: string | null;
  metadata?: Record<string, unknown>;
  in_progress?: boolean;
  input_text?: string | null;
  message?: string | null;
  author_type?: 'Tool' | 'Agent' | 'System' | string;
  author_name?: string;
  output_format?: string;
  error?: boolean;
  children?: Thought[];
  [key: string]: unknown;
}

export interface TokensUsed {
  input_tokens?: number;
  output_tokens?: number;
  [key: string]: unknown;
}

/** Non-streaming answer of an assistant call. */
export interface BaseModelResponse {
  generated: string | Record<string, unknown> | null;
  timeElapsed?: number | null;
  /** Total tokens of the call (an integer, as the reference Python SDK expects). */
  tokensUsed?: number | null;
  /** Token breakdown and cost: input_tokens, output_tokens, cached_tokens, money_spent. */
  usage?: TokensUsed | null;
  thoughts?: Thought[] | null;
  taskId?: string | null;
  success?: boolean;
  agentError?: unknown;
  toolErrors?: unknown;
  [key: string]: unknown;
}

/** One chunk of a streamed assistant call or workflow execution. */
export interface StreamChunk {
  generated_chunk?: string | null;
  generated?: string | Record<string, unknown> | null;
  thought?: Thought | null;
  last?: boolean;
  time_elapsed?: number | null;
  execution_error?: string | null;
  context?: unknown;
  debug?: unknown;
  workflow_execution_id?: string | null;
  workflow_state?: Record<string, unknown> | null;
  success?: boolean | null;
  [key: string]: unknown;
}

export interface AssistantVersion {
  version_number?: number;
  [key: string]: unknown;
}

// ---------------------------------------------------------------- workflows

export type WorkflowMode = 'Sequential' | 'Autonomous' | string;

export interface Workflow {
  id: string;
  name: string;
  description?: string | null;
  project?: string;
  mode?: WorkflowMode;
  shared?: boolean;
  yaml_config?: string | null;
  icon_url?: string | null;
  created_by?: CreatedBy | null;
  user_abilities?: string[];
  date?: string;
  update_date?: string;
  [key: string]: unknown;
}

export interface WorkflowCreateParams {
  name: string;
  description?: string;
  project: string;
  yaml_config?: string;
  mode?: WorkflowMode;
  shared?: boolean;
  icon_url?: string;
  [key: string]: unknown;
}

export type WorkflowUpdateParams = Partial<WorkflowCreateParams>;

export interface WorkflowListParams {
  page?: number;
  per_page?: number;
  /** Sent inside the JSON `filters` query parameter as `search`. */
  search?: string;
  /** Sent inside the JSON `filters` query parameter as `project`. */
  projects?: string[];
  filters?: Record<string, unknown>;
  filter_by_user?: boolean;
  minimal_response?: boolean;
  [key: string]: unknown;
}

export interface WorkflowCreateResponse {
  message: string;
  data?: Workflow;
  [key: string]: unknown;
}

export type ExecutionStatus =
  | 'In Progress'
  | 'Not Started'
  | 'Interrupted'
  | 'Failed'
  | 'Succeeded'
  | 'Aborted'
  | 'AUTHENTICATION_REQUIRED'
  | string;

export interface WorkflowExecution {
  id?: string;
  execution_id: string;
  workflow_id: string;
  overall_status: ExecutionStatus;
  output?: string | null;
  prompt?: string | null;
  name?: string | null;
  file_name?: string | null;
  file_names?: string[] | null;
  conversation_id?: string | null;
  tokens_usage?: Record<string, unknown> | null;
  created_by?: CreatedBy | null;
  date?: string;
  update_date?: string;
  [key: string]: unknown;
}

export interface WorkflowExecutionState {
  id: string;
  execution_id?: string;
  name?: string;
  state_id?: string;
  task?: string | null;
  status: ExecutionStatus;
  started_at?: string | null;
  completed_at?: string | null;
  thoughts?: Thought[];
  [key: string]: unknown;
}

export interface WorkflowExecutionStateOutput {
  output: string | null;
  [key: string]: unknown;
}

export interface WorkflowExecutionCreateParams {
  user_input?: string;
  file_name?: string;
  file_names?: string[];
  conversation_id?: string;
  session_id?: string;
  propagate_headers?: boolean;
  tags?: string[];
  [key: string]: unknown;
}

export interface ResumeOptions {
  /** Text appended as the user's answer and merged into the context store. */
  userInput?: string;
  fileNames?: string[];
  /** Forward this request's X-* headers to MCP tools (`?propagate_headers=true`). */
  propagateHeaders?: boolean;
  /** Extra HTTP headers for the request (e.g. X-* headers to propagate). */
  headers?: Record<string, string>;
}

export interface WaitOptions {
  /** Give up after this many milliseconds (default 300000); the promise rejects with CodeMieTimeoutError. */
  timeoutMs?: number;
  /** Poll interval in milliseconds (default 1000). */
  intervalMs?: number;
  /** Statuses that end the wait (default: every status except "In Progress" and "Not Started"). */
  until?: ExecutionStatus[];
  signal?: AbortSignal;
}

// ---------------------------------------------------------------- conversations

export interface ConversationListItem {
  id: string;
  name?: string | null;
  folder?: string | null;
  pinned?: boolean;
  date?: string;
  update_date?: string;
  assistant_ids?: string[];
  initial_assistant_id?: string | null;
  is_workflow?: boolean;
  [key: string]: unknown;
}

export interface ConversationDetails {
  id: string;
  conversation_id?: string;
  conversation_name?: string | null;
  history: Record<string, unknown>[];
  user_id?: string;
  assistant_ids?: string[];
  [key: string]: unknown;
}

export interface ConversationListParams {
  page?: number;
  per_page?: number;
  [key: string]: unknown;
}

export interface ConversationGetParams {
  page?: number;
  per_page?: number;
  sort_order?: 'asc' | 'desc';
  [key: string]: unknown;
}

// ---------------------------------------------------------------- tasks & files

export interface BackgroundTask {
  id: string;
  task?: string;
  user?: CreatedBy;
  final_output?: string | null;
  current_step?: string | null;
  status: 'STARTED' | 'COMPLETED' | 'FAILED' | string;
  date?: string;
  update_date?: string;
  [key: string]: unknown;
}

export interface FileToUpload {
  /** File name sent to the server. */
  name: string;
  content: Uint8Array | ArrayBuffer | Blob | string;
  mimeType?: string;
}

export interface FileUploadResponse {
  file_url: string;
  [key: string]: unknown;
}

export interface FileBulkUploadResponse {
  files: FileUploadResponse[];
  /** Files the server refused, e.g. `[{file_name, error}]` (CodeMie Open); null when none. */
  failed_files?: Array<Record<string, unknown>> | Record<string, string> | null;
  [key: string]: unknown;
}
