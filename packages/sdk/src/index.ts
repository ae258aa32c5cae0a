export { CodeMieClient, type CodeMieClientOptions } from './client.js';
export {
  ApiError,
  CodeMieApiError,
  CodeMieAuthError,
  CodeMieError,
  CodeMieTimeoutError,
  NotFoundError,
  parseErrorBody,
  type ApiErrorInit,
} from './errors.js';
export {
  DEFAULT_PASSWORD_CLIENT_ID,
  KeycloakTokenProvider,
  NoTokenProvider,
  StaticTokenProvider,
  type KeycloakSettings,
  type TokenProvider,
  type TokenSource,
} from './auth.js';
export { CodeMieStream, HttpClient, type Query, type RequestOptions } from './http.js';
export { JsonSequenceParser, SseParser, parseStream } from './stream.js';
export type { FetchLike } from './tls.js';
export { AssistantService } from './services/assistants.js';
export { ConversationService } from './services/conversations.js';
export { ExecutionsService, RUNNING_STATUSES, WorkflowExecutionService } from './services/executions.js';
export { FileOperationService } from './services/files.js';
export { LLMService } from './services/llms.js';
export { TaskService } from './services/tasks.js';
export { UserService } from './services/users.js';
export { WorkflowService } from './services/workflows.js';
export * from './types.js';
export { VERSION } from './version.js';
