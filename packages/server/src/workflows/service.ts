/**
 * Workflow configs and executions: the domain logic behind the HTTP routes. Starting or
 * resuming an execution writes its row and checkpoint, then hands it to the run queue.
 */
import type { AuthUser } from '../api/auth.js';
import { ApiError, badRequest, notFound } from '../api/errors.js';
import type { LlmService } from '../llm/types.js';
import { pageOf, type Page } from '../api/pagination.js';
import type { RunQueue } from '../runs/queue.js';
import { fromJson, toJson } from '../store/json.js';
import { denied, isManagerOf, requireExecution, requireProject, requireWorkflow, workflowAbilities } from './acl.js';
import { initialCheckpoint, STATUS, zeroUsage, type Checkpoint } from './model.js';
import { nowIso, type ExecutionRow, type StateRow, type WorkflowRow, type WorkflowStore } from './store.js';
import { configError, formatConfigError, nextTargets } from './validate.js';

export type ErrorFormat = 'string' | 'json';
import type { WorkflowEngine } from './engine.js';
import type { WorkflowYaml } from './config-schema.js';
import { isPlainObject, tryParseJson } from './template.js';
import { filesPromptBlock, type AttachedFile } from '../files/service.js';
import { segmentFinalEvent } from './final-chunk.js';
import type { RunEvent } from '../turn/events.js';
import type { z } from 'zod';
import type { executionSchema, executionThoughtSchema, stateSchema, transitionSchema, workflowSchema } from './responses.js';
import { randomUUID } from 'node:crypto';
import { newRowId } from '../store/ids.js';
import { PREBUILT_WORKFLOWS, type PrebuiltTemplate } from './prebuilt.js';
import { generateWorkflow } from './generate.js';
import { compareVersions, sameVersion, versionNotFound, versionToWire, WorkflowVersions, type VersionedFields } from './versions.js';

export interface WorkflowCheck {
  valid: boolean;
  errors: Array<{ message: string; line: number | null }>;
  states: Array<{ id: string; next: string[]; interrupt_before: boolean }>;
}

/** Resolves attached `file_names` (400 unknown, 403 foreign); the files domain plugs in here. */
export type FileResolver = (user: AuthUser, handles: string[]) => Promise<AttachedFile[]>;

export const RUN_KIND = 'workflow-execution';

export interface WorkflowInput {
  name: string;
  description: string;
  project: string;
  yaml_config: string;
  shared: boolean;
  mode: string;
  icon_url?: string | null;
  start_hint?: string | null;
}

export interface ExecutionInput {
  user_input: string;
  file_name?: string | null;
  file_names?: string[] | null;
  session_id?: string | null;
  tags?: string[] | null;
  conversation_id?: string | null;
  propagatedHeaders: Record<string, string> | null;
}

/** A fair-use admission of a run (limits/): throws 429 when the run may not start. */
export type Admit = (project: string, runId: string) => Promise<void>;

const userRef = (u: AuthUser) => ({ user_id: u.id, username: u.username, name: u.name });

export class WorkflowService {
  constructor(
    private readonly store: WorkflowStore,
    private readonly engine: WorkflowEngine,
    private readonly runs: RunQueue,
    private readonly llm: Pick<LlmService, 'resolveModel' | 'runAgent'>,
    private readonly files: FileResolver | null = null,
    /** The budget check before an execution starts (analytics/budgets.ts through infra.usage). */
    private readonly checkBudget: ((s: { user: AuthUser; project: string }) => Promise<void>) | null = null,
  ) {
    this.versions = new WorkflowVersions(store.db);
  }

  private async attach(user: AuthUser, handles: string[]): Promise<AttachedFile[]> {
    if (!handles.length) return [];
    if (!this.files) throw badRequest('Files are not available', 'This server does not accept file_names.');
    return this.files(user, handles);
  }

  private get db() {
    return this.store.db;
  }

  readonly versions: WorkflowVersions;

  /** Parsed configs of the rows this service handed out, for toWire (which is synchronous). */
  private readonly configs = new WeakMap<WorkflowRow, WorkflowYaml | null>();

  /** Parses the rows' documents (off the event loop) before toWire needs them; a bad one reads as null. */
  private async withConfigs<T extends WorkflowRow | WorkflowRow[]>(rows: T): Promise<T> {
    const list: WorkflowRow[] = Array.isArray(rows) ? rows : [rows];
    await Promise.all(list.map(async (r) => this.configs.set(r, r.yaml_config.trim() ? await this.engine.load(r.yaml_config).catch(() => null) : null)));
    return rows;
  }

  /** Validates a document to save; `format` 'json' gives the reference's structured details on a 400. */
  async validate(yaml: string, format: ErrorFormat = 'string'): Promise<WorkflowYaml | null> {
    try {
      if (!yaml.trim()) return null;
      const cfg = await this.engine.load(yaml, true);
      cfg.assistants.forEach((a) => {
        if (!a.model) return;
        try {
          this.llm.resolveModel(a.model);
        } catch (err) {
          throw configError(
            `Assistant '${a.id}' uses model '${a.model}', which is not available: ${err instanceof ApiError ? String(err.details) : (err as Error).message}`,
            { type: 'resource_validation', short: 'Model not available', path: 'model' },
          );
        }
      });
      return cfg;
    } catch (err) {
      throw formatConfigError(err, format);
    }
  }

  /**
   * POST /v1/workflows/validate: the save-time checks as data, for editors that validate as the
   * user types: the first problem with its line, or the graph of the states.
   */
  async check(yaml: string): Promise<WorkflowCheck> {
    try {
      const cfg = await this.validate(yaml);
      if (!cfg) return { valid: false, errors: [{ message: 'yaml_config is empty', line: null }], states: [] };
      const states = cfg.states.map((s) => ({ id: s.id, next: nextTargets(s), interrupt_before: !!s.interrupt_before }));
      return { valid: true, errors: [], states };
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 400) throw err;
      const message = typeof err.details === 'string' ? err.details : err.message;
      const line = /\(line (\d+)\)/.exec(message);
      return { valid: false, errors: [{ message, line: line ? Number(line[1]) : null }], states: [] };
    }
  }

  toWire(row: WorkflowRow, user: AuthUser): z.output<typeof workflowSchema> {
    let cfg: WorkflowYaml | null | undefined = this.configs.get(row);
    if (cfg === undefined) {
      try {
        cfg = row.yaml_config.trim() ? this.engine.config(row.yaml_config) : null;
      } catch {
        cfg = null;
      }
    }
    return {
      id: row.id,
      date: row.date,
      update_date: row.update_date,
      name: row.name,
      description: row.description,
      start_hint: row.start_hint,
      icon_url: row.icon_url,
      mode: row.mode,
      type: cfg?.type ?? 'generic',
      project: row.project,
      shared: row.shared === 1,
      assistants: cfg?.assistants ?? [],
      custom_nodes: cfg?.custom_nodes ?? [],
      tools: cfg?.tools ?? [],
      states: cfg?.states ?? [],
      schema_url: null,
      supervisor_prompt: '',
      created_by: fromJson(row.created_by, null),
      updated_by: fromJson(row.updated_by, null),
      user_abilities: workflowAbilities(user, row),
      yaml_config: row.yaml_config,
      yaml_config_history: fromJson(row.yaml_config_history, []),
      tokens_limit_before_summarization: cfg?.tokens_limit_before_summarization ?? null,
      messages_limit_before_summarization: cfg?.messages_limit_before_summarization ?? null,
      enable_summarization_node: cfg?.enable_summarization_node ?? true,
      retry_policy: cfg?.retry_policy ?? null,
      recursion_limit: cfg?.recursion_limit ?? 50,
      max_concurrency: cfg?.max_concurrency ?? 2,
      verbose: cfg?.verbose ?? true,
      max_iteration_key_output_limit: cfg?.max_iteration_key_output_limit ?? 200,
      bedrock: null,
      meta_config: null,
      is_global: row.is_global === 1,
      categories: fromJson<string[]>(row.categories, []),
      unique_users_count: 0,
      guardrail_assignments: [],
    };
  }

  async create(user: AuthUser, input: WorkflowInput, format: ErrorFormat = 'string'): Promise<WorkflowRow> {
    requireProject(user, input.project);
    if (input.mode === 'Autonomous') throw badRequest('Autonomous workflows are not supported', 'Only mode "Sequential" is supported.');
    await this.validate(input.yaml_config, format);
    const now = nowIso();
    const row: WorkflowRow = {
      id: newRowId(),
      name: input.name,
      description: input.description,
      project: input.project,
      mode: input.mode,
      shared: input.shared ? 1 : 0,
      yaml_config: input.yaml_config,
      yaml_config_history: '[]',
      icon_url: input.icon_url ?? null,
      start_hint: input.start_hint ?? null,
      created_by_id: user.id,
      created_by: toJson(userRef(user)),
      updated_by: null,
      date: now,
      update_date: now,
      is_global: 0,
      categories: '[]',
      version_count: 1,
    };
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('workflows').values(row).execute();
      await this.versions.insert(trx, row.id, 1, row, userRef(user), now, null);
    });
    return this.withConfigs(row);
  }

  /** The workflow as the API shows it (its config parsed for toWire). */
  async get(user: AuthUser, id: string): Promise<WorkflowRow> {
    return this.withConfigs(await this.readable(user, id));
  }

  /** The workflow row, if the user may read it (404/403 otherwise). */
  private async readable(user: AuthUser, id: string): Promise<WorkflowRow> {
    const row = await this.store.getWorkflow(id);
    if (!row) throw notFound('Workflow', id);
    requireWorkflow(user, row, 'read');
    return row;
  }

  async update(user: AuthUser, id: string, input: WorkflowInput, format: ErrorFormat = 'string'): Promise<WorkflowRow> {
    const row = await this.store.getWorkflow(id);
    if (!row) throw notFound('Workflow', id);
    requireWorkflow(user, row, 'write');
    if (input.project !== row.project) requireProject(user, input.project);
    if (input.mode === 'Autonomous') throw badRequest('Autonomous workflows are not supported', 'Only mode "Sequential" is supported.');
    await this.validate(input.yaml_config, format);
    const now = nowIso();
    // yaml_config_history as the reference keeps it: the replaced document first (newest first).
    const history = fromJson<unknown[]>(row.yaml_config_history, []);
    if (row.yaml_config !== input.yaml_config) history.unshift({ yaml_config: row.yaml_config, date: now, created_by: userRef(user) });
    const fields = {
      name: input.name,
      description: input.description,
      project: input.project,
      mode: input.mode,
      shared: input.shared ? 1 : 0,
      yaml_config: input.yaml_config,
      yaml_config_history: toJson(history.slice(0, 20)),
      icon_url: input.icon_url ?? row.icon_url,
      start_hint: input.start_hint ?? row.start_hint,
      updated_by: toJson(userRef(user)),
      update_date: now,
    };
    return this.withConfigs(await this.write(row, fields, user, null));
  }

  /** Writes changed fields; a change to a versioned field makes a new version. */
  private async write(
    row: WorkflowRow,
    fields: Partial<WorkflowRow> & { update_date: string },
    user: AuthUser,
    changeNotes: string | null,
    forceVersion = false,
  ): Promise<WorkflowRow> {
    const next: WorkflowRow = { ...row, ...fields };
    const versioned = forceVersion || !sameVersion(row, next);
    if (versioned) next.version_count = row.version_count + 1;
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('workflows')
        .set({ ...fields, version_count: next.version_count })
        .where('id', '=', row.id)
        .execute();
      if (versioned) await this.versions.insert(trx, row.id, next.version_count, next, userRef(user), fields.update_date, changeNotes);
    });
    return next;
  }

  // ---- generate ----

  /** A workflow written by the model from a description, validated before it is returned (see generate.ts). */
  async generate(user: AuthUser, body: { text: string; llm_model?: string | null; persist?: boolean }, signal: AbortSignal) {
    const project = user.projects[0] ?? user.adminProjects[0] ?? null;
    if (body.persist) {
      if (!project) throw badRequest('Cannot save the generated workflow', 'You are not a member of any project.');
      requireProject(user, project);
    }
    const model = this.llm.resolveModel(body.llm_model ?? null).base_name;
    const wf = await generateWorkflow(
      {
        complete: async (_m, system, messages, sig) => {
          for await (const ev of this.llm.runAgent({ model, system, messages, signal: sig })) {
            if (ev.type === 'finish') return ev.text;
            if (ev.type === 'error') throw new ApiError(ev.error.status >= 400 ? ev.error.status : 502, 'Workflow generation failed', ev.error.message);
          }
          throw new ApiError(502, 'Workflow generation failed', 'The model returned no answer.');
        },
        validate: async (yaml) => {
          await this.validate(yaml);
        },
      },
      body.text,
      model,
      signal,
    );
    const cfg = await this.engine.load(wf.yaml_config);
    const workflow_config = {
      name: wf.name,
      description: wf.description,
      project,
      mode: 'Sequential',
      yaml_config: wf.yaml_config,
      shared: true,
      assistants: cfg.assistants,
      tools: cfg.tools,
      states: cfg.states,
      supervisor_prompt: '',
      meta_config: null,
    };
    if (!body.persist) return { workflow_config };
    const row = await this.create(user, {
      name: wf.name,
      description: wf.description,
      project: project!,
      yaml_config: wf.yaml_config,
      shared: true,
      mode: 'Sequential',
    });
    return { workflow_config, workflow_id: row.id };
  }

  // ---- prebuilt templates ----

  /** The templates as the reference answers them (WorkflowConfigTemplate: the workflow's fields, slug, video_link). */
  async prebuilt(user: AuthUser, filters: Record<string, unknown>) {
    let list = PREBUILT_WORKFLOWS;
    const name = filters.name ?? filters.search;
    if (typeof name === 'string' && name) list = list.filter((t) => t.name.toLowerCase().includes(name.toLowerCase()));
    const cats = Array.isArray(filters.categories) ? filters.categories.map(String) : [];
    if (cats.length) list = list.filter((t) => t.categories.some((c) => cats.includes(c)));
    // templates are created by nobody: a created_by filter matches none (as the reference)
    if (typeof filters.created_by === 'string' && filters.created_by) list = [];
    return Promise.all(list.map((t) => this.templateToWire(t, user)));
  }

  async prebuiltBySlug(user: AuthUser, slug: string) {
    const t = PREBUILT_WORKFLOWS.find((x) => x.slug === slug);
    if (!t)
      throw new ApiError(
        404,
        'Workflow template not found',
        `No workflow template found with the slug '${slug}'.`,
        'Please check the workflow slug and ensure it is correct. ',
      );
    return this.templateToWire(t, user);
  }

  private async templateToWire(t: PrebuiltTemplate, user: AuthUser) {
    const row: WorkflowRow = {
      id: '',
      name: t.name,
      description: t.description,
      project: user.projects[0] ?? user.adminProjects[0] ?? 'demo',
      mode: t.mode,
      shared: 1,
      yaml_config: t.yaml_config,
      yaml_config_history: '[]',
      icon_url: t.icon_url,
      start_hint: t.start_hint,
      created_by_id: '',
      created_by: 'null',
      updated_by: null,
      date: '',
      update_date: '',
      is_global: 0,
      categories: toJson(t.categories),
      version_count: 1,
    };
    const wire = this.toWire(await this.withConfigs(row), user);
    return { ...wire, id: null, date: null, update_date: null, user_abilities: [], slug: t.slug, video_link: t.video_link };
  }

  // ---- marketplace (reference: routers/workflow_marketplace.py) ----

  /** The workflow, for a marketplace action: 404 when unreadable, 403 when not writable. */
  private async writableForMarket(user: AuthUser, id: string, action: string): Promise<WorkflowRow> {
    const row = await this.store.getWorkflow(id);
    if (!row || !workflowAbilities(user, row).includes('read')) throw notFound('Workflow', id);
    if (!workflowAbilities(user, row).includes('write')) throw denied(action);
    return row;
  }

  /** Refuses what cannot be published (stored assistants); lists inline credentials to confirm. */
  async validateForMarketplace(user: AuthUser, id: string) {
    const row = await this.writableForMarket(user, id, 'publish');
    const cfg = row.yaml_config.trim() ? await this.engine.load(row.yaml_config) : null;
    if (cfg?.assistants.some((a) => a.assistant_id) || cfg?.assistants.some((a) => a.skill_ids?.length)) {
      throw badRequest('Marketplace workflows cannot use external (non-virtual) assistants or skills');
    }
    const inline_credentials = cfg ? inlineCredentials(cfg) : [];
    return {
      message: inline_credentials.length
        ? 'Workflow contains inline credentials in MCP servers or assistant toolkits that will be shared with all users. Please confirm that you want to publish it.'
        : `Workflow ${row.id} is ready to be published to marketplace`,
      inline_credentials,
      workflow_id: row.id,
    };
  }

  async publish(user: AuthUser, id: string, categories: string[]): Promise<WorkflowRow> {
    await this.validateForMarketplace(user, id);
    const found = await this.db.selectFrom('categories').select('id').where('id', 'in', categories).execute();
    const invalid = categories.filter((c) => !found.some((f) => f.id === c));
    if (invalid.length) throw badRequest(`Invalid category IDs: [${invalid.map((c) => `'${c}'`).join(', ')}]`);
    await this.db
      .updateTable('workflows')
      .set({ is_global: 1, categories: toJson(categories) })
      .where('id', '=', id)
      .execute();
    return this.withConfigs((await this.store.getWorkflow(id))!);
  }

  async unpublish(user: AuthUser, id: string): Promise<WorkflowRow> {
    await this.writableForMarket(user, id, 'unpublish');
    await this.db.updateTable('workflows').set({ is_global: 0 }).where('id', '=', id).execute();
    return this.withConfigs((await this.store.getWorkflow(id))!);
  }

  // ---- versions ----

  async listVersions(user: AuthUser, id: string, page: number, perPage: number) {
    const wf = await this.readable(user, id);
    const rows = await this.versions.list(id, page, perPage);
    return { versions: rows.map(versionToWire), total_versions: await this.versions.count(id), workflow_name: wf.name, workflow_id: wf.id };
  }

  async getVersion(user: AuthUser, id: string, n: number) {
    await this.readable(user, id);
    const v = await this.versions.get(id, n);
    if (!v) throw versionNotFound(id, n);
    return versionToWire(v);
  }

  async compareVersions(user: AuthUser, id: string, n1: number, n2: number) {
    await this.readable(user, id);
    const [v1, v2] = await Promise.all([this.versions.get(id, n1), this.versions.get(id, n2)]);
    if (!v1) throw versionNotFound(id, n1);
    if (!v2) throw versionNotFound(id, n2);
    return compareVersions(v1, v2);
  }

  /** Makes a new version from version n and applies it (its document is validated again first). */
  async rollback(user: AuthUser, id: string, n: number): Promise<string> {
    const row = await this.store.getWorkflow(id);
    if (!row) throw notFound('Workflow', id);
    requireWorkflow(user, row, 'write');
    if (n === row.version_count) {
      throw badRequest('Cannot rollback to current version', `Version ${n} is already the current version`, 'Please select a different version to rollback to');
    }
    if (n < 1 || n > row.version_count) {
      throw badRequest('Invalid version number', `Version ${n} does not exist. Valid range: 1 to ${row.version_count}`, 'Please verify the version number');
    }
    const v = await this.versions.get(id, n);
    if (!v) throw versionNotFound(id, n);
    await this.validate(v.yaml_config);
    const now = nowIso();
    const history = fromJson<unknown[]>(row.yaml_config_history, []);
    if (row.yaml_config !== v.yaml_config) history.unshift({ yaml_config: row.yaml_config, date: now, created_by: userRef(user) });
    const fields: VersionedFields = {
      name: v.name,
      description: v.description,
      mode: v.mode,
      yaml_config: v.yaml_config,
      icon_url: v.icon_url,
      start_hint: v.start_hint,
    };
    // The same document as the current one still counts as a new version (the rollback is recorded).
    const written = await this.write(
      row,
      { ...fields, yaml_config_history: toJson(history.slice(0, 20)), updated_by: toJson(userRef(user)), update_date: now },
      user,
      `Rolled back to version ${n}`,
      true,
    );
    return `Rolled back to version ${n}. Created new version ${written.version_count}`;
  }

  async remove(user: AuthUser, id: string): Promise<void> {
    const row = await this.store.getWorkflow(id);
    if (!row) throw notFound('Workflow', id);
    requireWorkflow(user, row, 'delete');
    const running = await this.db
      .selectFrom('workflow_executions')
      .select('id')
      .where('workflow_id', '=', id)
      .where('overall_status', '=', STATUS.inProgress)
      .execute();
    for (const r of running) await this.runs.abort(r.id);
    await this.deleteExecutions(this.db.selectFrom('workflow_executions').select('id').where('workflow_id', '=', id));
    await this.db.transaction().execute(async (trx) => {
      await this.versions.removeAll(trx, id);
      await trx.deleteFrom('workflows').where('id', '=', id).execute();
    });
  }

  async list(user: AuthUser, page: number, perPage: number, filters: Record<string, unknown>, scope?: string): Promise<Page<WorkflowRow>> {
    let q = this.db.selectFrom('workflows');
    if (scope === 'marketplace') q = q.where('is_global', '=', 1);
    else if (!user.isAdmin) {
      q = q.where((eb) =>
        eb.or([
          eb('created_by_id', '=', user.id),
          ...(user.adminProjects.length ? [eb('project', 'in', user.adminProjects)] : []),
          ...(user.projects.length ? [eb.and([eb('shared', '=', 1), eb('project', 'in', user.projects)])] : []),
        ]),
      );
    }
    const project = filters.project;
    if (typeof project === 'string' && project) q = q.where('project', '=', project);
    if (Array.isArray(project) && project.length) q = q.where('project', 'in', project.map(String));
    const search = filters.name ?? filters.search;
    if (typeof search === 'string' && search) q = q.where('name', 'like', `%${search.replace(/[%_]/g, '')}%`);
    if (typeof filters.created_by === 'string') q = q.where('created_by_id', '=', filters.created_by);
    if (typeof filters.shared === 'boolean') q = q.where('shared', '=', filters.shared ? 1 : 0);
    const cats = Array.isArray(filters.categories) ? filters.categories.map(String).filter(Boolean) : [];
    if (cats.length) q = q.where((eb) => eb.or(cats.map((c) => eb('categories', 'like', `%${JSON.stringify(c).replace(/[%_]/g, '')}%`))));
    const { total } = await q.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
    const rows = await q
      .selectAll()
      .orderBy('date', 'desc')
      .orderBy('id')
      .limit(perPage)
      .offset(page * perPage)
      .execute();
    return pageOf(await this.withConfigs(rows), Number(total), page, perPage);
  }

  // ---- executions ----

  executionToWire(row: ExecutionRow): z.output<typeof executionSchema> {
    const fileNames = fromJson<string[]>(row.file_names, []);
    return {
      id: row.id,
      execution_id: row.id,
      workflow_id: row.workflow_id,
      overall_status: row.overall_status,
      output: row.output,
      name: row.name,
      prompt: row.prompt,
      file_name: fileNames[0] ?? null,
      file_names: fileNames,
      created_by: fromJson(row.created_by, null),
      updated_by: fromJson(row.updated_by, null),
      checkpoints: null,
      tokens_usage: { ...fromJson(row.tokens_usage, zeroUsage()), cached_tokens_money_spent: 0 },
      project: row.project,
      session_id: row.session_id,
      tags: fromJson(row.tags, []),
      conversation_id: row.conversation_id,
      history: [],
      date: row.date,
      update_date: row.update_date,
    };
  }

  /**
   * Creates an execution (In Progress; enqueue() runs it). `admit` is the fair-use check: it runs
   * after validation and before anything is stored, and may refuse (429).
   */
  async startExecution(user: AuthUser, workflowId: string, input: ExecutionInput, admit?: Admit): Promise<ExecutionRow> {
    const wf = await this.readable(user, workflowId);
    if (!wf.yaml_config.trim()) throw configError('This workflow has no yaml_config: add states before executing it.');
    const cfg = await this.engine.load(wf.yaml_config);
    const id = newRowId();
    const now = nowIso();
    const fileNames = [...new Set([...(input.file_names ?? []), ...(input.file_name ? [input.file_name] : [])])];
    const attached = await this.attach(user, fileNames);
    // A hard budget limit refuses the execution before anything is stored.
    await this.checkBudget?.({ user, project: wf.project });
    await admit?.(wf.project, id);
    const parsed = tryParseJson(input.user_input);
    const context: Record<string, unknown> = isPlainObject(parsed) ? { ...parsed } : {};
    if (attached.length) context.file_names = attached.map((f) => f.row.name);
    // Chat mode (a conversation_id, '' for a new conversation): the run's input is the user's
    // message after the earlier turns of this conversation with this workflow, as the reference.
    const conversationId = input.conversation_id === '' ? randomUUID() : (input.conversation_id ?? null);
    const prompt = conversationId ? await this.withChatHistory(user, wf.id, conversationId, input.user_input) : input.user_input;
    const cp = initialCheckpoint(cfg.states[0].id, prompt, context);
    // Text files reach every assistant state through the LLM history's first user message.
    const block = filesPromptBlock(attached);
    if (block) cp.history = [{ role: 'user', content: `${input.user_input}${block}`.trim() }];
    const row: ExecutionRow = {
      id,
      workflow_id: wf.id,
      project: wf.project,
      name: wf.name,
      prompt,
      file_names: toJson(fileNames),
      overall_status: STATUS.inProgress,
      output: null,
      created_by_id: user.id,
      created_by: toJson(userRef(user)),
      updated_by: null,
      tokens_usage: toJson(zeroUsage()),
      session_id: input.session_id || id,
      tags: toJson(input.tags ?? []),
      conversation_id: conversationId,
      propagated_headers: input.propagatedHeaders ? toJson(input.propagatedHeaders) : null,
      yaml_config: wf.yaml_config,
      checkpoint: toJson(cp),
      run_seq: 1,
      date: now,
      update_date: now,
    };
    await this.db.insertInto('workflow_executions').values(row).execute();
    return row;
  }

  /**
   * The reference's chat-mode input: the finished earlier executions of this conversation (the
   * user's own, oldest first) as "# Previous Workflow Executions" markdown, then the new message.
   */
  private async withChatHistory(user: AuthUser, workflowId: string, conversationId: string, userInput: string): Promise<string> {
    const earlier = await this.db
      .selectFrom('workflow_executions')
      .select(['id', 'prompt', 'output'])
      .where('workflow_id', '=', workflowId)
      .where('conversation_id', '=', conversationId)
      .where('created_by_id', '=', user.id)
      .where('overall_status', 'not in', [STATUS.inProgress, 'Not Started'])
      .orderBy('date')
      .orderBy('id')
      .execute();
    if (!earlier.length) return userInput;
    const parts = ['# Previous Workflow Executions\n'];
    for (const [i, e] of earlier.entries()) {
      let output = e.output;
      if (!output) {
        const last = await this.db
          .selectFrom('workflow_execution_states')
          .select('output')
          .where('execution_id', '=', e.id)
          .orderBy('date', 'desc')
          .orderBy('step', 'desc')
          .executeTakeFirst();
        output = last?.output ?? null;
      }
      parts.push(`\n## Execution ${i + 1}`, `**User Input:** ${e.prompt || 'N/A'}`, `**Workflow Output:** ${output || 'N/A'}\n`);
    }
    parts.push('\n## Current Request');
    return `${parts.join('\n')}\n${userInput}`;
  }

  enqueue(id: string): Promise<void> {
    return this.runs.enqueue(RUN_KIND, id);
  }

  async getExecution(user: AuthUser, workflowId: string, executionId: string, ability: 'read' | 'write' | 'delete' = 'read'): Promise<ExecutionRow> {
    const row = await this.store.getExecution(executionId);
    if (!row || row.workflow_id !== workflowId) throw notFound('Workflow execution', executionId);
    // Executions are visible to those who may see their workflow (their own runs excepted): a
    // project member refused an unshared workflow is refused its executions' inputs and outputs.
    if (row.created_by_id !== user.id) {
      const wf = await this.store.getWorkflow(workflowId);
      if (wf) requireWorkflow(user, wf, 'read');
    }
    requireExecution(user, row, ability);
    return row;
  }

  async listExecutions(user: AuthUser, workflowId: string, page: number, perPage: number): Promise<Page<ExecutionRow>> {
    await this.readable(user, workflowId);
    let q = this.db.selectFrom('workflow_executions').where('workflow_id', '=', workflowId);
    if (!user.isAdmin) {
      q = q.where((eb) => eb.or([eb('created_by_id', '=', user.id), ...(user.adminProjects.length ? [eb('project', 'in', user.adminProjects)] : [])]));
    }
    const { total } = await q.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
    const rows = await q
      .selectAll()
      .orderBy('date', 'desc')
      .orderBy('id')
      .limit(perPage)
      .offset(page * perPage)
      .execute();
    return pageOf(rows, Number(total), page, perPage);
  }

  async listStates(user: AuthUser, workflowId: string, executionId: string, page: number, perPage: number): Promise<Page<z.output<typeof stateSchema>>> {
    await this.getExecution(user, workflowId, executionId);
    const q = this.db.selectFrom('workflow_execution_states').where('execution_id', '=', executionId);
    const { total } = await q.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
    const rows = await q
      .selectAll()
      .orderBy('step')
      .orderBy('date')
      .orderBy('task_key')
      .limit(perPage)
      .offset(page * perPage)
      .execute();
    const ids = rows.map((r) => r.id);
    const thoughts = ids.length
      ? await this.db
          .selectFrom('workflow_thoughts')
          .select(['id', 'execution_state_id', 'parent_id', 'author_name', 'author_type', 'date'])
          .where('execution_state_id', 'in', ids)
          .where('parent_id', 'is', null)
          .orderBy('date')
          .execute()
      : [];
    return pageOf(
      rows.map((r) => ({ ...stateToWire(r), thoughts: thoughts.filter((t) => t.execution_state_id === r.id) })),
      Number(total),
      page,
      perPage,
    );
  }

  /** Transitions between state executions, derived from each state's predecessors. */
  async transitions(user: AuthUser, workflowId: string, executionId: string): Promise<Array<z.output<typeof transitionSchema>>> {
    await this.getExecution(user, workflowId, executionId);
    const rows = await this.db
      .selectFrom('workflow_execution_states')
      .select(['id', 'name', 'preceding_state_ids', 'context', 'date'])
      .where('execution_id', '=', executionId)
      .orderBy('step')
      .orderBy('task_key')
      .execute();
    const exec = await this.store.getExecution(executionId);
    return rows.flatMap((r) => {
      const preceding = fromJson<string[]>(r.preceding_state_ids, []);
      // The first state is entered from the start (from_state_id null), as the reference records it.
      const froms: Array<string | null> = preceding.length ? preceding : [null];
      const workflow_context = {
        context_store: fromJson<Record<string, unknown>>(r.context, {}),
        next: [r.name],
        messages: [],
        user_input: exec?.prompt ?? null,
        final_summary: [],
      };
      return froms.map((from) => ({
        id: `${from ?? 'start'}:${r.id}`,
        execution_id: executionId,
        from_state_id: from,
        to_state_id: r.id,
        workflow_context,
        date: r.date,
      }));
    });
  }

  async stateOutput(user: AuthUser, workflowId: string, executionId: string, stateId: string): Promise<string | null> {
    await this.getExecution(user, workflowId, executionId);
    const row = await this.db
      .selectFrom('workflow_execution_states')
      .select(['output'])
      .where('id', '=', stateId)
      .where('execution_id', '=', executionId)
      .executeTakeFirst();
    if (!row) throw notFound('Workflow execution state', stateId);
    return row.output;
  }

  async thoughts(user: AuthUser, workflowId: string, executionId: string, parentIds: string[] | null): Promise<Array<z.output<typeof executionThoughtSchema>>> {
    await this.getExecution(user, workflowId, executionId);
    const all = await this.db.selectFrom('workflow_thoughts').selectAll().where('execution_id', '=', executionId).orderBy('date').execute();
    const wire = (t: (typeof all)[number]): z.output<typeof executionThoughtSchema> => ({
      id: t.id,
      execution_state_id: t.execution_state_id,
      parent_id: t.parent_id,
      author_name: t.author_name,
      author_type: t.author_type,
      input_text: t.input_text,
      content: t.content,
      error: t.error === 1,
      date: t.date,
      children: all.filter((c) => c.parent_id === t.id).map(wire),
    });
    const roots = parentIds?.length ? all.filter((t) => parentIds.includes(t.id)) : all.filter((t) => t.parent_id === null);
    return roots.map(wire);
  }

  /** The end of run segment `seq`, from the database; null while it runs (stream fallback). */
  segmentFinal(executionId: string, seq: number): Promise<RunEvent | null> {
    return segmentFinalEvent(this.store, executionId, seq);
  }

  async abort(user: AuthUser, workflowId: string, executionId: string): Promise<void> {
    const row = await this.getExecution(user, workflowId, executionId, 'write');
    if (row.overall_status !== STATUS.inProgress && row.overall_status !== STATUS.interrupted) {
      throw badRequest('Workflow execution cannot be aborted', `The execution is already ${row.overall_status}.`);
    }
    await this.db
      .updateTable('workflow_executions')
      .set({ overall_status: STATUS.aborted, updated_by: toJson(userRef(user)), update_date: nowIso() })
      .where('id', '=', executionId)
      .where('overall_status', 'in', [STATUS.inProgress, STATUS.interrupted])
      .execute();
    await this.runs.abort(executionId);
    if (row.overall_status === STATUS.interrupted) await this.store.markRunningStates(executionId, STATUS.aborted, 'Aborted by the user');
  }

  /** Continues an Interrupted execution; returns the new run segment number. */
  /** Puts an Interrupted execution back In Progress (enqueue() runs it); `admit` as in startExecution. */
  async resume(
    user: AuthUser,
    workflowId: string,
    executionId: string,
    userInput: string | null,
    headers: Record<string, string> | null,
    fileNames: string[] | null = null,
    admit?: Admit,
  ): Promise<number> {
    const row = await this.getExecution(user, workflowId, executionId, 'write');
    if (row.overall_status !== STATUS.interrupted) {
      throw badRequest('Workflow execution cannot be resumed', `Only an Interrupted execution can be resumed; this one is ${row.overall_status}.`);
    }
    const attached = await this.attach(user, [...new Set(fileNames ?? [])]);
    await admit?.(row.project, executionId);
    const cp = fromJson<Checkpoint>(row.checkpoint, null as never);
    cp.approved = cp.frontier.map((t) => t.key);
    if (userInput) {
      const parsed = tryParseJson(userInput);
      if (isPlainObject(parsed)) Object.assign(cp.context, parsed);
      cp.history = [...cp.history, { role: 'user', content: userInput }];
    }
    if (attached.length) {
      cp.context.file_names = [...new Set([...((cp.context.file_names as string[] | undefined) ?? []), ...attached.map((f) => f.row.name)])];
      const block = filesPromptBlock(attached).trim();
      if (block) cp.history = [...cp.history, { role: 'user', content: block }];
    }
    const seq = row.run_seq + 1;
    const ok = await this.store.updateExecution(
      executionId,
      {
        overall_status: STATUS.inProgress,
        checkpoint: toJson(cp),
        run_seq: seq,
        updated_by: toJson(userRef(user)),
        ...(headers ? { propagated_headers: toJson(headers) } : {}),
      },
      STATUS.interrupted,
    );
    if (!ok) throw badRequest('Workflow execution cannot be resumed', 'The execution changed status meanwhile.');
    return seq;
  }

  async editOutput(user: AuthUser, workflowId: string, executionId: string, stateRowId: string, output: string): Promise<void> {
    const row = await this.getExecution(user, workflowId, executionId, 'write');
    if (row.overall_status !== STATUS.interrupted) {
      throw badRequest(
        'Workflow execution output cannot be edited',
        `Only the output of an Interrupted execution can be edited; this one is ${row.overall_status}.`,
      );
    }
    const state = await this.db
      .selectFrom('workflow_execution_states')
      .selectAll()
      .where('id', '=', stateRowId)
      .where('execution_id', '=', executionId)
      .executeTakeFirst();
    if (!state) throw notFound('Workflow execution state', stateRowId);
    const cp = fromJson<Checkpoint>(row.checkpoint, null as never);
    const prev = cp.lastRows.find((r) => r.rowId === stateRowId);
    if (!prev)
      throw badRequest(
        'Workflow execution output cannot be edited',
        `State '${state.name}' is not the interrupted state's predecessor; only its output can be edited.`,
      );
    const old = state.output ?? '';
    for (const t of cp.frontier) if (t.preceding.length === 1 && t.preceding[0] === stateRowId) t.input = output;
    const parsed = tryParseJson(output);
    if (prev.outputKey) cp.context[prev.outputKey] = parsed ?? output;
    if (isPlainObject(parsed)) Object.assign(cp.context, parsed);
    for (let i = cp.history.length - 1; i >= 0; i--) {
      if (cp.history[i].role === 'assistant' && cp.history[i].content === old) {
        cp.history[i] = { role: 'assistant', content: output };
        break;
      }
    }
    if (cp.lastOutput === old) cp.lastOutput = output;
    const result = fromJson<Record<string, unknown> | null>(state.result, null);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('workflow_execution_states')
        .set({ output, result: result ? toJson({ ...result, output }) : state.result, update_date: nowIso() })
        .where('id', '=', stateRowId)
        .execute();
      await trx
        .updateTable('workflow_executions')
        .set({ checkpoint: toJson(cp), update_date: nowIso() })
        .where('id', '=', executionId)
        .execute();
    });
  }

  /** Asks the default model to rewrite an output as the reviewer requests (HITL helper). */
  async requestChanges(user: AuthUser, workflowId: string, executionId: string, originalOutput: string, request: string, signal: AbortSignal): Promise<string> {
    await this.getExecution(user, workflowId, executionId, 'write');
    const model = this.llm.resolveModel(null).base_name;
    const system =
      'You revise text produced by a step of an automated workflow. Apply the requested changes to the original output and answer with the revised output only, without comments.';
    const content = `Original output:\n${originalOutput}\n\nRequested changes:\n${request}`;
    for await (const ev of this.llm.runAgent({ model, system, messages: [{ role: 'user', content }], signal })) {
      if (ev.type === 'finish') return ev.text;
      if (ev.type === 'error') throw new ApiError(ev.error.status >= 400 ? ev.error.status : 502, 'Could not rewrite the output', ev.error.message);
    }
    throw new ApiError(502, 'Could not rewrite the output', 'The model returned no answer.');
  }

  async deleteExecution(user: AuthUser, workflowId: string, executionId: string): Promise<void> {
    const row = await this.getExecution(user, workflowId, executionId, 'delete');
    if (row.conversation_id) {
      throw badRequest('Cannot delete workflow execution', 'This workflow execution is part of a conversation and cannot be deleted. ', '');
    }
    if (row.overall_status === STATUS.inProgress) await this.runs.abort(executionId);
    await this.deleteExecutions(this.db.selectFrom('workflow_executions').select('id').where('id', '=', executionId));
  }

  async clearExecutions(user: AuthUser, workflowId: string): Promise<void> {
    const wf = await this.readable(user, workflowId);
    const all = isManagerOf(user, wf.project);
    // As the reference: executions that belong to a conversation (chat mode) stay.
    let q = this.db.selectFrom('workflow_executions').select('id').where('workflow_id', '=', workflowId).where('conversation_id', 'is', null);
    if (!all) q = q.where('created_by_id', '=', user.id);
    const ids = (await q.execute()).map((r) => r.id);
    for (const id of ids) await this.runs.abort(id);
    if (ids.length) await this.deleteExecutions(this.db.selectFrom('workflow_executions').select('id').where('id', 'in', ids));
  }

  private async deleteExecutions(ids: { execute(): Promise<Array<{ id: string }>> }): Promise<void> {
    const list = (await ids.execute()).map((r) => r.id);
    if (!list.length) return;
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('workflow_thoughts').where('execution_id', 'in', list).execute();
      await trx.deleteFrom('workflow_execution_states').where('execution_id', 'in', list).execute();
      await trx.deleteFrom('workflow_executions').where('id', 'in', list).execute();
    });
  }

  /** The project of a workflow (undefined when there is none): triggers check their target with it. */
  async projectOf(id: string): Promise<string | undefined> {
    return (await this.db.selectFrom('workflows').select('project').where('id', '=', id).executeTakeFirst())?.project;
  }

  /** Workflows per project (the projects domain's counters and its delete guard). */
  async countByProject(projects: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!projects.length) return out;
    const rows = await this.db
      .selectFrom('workflows')
      .select((eb) => ['project', eb.fn.countAll<number>().as('n')])
      .where('project', 'in', projects)
      .groupBy('project')
      .execute();
    for (const r of rows) out.set(r.project, Number(r.n));
    return out;
  }
}

/** MCP servers of the document that carry literal credentials (env values, headers), as the reference's collector reports them. */
function inlineCredentials(cfg: WorkflowYaml): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const servers = [
    ...cfg.assistants.flatMap((a) => (a.mcp_servers ?? []).map((m) => ({ m, owner: a.name ?? a.id }))),
    ...cfg.tools.flatMap((t) => (t.mcp_server ? [{ m: t.mcp_server, owner: t.id }] : [])),
  ];
  for (const { m, owner } of servers) {
    const c = (m as { config?: { env?: Record<string, unknown>; headers?: Record<string, unknown> } | null }).config;
    const env = Object.keys(c?.env ?? {});
    const headers = Object.keys(c?.headers ?? {});
    if (!env.length && !headers.length) continue;
    out.push({
      toolkit: null,
      tool: null,
      label: null,
      mcp_server: (m as { name?: string }).name ?? null,
      integration_alias: null,
      credential_type: 'mcp_server',
      env_vars: [...env, ...headers],
      sub_assistant_name: owner,
    });
  }
  return out;
}

export function stateToWire(r: StateRow): Omit<z.output<typeof stateSchema>, 'thoughts'> {
  return {
    id: r.id,
    date: r.date,
    update_date: r.update_date,
    execution_id: r.execution_id,
    name: r.name,
    state_id: r.name,
    task: r.task,
    status: r.status,
    error: r.error,
    started_at: r.started_at,
    completed_at: r.completed_at,
    preceding_state_ids: fromJson(r.preceding_state_ids, []),
    iteration_number: r.iteration_number,
    history_index: r.step,
  };
}
