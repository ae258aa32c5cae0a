/**
 * The built-in toolkits as the rest of the platform sees them: the catalog of
 * GET /v1/assistants/tools, the tools of an assistant's `toolkits` for its calls (each wrapped like
 * an MCP tool: a timeout, an output limit, failures as error results the model sees), and direct
 * invocation (POST /v1/tools/{name}/invoke).
 */
import path from 'node:path';
import type { AuthUser } from '../api/auth.js';
import { canAccessProject } from '../auth/access.js';
import type { Toolkit } from '../assistants/catalogs.js';
import type { AgentTool, ToolResult } from '../llm/tool.js';
import { truncateOutput } from '../mcp/output.js';
import { codeExecutorTool, sandboxLauncher, type CodeExecOptions } from './code-toolkit.js';
import { fileToolkit } from './file-toolkit.js';
import { openApiToolkit, type OpenApiOptions } from './openapi-toolkit.js';
import { sqlToolkit, type SqlOptions } from './sql-toolkit.js';
import { ToolFailure, type BuiltinTool, type BuiltinToolkit, type CredentialLookup, type Credentials, type SchemaField } from './types.js';

export interface ToolkitOptions {
  dataDir: string;
  timeoutMs: number;
  maxOutputChars: number;
  blockedTools: string[];
  sql: SqlOptions;
  openapi: Omit<OpenApiOptions, 'timeoutMs'> & { timeoutMs?: number };
  code: Omit<CodeExecOptions, 'scratchRoot' | 'maxOutputChars'>;
  log?: { debug(obj: unknown, msg: string): void; warn(obj: unknown, msg: string): void };
  /** Counts calls by tool and outcome (`codemie_toolkit_tool_calls_total`). */
  countCall?: (tool: string, outcome: 'ok' | 'tool_error' | 'timeout' | 'cancelled') => void;
}

/** Where a call happens: who, in which project, which workspace. */
export interface ToolCallScope {
  user: AuthUser;
  project: string;
  workspace: string;
}

/** The `settings` of an assistant's toolkit or tool entry, as the reference stores them. */
type EntrySettings = { id?: unknown; setting_id?: unknown; credential_values?: Array<{ key?: unknown; value?: unknown }> } | null | undefined;

function inlineCredentials(s: EntrySettings): Credentials | null {
  if (!s || !Array.isArray(s.credential_values) || !s.credential_values.length) return null;
  return Object.fromEntries(s.credential_values.filter((c) => typeof c?.key === 'string').map((c) => [c.key as string, c.value]));
}

const settingIdOf = (s: EntrySettings): string | null => (typeof s?.id === 'string' ? s.id : typeof s?.setting_id === 'string' ? s.setting_id : null);

const PY_TYPES: Record<string, string> = { string: 'str', integer: 'int', number: 'float', boolean: 'bool', array: 'list', object: 'dict' };

export class ToolkitService {
  readonly toolkits: BuiltinToolkit[];
  private readonly byName = new Map<string, { tool: BuiltinTool; toolkit: BuiltinToolkit }>();
  private credentialLookup: CredentialLookup = { find: async () => null };

  constructor(private readonly o: ToolkitOptions) {
    const files = fileToolkit(o.dataDir);
    const code = codeExecutorTool({ ...o.code, maxOutputChars: o.maxOutputChars, scratchRoot: path.join(o.dataDir, 'sandbox') });
    this.toolkits = [
      { ...files, tools: [...files.tools, code] },
      sqlToolkit(o.sql),
      openApiToolkit({ ...o.openapi, timeoutMs: o.openapi.timeoutMs ?? o.timeoutMs }),
    ];
    for (const tk of this.toolkits) for (const tool of tk.tools) this.byName.set(tool.name, { tool, toolkit: tk });
  }

  /** The integrations store's lookup (#26 wires it in modules.ts). */
  useCredentials(lookup: CredentialLookup): void {
    this.credentialLookup = lookup;
  }

  private available(t: BuiltinTool): boolean {
    return t.name !== 'code_executor' || sandboxLauncher().ok;
  }

  /** GET /v1/assistants/tools: the toolkits with the tools this host can run. */
  catalog(): Toolkit[] {
    return this.toolkits.map((tk) => ({
      toolkit: tk.toolkit,
      label: tk.label,
      settings_config: tk.settingsConfig,
      is_external: false,
      tools: tk.tools
        .filter((t) => this.available(t))
        .map((t) => ({ name: t.name, label: t.label, settings_config: !!t.credentialType, description: t.description, user_description: t.userDescription })),
    }));
  }

  toolNames(): string[] {
    return this.toolkits.flatMap((tk) => tk.tools.filter((t) => this.available(t)).map((t) => t.name));
  }

  find(name: string): BuiltinTool | undefined {
    const t = this.byName.get(name)?.tool;
    return t && this.available(t) ? t : undefined;
  }

  isBlocked(name: string): boolean {
    return this.o.blockedTools.includes(name);
  }

  /** GET /v1/tools/{name}/schema. */
  schema(name: string): { tool_name: string; creds_schema: Record<string, SchemaField>; args_schema: Record<string, SchemaField> } | null {
    const t = this.find(name);
    if (!t) return null;
    const required = new Set(t.inputSchema.required ?? []);
    const args = Object.fromEntries(
      Object.entries(t.inputSchema.properties).map(([k, v]) => [k, { type: PY_TYPES[String(v.type)] ?? String(v.type ?? 'any'), required: required.has(k) }]),
    );
    return { tool_name: t.name, creds_schema: t.credsSchema ?? {}, args_schema: args };
  }

  /** Runs one tool with the platform's limits: never throws; failures, timeouts and oversize become the result's text. */
  async execute(
    t: BuiltinTool,
    args: Record<string, unknown>,
    scope: ToolCallScope,
    credentials: () => Promise<Credentials | null>,
    signal: AbortSignal,
    outputLimit?: number,
  ): Promise<ToolResult> {
    const started = Date.now();
    const limit = Math.min(outputLimit ?? this.o.maxOutputChars, this.o.maxOutputChars);
    const timeout = AbortSignal.timeout(this.o.timeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ToolFailure(`Tool '${t.name}' timed out after ${this.o.timeoutMs} ms`)), this.o.timeoutMs + 250);
    });
    const log = { tool: t.name, user: scope.user.id, project: scope.project, workspace: scope.workspace };
    try {
      const output = await Promise.race([t.run(args ?? {}, { ...scope, credentials, signal: combined }), deadline]);
      this.o.log?.debug({ ...log, ms: Date.now() - started }, 'toolkit tool call');
      this.o.countCall?.(t.name, 'ok');
      return { output: truncateOutput(output, limit), isError: false };
    } catch (err) {
      let message: string;
      let outcome: 'tool_error' | 'timeout' | 'cancelled' = 'tool_error';
      if (timeout.aborted) {
        message = `Tool '${t.name}' timed out after ${this.o.timeoutMs} ms`;
        outcome = 'timeout';
      } else if (signal.aborted) {
        message = `Tool '${t.name}' was cancelled`;
        outcome = 'cancelled';
      } else if (err instanceof ToolFailure) message = err.message;
      else message = `Tool '${t.name}' failed: ${(err as Error)?.message ?? String(err)}`;
      this.o.countCall?.(t.name, outcome);
      this.o.log?.debug({ ...log, ms: Date.now() - started, err: message }, 'toolkit tool call failed');
      return { output: truncateOutput(message, limit), isError: true };
    } finally {
      clearTimeout(timer);
    }
  }

  private credentialsFor(t: BuiltinTool, scope: ToolCallScope, inline: Credentials | null, settingId: string | null): () => Promise<Credentials | null> {
    let cached: Promise<Credentials | null> | null = null;
    return () => {
      if (!t.credentialType) return Promise.resolve(null);
      cached ??= inline
        ? Promise.resolve(inline)
        : this.credentialLookup.find({ user: scope.user, project: scope.project, credentialType: t.credentialType, settingId }).catch((err: unknown) => {
            this.o.log?.warn({ err, tool: t.name }, 'credential lookup failed');
            return null;
          });
      return cached;
    };
  }

  /** The tools an assistant's `toolkits` enable, for one call in `scope`. */
  toolsFor(toolkits: unknown, scope: ToolCallScope): AgentTool[] {
    if (!Array.isArray(toolkits)) return [];
    const out: AgentTool[] = [];
    const seen = new Set<string>();
    for (const entry of toolkits as Array<{ toolkit?: unknown; tools?: Array<{ name?: unknown; settings?: EntrySettings }>; settings?: EntrySettings }>) {
      for (const te of Array.isArray(entry?.tools) ? entry.tools : []) {
        const name = typeof te?.name === 'string' ? te.name : '';
        const t = this.find(name);
        if (!t || seen.has(name)) continue;
        seen.add(name);
        const settings = te.settings ?? entry.settings;
        const creds = this.credentialsFor(t, scope, inlineCredentials(settings), settingIdOf(settings));
        out.push({
          name: t.name,
          description: t.description,
          inputSchema: t.inputSchema,
          readOnly: t.readOnly,
          execute: (args, ctx) => this.execute(t, args, scope, creds, ctx.signal),
        });
      }
    }
    return out;
  }

  /** POST /v1/tools/{name}/invoke (the caller checked the block list). */
  async invoke(
    name: string,
    body: {
      project: string;
      tool_args: Record<string, unknown>;
      tool_creds?: Record<string, unknown> | null;
      tool_attributes: Record<string, unknown>;
      params?: { output_limit?: number | null } | null;
    },
    user: AuthUser,
    signal: AbortSignal,
  ): Promise<{ output?: string; error?: string }> {
    const t = this.find(name);
    if (!t) return { error: `Tool '${name}' not found` };
    if (!canAccessProject(user, body.project)) return { error: `You do not have permission to access the project '${body.project}'.` };
    const scope: ToolCallScope = { user, project: body.project, workspace: `invoke-${user.id}` };
    const settingId = typeof body.tool_attributes.setting_id === 'string' ? body.tool_attributes.setting_id : null;
    const creds = this.credentialsFor(t, scope, body.tool_creds && Object.keys(body.tool_creds).length ? body.tool_creds : null, settingId);
    const r = await this.execute(t, body.tool_args, scope, creds, signal, body.params?.output_limit ?? undefined);
    return r.isError ? { error: r.output } : { output: r.output };
  }
}
