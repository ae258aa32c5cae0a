/**
 * Background tasks (reference §7.4): a row per task, status STARTED → COMPLETED | FAILED.
 * The work itself runs on ctx.runs; this is the only place that touches `background_tasks`.
 */
import type { Kysely, Selectable } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { Database } from '../store/schema.js';
import { fromJson, toJson } from '../store/json.js';
import type { BackgroundTasksTable } from './tables.js';
import { newRowId } from '../store/ids.js';

export type TaskStatus = 'STARTED' | 'COMPLETED' | 'FAILED';
export type TaskRow = Selectable<BackgroundTasksTable>;

/** Any lookup failure (unknown id, someone else's task) is the reference's 404 "Task not found". */
export const taskNotFound = (id: string) =>
  new ApiError(404, 'Task not found', `The task with ID [${id}] could not be found in the system.`, 'Please ensure the specified ID is correct');

export class TaskService {
  constructor(private readonly db: Kysely<Database>) {}

  async create(kind: string, user: AuthUser, task: string, payload: unknown, id: string = newRowId()): Promise<TaskRow> {
    const now = new Date().toISOString();
    const row: TaskRow = {
      id,
      kind,
      user_id: user.id,
      username: user.username,
      user_name: user.name,
      task,
      status: 'STARTED',
      final_output: null,
      current_step: null,
      payload: toJson(payload),
      date: now,
      update_date: now,
    };
    await this.db.insertInto('background_tasks').values(row).execute();
    return row;
  }

  async get(id: string): Promise<TaskRow | undefined> {
    return this.db.selectFrom('background_tasks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  payload<T>(row: TaskRow): T | null {
    return fromJson<T | null>(row.payload, null);
  }

  async setPayload(id: string, payload: unknown, currentStep: string | null): Promise<void> {
    await this.db
      .updateTable('background_tasks')
      .set({ payload: toJson(payload), current_step: currentStep, update_date: new Date().toISOString() })
      .where('id', '=', id)
      .execute();
  }

  async step(id: string, currentStep: string): Promise<void> {
    await this.db.updateTable('background_tasks').set({ current_step: currentStep, update_date: new Date().toISOString() }).where('id', '=', id).execute();
  }

  /** Records the outcome; only a STARTED task can finish (a finished one is never redone). */
  async finish(id: string, status: Exclude<TaskStatus, 'STARTED'>, finalOutput: string, currentStep: string | null = null): Promise<void> {
    await this.db
      .updateTable('background_tasks')
      .set({ status, final_output: finalOutput, current_step: currentStep, update_date: new Date().toISOString() })
      .where('id', '=', id)
      .where('status', '=', 'STARTED')
      .execute();
  }

  async started(kind: string): Promise<TaskRow[]> {
    return this.db.selectFrom('background_tasks').selectAll().where('kind', '=', kind).where('status', '=', 'STARTED').orderBy('date').execute();
  }

  /** The owner's view (others get the same 404 as an unknown id: a task id reveals nothing). */
  async forUser(id: string, user: AuthUser) {
    const t = await this.get(id);
    if (!t || t.user_id !== user.id) throw taskNotFound(id);
    return taskResponse(t);
  }
}

export function taskResponse(t: TaskRow) {
  return {
    id: t.id,
    task: t.task,
    user: { user_id: t.user_id, username: t.username, name: t.user_name },
    final_output: t.final_output,
    current_step: t.current_step,
    status: t.status as TaskStatus,
    date: t.date,
    update_date: t.update_date,
  };
}
