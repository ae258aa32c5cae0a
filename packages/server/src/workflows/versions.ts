/**
 * Workflow versions: every save that changes a workflow's versioned fields (name, description,
 * mode, yaml_config, icon_url, start_hint) writes a new numbered row of `workflow_versions`;
 * creation writes version 1. List/get/compare/rollback follow the reference's assistant
 * versioning routes (the reference keeps only `yaml_config_history` for workflows), with
 * `workflow_` in place of `assistant_` in the field names.
 */
import type { Kysely } from 'kysely';
import { parse as parseYaml } from 'yaml';
import { ApiError } from '../api/errors.js';
import { fromJson, toJson } from '../store/json.js';
import type { Database } from '../store/schema.js';
import type { WorkflowVersionsTable } from './tables.js';
import type { WorkflowRow } from './store.js';
import { changeSummary, deepDiff } from '../assistants/diff.js';

export type VersionRow = WorkflowVersionsTable;

/** The fields a version holds (a change to any of them makes a new version). */
export const VERSIONED = ['name', 'description', 'mode', 'yaml_config', 'icon_url', 'start_hint'] as const;
export type VersionedFields = Pick<WorkflowRow, (typeof VERSIONED)[number]>;

export function versionNotFound(workflowId: string, n: number) {
  return new ApiError(404, 'Version not found', `Version ${n} not found for workflow ${workflowId}`, 'Please verify the version number and try again');
}

export const sameVersion = (a: VersionedFields, b: VersionedFields) => VERSIONED.every((k) => (a[k] ?? null) === (b[k] ?? null));

export function versionToWire(v: VersionRow) {
  return {
    id: v.id,
    workflow_id: v.workflow_id,
    version_number: v.version_number,
    created_date: v.date,
    created_by: fromJson<{ user_id: string; username: string; name: string } | null>(v.created_by, null),
    name: v.name,
    description: v.description,
    mode: v.mode,
    yaml_config: v.yaml_config,
    icon_url: v.icon_url,
    start_hint: v.start_hint,
    change_notes: v.change_notes,
  };
}

/** What compare diffs: the fields, with yaml_config parsed (a diff per state/key, not one long string). */
function comparable(v: VersionRow): Record<string, unknown> {
  let config: unknown = v.yaml_config;
  try {
    config = v.yaml_config.trim() ? (parseYaml(v.yaml_config, { maxAliasCount: 100 }) as unknown) : {};
  } catch {
    /* an unparsable document compares as text */
  }
  return { name: v.name, description: v.description, mode: v.mode, icon_url: v.icon_url, start_hint: v.start_hint, yaml_config: config };
}

export function compareVersions(v1: VersionRow, v2: VersionRow) {
  const differences = deepDiff(comparable(v1), comparable(v2));
  return {
    workflow_id: v1.workflow_id,
    version1: versionToWire(v1),
    version2: versionToWire(v2),
    differences,
    change_summary: changeSummary(differences, v1.version_number, v2.version_number),
  };
}

export class WorkflowVersions {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(
    db: Kysely<Database>,
    workflowId: string,
    n: number,
    fields: VersionedFields,
    createdBy: unknown,
    date: string,
    changeNotes: string | null,
  ): Promise<void> {
    await db
      .insertInto('workflow_versions')
      .values({
        id: `${workflowId}:${n}`,
        workflow_id: workflowId,
        version_number: n,
        name: fields.name,
        description: fields.description,
        mode: fields.mode,
        yaml_config: fields.yaml_config,
        icon_url: fields.icon_url ?? null,
        start_hint: fields.start_hint ?? null,
        created_by: toJson(createdBy),
        change_notes: changeNotes,
        date,
      })
      .execute();
  }

  get(workflowId: string, n: number): Promise<VersionRow | undefined> {
    return this.db.selectFrom('workflow_versions').selectAll().where('workflow_id', '=', workflowId).where('version_number', '=', n).executeTakeFirst();
  }

  list(workflowId: string, page: number, perPage: number): Promise<VersionRow[]> {
    return this.db
      .selectFrom('workflow_versions')
      .selectAll()
      .where('workflow_id', '=', workflowId)
      .orderBy('version_number', 'desc')
      .limit(perPage)
      .offset(page * perPage)
      .execute();
  }

  async count(workflowId: string): Promise<number> {
    const r = await this.db
      .selectFrom('workflow_versions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workflow_id', '=', workflowId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async removeAll(db: Kysely<Database>, workflowId: string): Promise<void> {
    await db.deleteFrom('workflow_versions').where('workflow_id', '=', workflowId).execute();
  }
}
