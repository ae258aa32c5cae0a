/**
 * Per-user settings of an assistant (reference `assistant_mapping.py`,
 * `assistant_prompt_variable_mapping.py`) and assistants enabled for a project feature
 * (`assistant_project_mapping.py`, the Teams bot; behind CODEMIE_FEATURE_TEAMS_BOT).
 */
import type { Kysely } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import { ApiError, forbidden } from '../api/errors.js';
import { canAccessProject } from '../auth/access.js';
import type { Database } from '../store/schema.js';
import { fromJson, toJson } from '../store/json.js';
import { newRowId } from '../store/ids.js';
import type { AssistantRecord } from './repo.js';
import type { SecretBox } from './secret-box.js';
import { promptVariablesOf } from './service.js';

/** An integration as the mapping rules need it (the integrations domain provides it; none exist until it does). */
export interface IntegrationRef {
  id: string;
  /** `user` integrations belong to one user; `project` integrations to a project. */
  setting_type: 'user' | 'project';
  user_id: string;
  project_name: string;
}

export interface IntegrationLookup {
  get(id: string): Promise<IntegrationRef | undefined>;
}

/** Until an integrations domain is wired in, no integration exists (every id is "not accessible"). */
export const noIntegrations: IntegrationLookup = { get: async () => undefined };

export interface ToolMapping {
  name: string;
  integration_id: string;
}

export interface PromptVariableValue {
  variable_key: string;
  variable_value: string;
  is_sensitive: boolean;
}

const USER_MASK = '**********';

export class MappingService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly secrets: SecretBox,
    private readonly integrations: IntegrationLookup,
  ) {}

  // ── integration per tool ──

  async getToolMappings(a: AssistantRecord, user: AuthUser, workflowId: string | null) {
    const row = await this.row('assistant_user_mappings', a.id, user.id);
    return {
      id: row?.id ?? '',
      date: null,
      update_date: null,
      assistant_id: a.id,
      user_id: user.id,
      tools_config: row ? fromJson<ToolMapping[]>(row.config, []) : [],
      created_at: row?.created_at ?? null,
      updated_at: row?.updated_at ?? null,
      has_assistant_scope_selection: !!row,
      workflow_id: workflowId,
    };
  }

  /** Merges per slot name: a non-empty id sets the slot, an empty (or null) one removes it; other slots stay. */
  async saveToolMappings(a: AssistantRecord, user: AuthUser, entries: Array<{ name: string; integration_id: string | null }>): Promise<void> {
    for (const e of entries) {
      if (e.integration_id && !(await this.integrationAccessible(e.integration_id, a, user))) {
        throw forbidden(
          'The selected integration is not available to your account.',
          'Integration is not accessible',
          "Choose one of your own integrations or an integration of this assistant's project.",
        );
      }
    }
    const row = await this.row('assistant_user_mappings', a.id, user.id);
    const slots = new Map((row ? fromJson<ToolMapping[]>(row.config, []) : []).map((m) => [m.name, m]));
    for (const e of entries) {
      if (e.integration_id) slots.set(e.name, { name: e.name, integration_id: e.integration_id });
      else slots.delete(e.name);
    }
    await this.upsert('assistant_user_mappings', a.id, user.id, [...slots.values()], row?.id);
  }

  async deleteToolMappings(a: AssistantRecord, user: AuthUser): Promise<void> {
    await this.db.deleteFrom('assistant_user_mappings').where('assistant_id', '=', a.id).where('user_id', '=', user.id).execute();
  }

  /** The caller's integration for a tool or MCP server slot, re-checked with the save rule (run time). */
  async integrationFor(a: AssistantRecord, user: AuthUser, slot: string): Promise<string | null> {
    const row = await this.row('assistant_user_mappings', a.id, user.id);
    const m = row ? fromJson<ToolMapping[]>(row.config, []).find((x) => x.name === slot) : undefined;
    return m && (await this.integrationAccessible(m.integration_id, a, user)) ? m.integration_id : null;
  }

  private async integrationAccessible(id: string, a: AssistantRecord, user: AuthUser): Promise<boolean> {
    const i = await this.integrations.get(id);
    if (!i) return false;
    if (i.setting_type === 'user') return i.user_id === user.id;
    if (a.is_global) return true;
    return i.project_name === a.project && canAccessProject(user, i.project_name);
  }

  // ── prompt-variable values ──

  async getPromptVariables(a: AssistantRecord, user: AuthUser) {
    const row = await this.row('assistant_prompt_variable_mappings', a.id, user.id);
    const sensitive = new Set(promptVariablesOf(a).filter((v) => v.is_sensitive).map((v) => v.key));
    const values = row ? fromJson<PromptVariableValue[]>(row.config, []) : [];
    return {
      id: row?.id ?? '',
      date: row?.created_at ?? null,
      update_date: row?.updated_at ?? null,
      assistant_id: a.id,
      user_id: user.id,
      variables_config: values.map((v) => {
        const isSensitive = sensitive.has(v.variable_key) || v.is_sensitive;
        return { id: null, date: null, update_date: null, variable_key: v.variable_key, variable_value: isSensitive ? USER_MASK : v.variable_value, is_sensitive: isSensitive };
      }),
      created_at: row?.created_at ?? null,
      updated_at: row?.updated_at ?? null,
    };
  }

  /** Replaces the caller's values; sensitive ones are sealed (a value sent back masked keeps the stored one). */
  async savePromptVariables(a: AssistantRecord, user: AuthUser, values: PromptVariableValue[]): Promise<void> {
    const row = await this.row('assistant_prompt_variable_mappings', a.id, user.id);
    const old = new Map((row ? fromJson<PromptVariableValue[]>(row.config, []) : []).map((v) => [v.variable_key, v]));
    const sensitive = new Set(promptVariablesOf(a).filter((v) => v.is_sensitive).map((v) => v.key));
    const stored = await Promise.all(
      values.map(async (v) => {
        const isSensitive = v.is_sensitive || sensitive.has(v.variable_key);
        if (!isSensitive) return { ...v, is_sensitive: false };
        const prev = old.get(v.variable_key);
        const value = v.variable_value === USER_MASK && prev ? prev.variable_value : await this.secrets.seal(v.variable_value);
        return { variable_key: v.variable_key, variable_value: value, is_sensitive: true };
      }),
    );
    await this.upsert('assistant_prompt_variable_mappings', a.id, user.id, stored, row?.id);
  }

  /** The caller's values in plain text (for rendering the system prompt). */
  async promptVariableValues(assistantId: string, userId: string): Promise<Record<string, string>> {
    const row = await this.row('assistant_prompt_variable_mappings', assistantId, userId);
    const out: Record<string, string> = {};
    for (const v of row ? fromJson<PromptVariableValue[]>(row.config, []) : []) out[v.variable_key] = await this.secrets.open(v.variable_value);
    return out;
  }

  // ── project feature mappings ──

  async listProjectMapping(project: string, feature: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('assistant_project_mappings')
      .select('assistant_id')
      .where('project_name', '=', project)
      .where('feature', '=', feature)
      .execute();
    return rows.map((r) => r.assistant_id);
  }

  async enableForProject(a: AssistantRecord, project: string, feature: string, user: AuthUser): Promise<void> {
    await this.db
      .insertInto('assistant_project_mappings')
      .values({ id: newRowId(), assistant_id: a.id, project_name: project, feature, created_at: new Date().toISOString(), updated_by: user.id })
      .onConflict((oc) => oc.columns(['assistant_id', 'project_name', 'feature']).doNothing())
      .execute();
  }

  async disableForProject(a: AssistantRecord, project: string, feature: string): Promise<void> {
    const r = await this.db
      .deleteFrom('assistant_project_mappings')
      .where('assistant_id', '=', a.id)
      .where('project_name', '=', project)
      .where('feature', '=', feature)
      .executeTakeFirst();
    if (!Number(r.numDeletedRows)) {
      throw new ApiError(404, 'Mapping not found', `The Mapping with ID [${a.id}/${project}/${feature}] could not be found in the system.`, 'Please ensure the specified ID is correct');
    }
  }

  private row(table: 'assistant_user_mappings' | 'assistant_prompt_variable_mappings', assistantId: string, userId: string) {
    return this.db.selectFrom(table).selectAll().where('assistant_id', '=', assistantId).where('user_id', '=', userId).executeTakeFirst();
  }

  private async upsert(table: 'assistant_user_mappings' | 'assistant_prompt_variable_mappings', assistantId: string, userId: string, config: unknown, id?: string) {
    const now = new Date().toISOString();
    if (id) await this.db.updateTable(table).set({ config: toJson(config), updated_at: now }).where('id', '=', id).execute();
    else {
      await this.db
        .insertInto(table)
        .values({ id: newRowId(), assistant_id: assistantId, user_id: userId, config: toJson(config), created_at: now, updated_at: now })
        .onConflict((oc) => oc.columns(['assistant_id', 'user_id']).doUpdateSet({ config: toJson(config), updated_at: now }))
        .execute();
    }
  }
}
