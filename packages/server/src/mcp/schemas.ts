/**
 * The reference's MCP config models (reference §5.3), as zod schemas. Assistants embed
 * `mcpServerDetailsSchema` in `mcp_servers[]`, workflow YAML in assistants/tools; the
 * catalog (/v1/mcp-configs) stores `mcpServerConfigSchema` objects. Validation failures
 * become 422 naming the field (e.g. `mcp_servers[0].config.command: ...`).
 */
import path from 'node:path';
import { z } from 'zod';

import { DEFAULT_ALLOWED_COMMANDS } from './allowed-commands.js';
export { DEFAULT_ALLOWED_COMMANDS };

let allowedCommands: string[] = [...DEFAULT_ALLOWED_COMMANDS];

/** Set once at start-up from CODEMIE_MCP_ALLOWED_COMMANDS (the schemas are static, the list is config). */
export function setAllowedMcpCommands(list: string[]): void {
  allowedCommands = [...list];
}

export function allowedMcpCommands(): readonly string[] {
  return allowedCommands;
}

/**
 * A command is allowed when it is a bare binary name on the list, or an absolute path
 * that appears on the list verbatim. Relative paths, shells and anything else → not allowed.
 */
export function isAllowedCommand(command: string): boolean {
  const c = command.trim();
  if (!c || /\s/.test(c)) return false;
  if (path.isAbsolute(c)) return allowedCommands.includes(c);
  if (c.includes('/') || c.includes('\\')) return false;
  return allowedCommands.includes(c);
}

function commandIssue(command: string): string {
  return `command '${command}' is not allowed; allowed commands: ${allowedCommands.join(', ')} (CODEMIE_MCP_ALLOWED_COMMANDS)`;
}

const stringMap = z.record(z.string(), z.string());
/** `{}` (and null) mean "no config" in the reference. */
const emptyObjectToNull = (v: unknown) =>
  v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0 ? null : v;

export const mcpTransportTypes = ['streamable-http', 'sse', 'stdio'] as const;

export const mcpServerConfigSchema = z
  .object({
    command: z.string().min(1).nullish(),
    url: z
      .string()
      .regex(/^https?:\/\/\S+$/i, 'must be an http:// or https:// URL')
      .nullish(),
    args: z.array(z.string()).nullish().transform((v) => v ?? []),
    env: stringMap.nullish().transform((v) => v ?? {}),
    /** HTTP headers sent to a url server (values may hold placeholders). */
    headers: stringMap.nullish().transform((v) => v ?? {}),
    /** "streamable-http"; "sse"; null = stdio for command, SSE for url (as the reference). */
    type: z.enum(mcpTransportTypes).nullish(),
    auth_token: z.string().nullish(),
    /** true = a fresh connection for each request, closed at its end (no pooling). */
    single_usage: z.boolean().nullish().transform((v) => v ?? false),
    tools: z.array(z.string()).nullish(),
    audience: z.string().nullish(),
    auth_config: z.record(z.string(), z.unknown()).nullish(),
    allow_issuer_prefix_match: z.boolean().nullish().transform((v) => v ?? false),
  })
  .superRefine((c, ctx) => {
    const hasCommand = !!c.command;
    const hasUrl = !!c.url;
    if (hasCommand === hasUrl) {
      ctx.addIssue({
        code: 'custom',
        path: [hasCommand ? 'url' : 'command'],
        message: hasCommand
          ? "exactly one of 'command' or 'url' must be set, not both"
          : "exactly one of 'command' or 'url' must be set",
      });
      return;
    }
    if (c.command && !isAllowedCommand(c.command)) {
      ctx.addIssue({ code: 'custom', path: ['command'], message: commandIssue(c.command) });
    }
    if (c.command && c.type && c.type !== 'stdio') {
      ctx.addIssue({ code: 'custom', path: ['type'], message: `type '${c.type}' needs a url, not a command` });
    }
    if (c.url && c.type === 'stdio') {
      ctx.addIssue({ code: 'custom', path: ['type'], message: "type 'stdio' needs a command, not a url" });
    }
  })
  .meta({ id: 'MCPServerConfig' });

export type MCPServerConfig = z.output<typeof mcpServerConfigSchema>;
export type MCPServerConfigInput = z.input<typeof mcpServerConfigSchema>;

export const mcpServerDetailsSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().nullish(),
    enabled: z.boolean().nullish().transform((v) => v ?? true),
    /** Reference to a catalog entry (/v1/mcp-configs); its config is used when `config` is not given. */
    mcp_config_id: z.string().nullish(),
    config: z.preprocess(emptyObjectToNull, mcpServerConfigSchema.nullish()),
    use_custom_config: z.boolean().nullish().transform((v) => v ?? false),
    mcp_connect_url: z.string().nullish(),
    tools_tokens_size_limit: z.number().int().positive().nullish(),
    /** Legacy form: command + space-separated `arguments` (used when `config` is absent). */
    command: z.string().nullish(),
    arguments: z.string().nullish(),
    settings: z.unknown().optional(),
    integration_alias: z.string().nullish(),
    mcp_connect_auth_token: z.unknown().optional(),
    resolve_dynamic_values_in_arguments: z.boolean().nullish().transform((v) => v ?? false),
    /** Allow-list of tool names exposed from this server (null = all). */
    tools: z.array(z.string()).nullish(),
  })
  .superRefine((d, ctx) => {
    if (!d.config && d.command && !isAllowedCommand(d.command)) {
      ctx.addIssue({ code: 'custom', path: ['command'], message: commandIssue(d.command) });
    }
  })
  .meta({ id: 'MCPServerDetails' });

export type MCPServerDetails = z.output<typeof mcpServerDetailsSchema>;
export type MCPServerDetailsInput = z.input<typeof mcpServerDetailsSchema>;

/** Catalog: required environment variables a user must provide for a catalog entry. */
export const mcpVariableDefinitionSchema = z.object({
  name: z.string().min(1),
  description: z.string().nullish(),
  required: z.boolean().nullish().transform((v) => v ?? true),
});

const categories = z.array(z.string().min(1)).max(3, 'Maximum 3 categories allowed');

export const mcpConfigCreateSchema = z.object({
  name: z.string().min(1).max(200),
  description: z.string().nullish(),
  server_home_url: z.string().nullish(),
  source_url: z.string().nullish(),
  logo_url: z.string().nullish(),
  categories: categories.nullish().transform((v) => v ?? []),
  config: mcpServerConfigSchema,
  required_env_vars: z.array(mcpVariableDefinitionSchema).nullish().transform((v) => v ?? []),
  is_public: z.boolean().nullish().transform((v) => v ?? false),
});

export const mcpConfigUpdateSchema = z.object({
  name: z.string().min(1).max(200).nullish(),
  description: z.string().nullish(),
  server_home_url: z.string().nullish(),
  source_url: z.string().nullish(),
  logo_url: z.string().nullish(),
  categories: categories.nullish(),
  config: mcpServerConfigSchema.nullish(),
  required_env_vars: z.array(mcpVariableDefinitionSchema).nullish(),
  is_public: z.boolean().nullish(),
  is_active: z.boolean().nullish(),
});

export const mcpConfigResponseSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  server_home_url: z.string().nullable(),
  source_url: z.string().nullable(),
  logo_url: z.string().nullable(),
  categories: z.array(z.string()),
  config: z.record(z.string(), z.unknown()).nullable(),
  required_env_vars: z.array(z.object({ name: z.string(), description: z.string().nullish(), required: z.boolean() })),
  user_id: z.string(),
  is_public: z.boolean(),
  is_system: z.boolean(),
  created_by: z.object({ id: z.string(), username: z.string(), name: z.string() }).nullable(),
  usage_count: z.number().int(),
  is_active: z.boolean(),
  warnings: z.array(z.object({ field: z.string().optional(), message: z.string() })),
  date: z.string().nullable(),
  update_date: z.string().nullable(),
});

export type MCPConfigResponse = z.infer<typeof mcpConfigResponseSchema>;
