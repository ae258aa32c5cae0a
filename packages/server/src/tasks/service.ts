/** Background tasks (reference §7.4): STARTED → COMPLETED | FAILED, readable by their owner. */
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import { forbidden, notFound } from '../api/errors.js';
import type { Database } from '../store/schema.js';
import type { BackgroundTasksTable } from './tables.js';
import { fromJson, toJson } from '../store/json.js';

export type TaskRow = Selectable<BackgroundTasksTable>;
export type TaskStatus = 'STARTED' | 'COMPLETED' | 'FAILED';

export class TaskService {
  constructor(private readonly db: Kysely<Database>) {}

  async create(kind: string, user: AuthUser, task: string, payload: unknown): Promise<TaskRow> {
    const now = new Date().toISOString();
    const row: TaskRow = {
      id: randomUUID(),
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

  async row(id: string): Promise<TaskRow | undefined> {
    return this.db.selectFrom('background_tasks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  payload<T>(row: TaskRow): T {
    return fromJson<T>(row.payload, {} as T);
  }

  async finish(id: string, status: Exclude<TaskStatus, 'STARTED'>, finalOutput: string, step?: string): Promise<void> {
    await this.db
      .updateTable('background_tasks')
      .set({ status, final_output: finalOutput, current_step: step ?? null, update_date: new Date().toISOString() })
      .where('id', '=', id)
      .where('status', '=', 'STARTED')
      .execute();
  }

  async started(kind: string): Promise<TaskRow[]> {
    return this.db.selectFrom('background_tasks').selectAll().where('kind', '=', kind).where('status', '=', 'STARTED').execute();
  }

  async get(id: string, user: AuthUser) {
    const t = await this.row(id);
    if (!t) throw notFound('Task', id, `The task with ID [${id}] could not be found in the system.`);
    if (t.user_id !== user.id && !user.isAdmin) throw forbidden('You do not have the necessary permissions to view this entity.');
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
}
