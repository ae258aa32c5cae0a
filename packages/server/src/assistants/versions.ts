/**
 * Assistant versions (reference §4.6): every change of a versioned field makes an immutable
 * version row; a call can run a historical version; rollback copies an old version into a new
 * one; compare answers DeepDiff's shape (diff.ts).
 */
import type { Kysely } from 'kysely';
import { ApiError } from '../api/errors.js';
import type { Database } from '../store/schema.js';
import { fromJson, toJson } from '../store/json.js';
import { newRowId } from '../store/ids.js';
import type { AssistantRecord } from './repo.js';

/** The fields a version holds (reference `AssistantConfiguration`). Everything else belongs to the master record only. */
export const VERSIONED_FIELDS = [
  'description',
  'system_prompt',
  'llm_model_type',
  'enable_image_generation',
  'image_generation_model',
  'temperature',
  'top_p',
  'tools_tokens_size_limit',
  'context',
  'toolkits',
  'mcp_servers',
  'assistant_ids',
  'conversation_starters',
  'bedrock',
  'bedrock_agentcore_runtime',
  'agent_card',
  'custom_metadata',
] as const;

const LIST_FIELDS = new Set(['context', 'toolkits', 'mcp_servers', 'assistant_ids', 'conversation_starters']);
const COLUMN_FIELDS = new Set(['description', 'system_prompt', 'llm_model_type', 'temperature', 'top_p']);

export type VersionConfig = Record<(typeof VERSIONED_FIELDS)[number], unknown>;

export interface AssistantVersion {
  id: string;
  assistant_id: string;
  version_number: number;
  config: VersionConfig;
  created_by: { id: string; username: string; name: string };
  change_notes: string | null;
  created_date: string;
}

/** The versioned fields of a record, with the defaults a version stores. */
export function configOf(a: AssistantRecord): VersionConfig {
  const out = {} as VersionConfig;
  for (const k of VERSIONED_FIELDS) {
    const v = COLUMN_FIELDS.has(k) ? (a as unknown as Record<string, unknown>)[k] : a.data[k];
    out[k] = v ?? (LIST_FIELDS.has(k) ? [] : k === 'enable_image_generation' ? false : k === 'description' || k === 'system_prompt' ? '' : null);
  }
  return out;
}

/** A copy of the record with a version's configuration applied (name, project, ACL and the rest stay the master's). */
export function withConfig(a: AssistantRecord, c: VersionConfig): AssistantRecord {
  const data = { ...a.data };
  for (const k of VERSIONED_FIELDS) if (!COLUMN_FIELDS.has(k)) data[k] = c[k];
  return {
    ...a,
    description: String(c.description ?? ''),
    system_prompt: String(c.system_prompt ?? ''),
    llm_model_type: (c.llm_model_type as string | null) ?? null,
    temperature: (c.temperature as number | null) ?? null,
    top_p: (c.top_p as number | null) ?? null,
    data,
  };
}

/** Order-sensitive deep equality of JSON values. */
export function sameJson(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

export function versionNotFound(assistantId: string, n: number) {
  return new ApiError(404, 'Version not found', `Version ${n} not found for assistant ${assistantId}`, 'Please verify the version number and try again');
}

export class VersionRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(v: Omit<AssistantVersion, 'id'>): Promise<AssistantVersion> {
    const row = { id: newRowId(), ...v };
    await this.db
      .insertInto('assistant_versions')
      .values({ ...row, config: toJson(row.config), created_by: toJson(row.created_by) })
      .execute();
    return row;
  }

  async get(assistantId: string, n: number): Promise<AssistantVersion | undefined> {
    const r = await this.db.selectFrom('assistant_versions').selectAll().where('assistant_id', '=', assistantId).where('version_number', '=', n).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  }

  async latest(assistantId: string): Promise<AssistantVersion | undefined> {
    const r = await this.db.selectFrom('assistant_versions').selectAll().where('assistant_id', '=', assistantId).orderBy('version_number', 'desc').limit(1).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  }

  /** Newest first. */
  async list(assistantId: string, page: number, perPage: number): Promise<AssistantVersion[]> {
    const rows = await this.db
      .selectFrom('assistant_versions')
      .selectAll()
      .where('assistant_id', '=', assistantId)
      .orderBy('version_number', 'desc')
      .limit(perPage)
      .offset(page * perPage)
      .execute();
    return rows.map(fromRow);
  }

  /** Every version, newest first (system_prompt_history). */
  async all(assistantId: string): Promise<AssistantVersion[]> {
    const rows = await this.db.selectFrom('assistant_versions').selectAll().where('assistant_id', '=', assistantId).orderBy('version_number', 'desc').execute();
    return rows.map(fromRow);
  }
}

function fromRow(r: Database['assistant_versions']): AssistantVersion {
  return {
    id: r.id,
    assistant_id: r.assistant_id,
    version_number: Number(r.version_number),
    config: fromJson(r.config, {} as VersionConfig),
    created_by: fromJson(r.created_by, { id: '', username: '', name: '' }),
    change_notes: r.change_notes,
    created_date: r.created_date,
  };
}

/** The wire form of a version (reference `AssistantConfiguration`). */
export function versionResponse(v: AssistantVersion) {
  const c = v.config;
  return {
    id: v.id,
    date: v.created_date,
    update_date: v.created_date,
    assistant_id: v.assistant_id,
    version_number: v.version_number,
    created_date: v.created_date,
    created_by: v.created_by,
    description: String(c.description ?? ''),
    system_prompt: String(c.system_prompt ?? ''),
    llm_model_type: (c.llm_model_type as string | null) ?? null,
    enable_image_generation: c.enable_image_generation === true,
    image_generation_model: (c.image_generation_model as string | null) ?? null,
    temperature: (c.temperature as number | null) ?? null,
    top_p: (c.top_p as number | null) ?? null,
    tools_tokens_size_limit: (c.tools_tokens_size_limit as number | null) ?? null,
    context: (c.context as unknown[]) ?? [],
    toolkits: (c.toolkits as unknown[]) ?? [],
    mcp_servers: ((c.mcp_servers as Array<Record<string, unknown>>) ?? []).map(mcpServerOut),
    assistant_ids: (c.assistant_ids as string[]) ?? [],
    conversation_starters: (c.conversation_starters as string[]) ?? [],
    bedrock: c.bedrock ?? null,
    bedrock_agentcore_runtime: c.bedrock_agentcore_runtime ?? null,
    agent_card: c.agent_card ?? null,
    custom_metadata: (c.custom_metadata as Record<string, unknown> | null) ?? null,
    change_notes: v.change_notes,
  };
}

/** An MCP server as the Python SDK parses it: `description` and `enabled` always present. */
export function mcpServerOut(s: Record<string, unknown>): Record<string, unknown> {
  return { ...s, description: s.description ?? null, enabled: s.enabled !== false };
}
