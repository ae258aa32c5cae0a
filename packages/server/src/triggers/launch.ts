/**
 * What a webhook or a schedule starts: a workflow execution or an assistant background task, run as
 * the integration's owner. The owner is read again at firing time (a deactivated user's triggers
 * stop; current roles and memberships apply); users this server does not store (tokens of an
 * external issuer never seen, test identities) run with the snapshot taken when they saved it.
 *
 * Runs say who and what started them: the owner is the run's creator, and the run is tagged
 * `webhook:<alias>` or `schedule:<alias>` (workflow executions' `tags`; an assistant task's record
 * in `webhook_invocations` / `schedule_ticks` names the task).
 */
import type { AuthUser } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import { chatBody } from '../assistants/schemas.js';
import type { AssistantsServices } from './deps.js';
import { startBackgroundTask } from '../assistants/background.js';
import type { FairUse } from '../limits/fair-use.js';
import type { IdentityRepo } from '../identity/repo.js';
import { EXTERNAL_REALM } from '../identity/repo.js';
import type { Integration } from '../integrations/service.js';
import { newRowId } from '../store/ids.js';
import type { TaskService } from '../tasks/service.js';
import type { WorkflowService } from '../workflows/service.js';
import type { RunQueue } from '../runs/queue.js';
import type { FastifyBaseLogger } from 'fastify';

export type ResourceType = 'workflow' | 'assistant' | 'datasource';

export interface TriggerOrigin {
  kind: 'webhook' | 'schedule';
  integration: Integration;
}

export interface Launched {
  runId: string;
  resourceType: ResourceType;
  resourceId: string;
}

export interface LauncherDeps {
  workflows: WorkflowService;
  assistants: AssistantsServices;
  tasks: TaskService;
  runs: RunQueue;
  fairUse: FairUse;
  identity: IdentityRepo;
  adminRole: string;
  auditorRole: string;
  log: FastifyBaseLogger;
}

export class TargetNotFound extends ApiError {}

export class Launcher {
  constructor(private readonly deps: LauncherDeps) {}

  /** The owner as they are now (throws 403 when deactivated). */
  async owner(i: Integration): Promise<AuthUser> {
    const snap = i.owner;
    const row = await this.deps.identity.userById(snap.id);
    if (!row) return { ...snap };
    if (!row.enabled || row.deactivatedAt) throw new ApiError(403, 'Access denied', `The owner of integration '${i.alias}' is deactivated.`);
    if (row.realm === EXTERNAL_REALM) {
      return {
        ...snap,
        projects: [...new Set([...snap.projects, ...row.projects])],
        adminProjects: [...new Set([...snap.adminProjects, ...row.adminProjects])],
      };
    }
    const isAdmin = row.roles.includes(this.deps.adminRole);
    return {
      id: row.id,
      username: row.username,
      name: row.name,
      email: row.email,
      roles: row.roles,
      projects: row.projects,
      adminProjects: row.adminProjects,
      isAdmin,
      isMaintainer: isAdmin,
      isAuditor: row.roles.includes(this.deps.auditorRole),
      userType: row.userType,
    };
  }

  /** Whether the target exists in the project (validation of a save). */
  async belongs(type: string, id: string, project: string): Promise<boolean> {
    if (type === 'workflow') return (await this.deps.workflows.projectOf(id)) === project;
    if (type === 'assistant') return (await this.deps.assistants.assistants.repo.get(id))?.project === project;
    return false;
  }

  async launch(type: string, id: string, input: string, origin: TriggerOrigin): Promise<Launched> {
    const owner = await this.owner(origin.integration);
    const tag = `${origin.kind}:${origin.integration.alias}`.slice(0, 200);
    if (type === 'workflow') {
      const row = await this.deps.workflows.startExecution(owner, id, { user_input: input, tags: [tag], propagatedHeaders: null }, (project, runId) =>
        this.deps.fairUse.admitRun(owner, project, runId),
      );
      await this.deps.workflows.enqueue(row.id);
      return { runId: row.id, resourceType: 'workflow', resourceId: id };
    }
    if (type === 'assistant') {
      const { assistants, calls } = this.deps.assistants;
      const record = await assistants.repo.get(id);
      if (!record || (record.created_by.id !== owner.id && !record.shared && !record.is_global && !owner.isAdmin && !owner.projects.includes(record.project))) {
        throw new TargetNotFound(404, 'Assistant not found', `Assistant with id '${id}' not found`);
      }
      const body = chatBody.parse({ text: input, save_history: true });
      const prepared = await calls.prepare(record, body, owner, null);
      const taskId = newRowId();
      await this.deps.fairUse.admitRun(owner, record.project, taskId);
      await startBackgroundTask({ assistants, calls, tasks: this.deps.tasks, runs: this.deps.runs, log: this.deps.log }, prepared, taskId);
      return { runId: taskId, resourceType: 'assistant', resourceId: id };
    }
    throw new ApiError(400, `Unsupported resource type '${type}'`, `Unsupported resource type '${type}'`);
  }
}
