/**
 * A2A tasks in the database (table `a2a_tasks`), so `GetTask` works from any API process. A task
 * belongs to the user and the assistant it was created for; other callers do not see it.
 */
import { Task, type ListTasksRequest, type ListTasksResponse, type Message } from '@a2a-js/sdk';
import type { ServerCallContext, TaskStore } from '@a2a-js/sdk/server';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import { fromJson, toJson } from '../../store/json.js';
import { callerOf } from './user.js';

export class DbTaskStore implements TaskStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly assistantId: string,
  ) {}

  async save(task: Task, context: ServerCallContext): Promise<void> {
    const user = callerOf(context);
    const now = new Date().toISOString();
    const data = toJson(Task.toJSON(task));
    const state = String(task.status?.state ?? 0);
    await this.db
      .insertInto('a2a_tasks')
      .values({ id: task.id, assistant_id: this.assistantId, user_id: user.id, context_id: task.contextId || null, state, data, date: now, update_date: now })
      .onConflict((oc) => oc.column('id').doUpdateSet({ data, state, update_date: now }).where('a2a_tasks.user_id', '=', user.id))
      .execute();
  }

  async load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    const row = await this.db
      .selectFrom('a2a_tasks')
      .select(['data', 'state'])
      .where('id', '=', taskId)
      .where('user_id', '=', callerOf(context).id)
      .where('assistant_id', '=', this.assistantId)
      .executeTakeFirst();
    if (!row || row.state === 'legacy') return undefined;
    return Task.fromJSON(fromJson(row.data, {}));
  }

  /** The messages of the caller's earlier tasks in a context (oldest first), each task's history then its final message. */
  async contextHistory(contextId: string, exceptTaskId: string, context: ServerCallContext): Promise<Message[]> {
    if (!contextId) return [];
    const rows = await this.db
      .selectFrom('a2a_tasks')
      .select(['id', 'data'])
      .where('user_id', '=', callerOf(context).id)
      .where('assistant_id', '=', this.assistantId)
      .where('context_id', '=', contextId)
      .where('state', '!=', 'legacy')
      .orderBy('date')
      .execute();
    return rows
      .filter((r) => r.id !== exceptTaskId)
      .flatMap((r) => {
        const t = Task.fromJSON(fromJson(r.data, {}));
        const final = t.status?.message;
        return [...t.history.filter((m) => !final || m.messageId !== final.messageId), ...(final ? [final] : [])];
      });
  }

  async list(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    const pageSize = Math.min(Math.max(params.pageSize || 50, 1), 100);
    const offset = Number(params.pageToken || 0) || 0;
    let q = this.db
      .selectFrom('a2a_tasks')
      .select(['data'])
      .where('user_id', '=', callerOf(context).id)
      .where('assistant_id', '=', this.assistantId)
      .where('state', '!=', 'legacy');
    if (params.contextId) q = q.where('context_id', '=', params.contextId);
    const rows = await q.orderBy('update_date', 'desc').orderBy('id').limit(pageSize + 1).offset(offset).execute();
    const tasks = rows.slice(0, pageSize).map((r) => Task.fromJSON(fromJson(r.data, {})));
    return {
      tasks,
      nextPageToken: rows.length > pageSize ? String(offset + pageSize) : '',
      pageSize,
      totalSize: tasks.length,
    } as unknown as ListTasksResponse;
  }
}
