/** Queries over the workflows domain's tables (used only by this domain). */
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../store/schema.js';
import type { WorkflowExecutionStatesTable, WorkflowExecutionsTable, WorkflowsTable } from './tables.js';
import type { ThoughtRecord } from './model.js';

export type WorkflowRow = Selectable<WorkflowsTable>;
export type ExecutionRow = Selectable<WorkflowExecutionsTable>;
export type StateRow = Selectable<WorkflowExecutionStatesTable>;

export const nowIso = () => new Date().toISOString();

export class WorkflowStore {
  constructor(readonly db: Kysely<Database>) {}

  getWorkflow(id: string): Promise<WorkflowRow | undefined> {
    return this.db.selectFrom('workflows').selectAll().where('id', '=', id).executeTakeFirst();
  }

  getExecution(id: string): Promise<ExecutionRow | undefined> {
    return this.db.selectFrom('workflow_executions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  statesOfStep(executionId: string, step: number): Promise<StateRow[]> {
    return this.db.selectFrom('workflow_execution_states').selectAll().where('execution_id', '=', executionId).where('step', '=', step).execute();
  }

  async insertState(row: StateRow): Promise<void> {
    await this.db.insertInto('workflow_execution_states').values(row).execute();
  }

  async restartState(id: string, fields: Partial<StateRow>): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('workflow_thoughts').where('execution_state_id', '=', id).execute();
      await trx.updateTable('workflow_execution_states').set(fields).where('id', '=', id).execute();
    });
  }

  async updateState(id: string, fields: Partial<StateRow>): Promise<void> {
    await this.db.updateTable('workflow_execution_states').set(fields).where('id', '=', id).execute();
  }

  /** Marks a state finished together with its thoughts, once: only a row still In Progress changes. */
  async finishState(executionId: string, id: string, fields: Partial<StateRow>, thoughts: ThoughtRecord[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('workflow_execution_states')
        .set(fields)
        .where('id', '=', id)
        .where('status', '=', 'In Progress')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      if (thoughts.length) {
        const date = fields.completed_at ?? nowIso();
        await trx
          .insertInto('workflow_thoughts')
          .values(
            thoughts.map((t) => ({
              id: t.id,
              execution_id: executionId,
              execution_state_id: id,
              parent_id: t.parent_id,
              author_name: t.author_name,
              author_type: t.author_type,
              input_text: t.input_text,
              content: t.content,
              error: t.error ? 1 : 0,
              date,
            })),
          )
          .execute();
      }
      return true;
    });
  }

  /** Updates an execution only while it has the expected status (an abort from the API wins). */
  async updateExecution(id: string, fields: Partial<ExecutionRow>, whenStatus?: string): Promise<boolean> {
    let q = this.db.updateTable('workflow_executions').set({ ...fields, update_date: nowIso() }).where('id', '=', id);
    if (whenStatus) q = q.where('overall_status', '=', whenStatus);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async markRunningStates(executionId: string, status: string, error: string | null): Promise<void> {
    await this.db
      .updateTable('workflow_execution_states')
      .set({ status, error, completed_at: nowIso(), update_date: nowIso() })
      .where('execution_id', '=', executionId)
      .where('status', 'in', ['In Progress', 'Interrupted'])
      .execute();
  }
}
