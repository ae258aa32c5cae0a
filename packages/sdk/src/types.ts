/**
 * Wire types. The server's shapes come from its OpenAPI document, generated into
 * ./generated/api.ts (see scripts/sdk-types.mjs; a test fails when it is stale); this file names
 * them for SDK users and adds the SDK's own option types. Every wire object is open
 * (`[key: string]: unknown`), so fields a newer server adds are kept, not lost.
 */
import type { components } from './generated/api.js';

type Schemas = components['schemas'];
/** A wire object: the schema's fields, open to more. */
type Open<T> = T & { [key: string]: unknown };

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export type Pagination = Open<Schemas['Pagination']>;

export interface Paginated<T> {
  data: T[];
  pagination: Pagination;
}

export type MessageResponse = Open<Schemas['MessageResponse']>;

export type CreatedBy = Open<Partial<Schemas['UserRef']> & { id?: string }>;

// ---------------------------------------------------------------- users

export type User = Open<Schemas['User']>;
export type UserProject = Open<Schemas['User']['projects'][number]>;

export type UserData = Record<string, unknown>;

// ---------------------------------------------------------------- LLM models

export type LLMModel = Open<Schemas['LLMModel']>;

// ---------------------------------------------------------------- assistants

export type ToolKitDetails = Open<Schemas['ToolKitDetailsInput']>;
export type ToolDetails = Open<ToolKitDetails['tools'] extends Array<infer T> | undefined ? T : never>;
export type MCPServerConfig = Open<Schemas['MCPServerConfigInput']>;
export type MCPServerDetails = Open<Schemas['MCPServerDetailsInput']>;
export type Context = Open<Schemas['ContextInput']>;

/** Minimal list item (`minimal_response: true`). */
export type AssistantBase = Open<Schemas['AssistantListItem']>;
export type Assistant = Open<Schemas['Assistant']>;

export type AssistantCreateParams = Open<Schemas['AssistantCreateInput']>;
export type AssistantUpdateParams = Open<Schemas['AssistantUpdateInput']>;
export type AssistantCreateResponse = Open<Schemas['AssistantSaved']>;

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
export type AssistantChatParams = Open<Schemas['AssistantChatInput']> & AssistantChatExtras;

/** What the SDK sends besides the schema's fields (aliases the server normalises). */
export interface AssistantChatExtras {
  /** camelCase alias used by the integration guide */
  llmModel?: string;
  history_index?: number;
  version?: number;
}

export type Thought = Open<Schemas['Thought']>;
export type TokensUsed = Open<Schemas['TokenUsage']>;

/** Non-streaming answer of an assistant call. */
export type BaseModelResponse = Open<Schemas['AssistantCallResponse']>;

/** One chunk of a streamed assistant call or workflow execution. */
export type StreamChunk = Open<Schemas['StreamChunk']>;

export interface AssistantVersion {
  version_number?: number;
  [key: string]: unknown;
}

// ---------------------------------------------------------------- workflows

export type WorkflowMode = 'Sequential' | 'Autonomous' | string;

export type Workflow = Open<Schemas['Workflow']>;
export type WorkflowCreateParams = Open<Schemas['WorkflowCreateInput']>;
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

export type WorkflowCreateResponse = Open<Schemas['WorkflowSaved']>;

export type ExecutionStatus = 'In Progress' | 'Not Started' | 'Interrupted' | 'Failed' | 'Succeeded' | 'Aborted' | 'AUTHENTICATION_REQUIRED' | string;

export type WorkflowExecution = Open<Schemas['WorkflowExecution']>;

export type WorkflowExecutionState = Open<Schemas['WorkflowExecutionState']>;

export interface WorkflowExecutionStateOutput {
  output: string | null;
  [key: string]: unknown;
}

export type WorkflowExecutionCreateParams = Open<Schemas['WorkflowExecutionCreateInput']>;

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

export type ConversationListItem = Open<Schemas['ConversationListItem']>;

export type ConversationDetails = Open<Schemas['Conversation']>;

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

export type BackgroundTask = Open<Schemas['BackgroundTask']>;

export interface FileToUpload {
  /** File name sent to the server. */
  name: string;
  content: Uint8Array | ArrayBuffer | Blob | string;
  mimeType?: string;
}

export type FileUploadResponse = Open<Schemas['FileUrl']>;

export type FileBulkUploadResponse = Open<Schemas['FileBulkUpload']>;
