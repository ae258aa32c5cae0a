/**
 * Built-in toolkits: groups of tools the platform implements itself (no third party), listed by
 * GET /v1/assistants/tools, enabled per assistant in its `toolkits`, callable directly through
 * POST /v1/tools/{name}/invoke. A tool reports failure by throwing; the wrapper (wrap.ts) turns
 * that, a timeout or an oversized output into the same kind of tool result an MCP tool gives.
 */
import type { AuthUser } from '../api/auth.js';

/** A credential set as the integrations store holds one (field → value). */
export type Credentials = Record<string, unknown>;

/**
 * Where tools get credentials: the integrations store (#26) implements this; until it is wired,
 * only credentials given inline (the assistant's toolkit `settings.credential_values`, the invoke
 * request's `tool_creds`) exist.
 */
export interface CredentialLookup {
  /**
   * The credentials of `credentialType` (e.g. "SQL", "OpenAPI") the user may use in the project:
   * the integration `settingId` names when given, else the user's (then the project's) default one.
   * Null when there is none.
   */
  find(req: { user: AuthUser; project: string; credentialType: string; settingId?: string | null }): Promise<Credentials | null>;
}

export const noCredentials: CredentialLookup = { find: async () => null };

export interface ToolRunContext {
  user: AuthUser;
  project: string;
  /** The workspace key: the conversation id in an assistant call, `invoke-<user id>` for a direct invocation. */
  workspace: string;
  /** The credentials of the tool's credential type (inline, or from the integrations store); null when none. */
  credentials(): Promise<Credentials | null>;
  signal: AbortSignal;
}

/** A tool failure the model (or the invoking client) sees as the tool's error text. */
export class ToolFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolFailure';
  }
}

export interface SchemaField {
  type: string;
  required: boolean;
}

export interface BuiltinTool {
  name: string;
  label: string;
  /** What the model reads. */
  description: string;
  /** What the assistant editor shows. */
  userDescription: string;
  /** JSON Schema (object) of the arguments. */
  inputSchema: { type: 'object'; properties: Record<string, Record<string, unknown>>; required?: string[] };
  readOnly?: boolean;
  /** The integration type its credentials come from (SQL, OpenAPI), when it needs any. */
  credentialType?: string;
  /** The credential fields (GET /v1/tools/{name}/schema `creds_schema`). */
  credsSchema?: Record<string, SchemaField>;
  run(args: Record<string, unknown>, ctx: ToolRunContext): Promise<string>;
}

export interface BuiltinToolkit {
  toolkit: string;
  label: string;
  /** The toolkit needs settings (credentials) in the assistant editor. */
  settingsConfig: boolean;
  tools: BuiltinTool[];
}
