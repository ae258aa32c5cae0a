/** Queries over the workflows domain's tables (used only by this domain). */
import type { Kysely, QueryCreator, Selectable } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Dialect } from '../store/db.js';
import type { WorkflowExecutionStatesTable, WorkflowExecutionsTable, WorkflowsTable } from './tables.js';
import type { ThoughtRecord } from './model.js';

export type WorkflowRow = Selectable<WorkflowsTable>;
export type ExecutionRow = Selectable<WorkflowExecutionsTable>;
export type StateRow = Selectable<WorkflowExecutionStatesTable>;

export const nowIso = () => new Date().toISOString();

/** What finishing a state found: whether this call finished it, and the execution's status at that moment. */
export interface FinishOutcome {
  finished: boolean;
  /** The execution's overall_status, read in the same statement (null when the state was not finished). */
  executionStatus: string | null;
}

export class WorkflowStore {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect = 'sqlite',
  ) {}

  getWorkflow(id: string): Promise<WorkflowRow | undefined> {
    return this.db.selectFrom('workflows').selectAll().where('id', '=', id).executeTakeFirst();
  }

  getExecution(id: string): Promise<ExecutionRow | undefined> {
    return this.db.selectFrom('workflow_executions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  statesOfStep(executionId: string, step: number): Promise<StateRow[]> {
    return this.db.selectFrom('workflow_execution_states').selectAll().where('execution_id', '=', executionId).where('step', '=', step).execute();
  }

  /** Rows of the steps from `step` on: on a restart or take-over, what the engine replays instead of re-running. */
  statesFromStep(executionId: string, step: number): Promise<StateRow[]> {
    return this.db.selectFrom('workflow_execution_states').selectAll().where('execution_id', '=', executionId).where('step', '>=', step).execute();
  }

  /** Inserts a state's row unless its task (execution + task_key) already has one; false then. */
  async insertStateIfAbsent(row: StateRow): Promise<boolean> {
    const r = await this.db
      .insertInto('workflow_execution_states')
      .values(row)
      .onConflict((oc) => oc.columns(['execution_id', 'task_key']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
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

  /**
   * Marks a state finished, once: only a row still In Progress changes. The same statement reads the
   * execution's status, so the engine notices an abort from the API without a query of its own.
   * Thoughts are written with it: on PostgreSQL in the same statement (a data-modifying CTE, one
   * round trip), on SQLite just before (an in-process call; a state that is re-run after a crash
   * drops its earlier thoughts, so no transaction is needed).
   */
  async finishState(executionId: string, id: string, fields: Partial<StateRow>, thoughts: ThoughtRecord[]): Promise<FinishOutcome> {
    const date = fields.completed_at ?? nowIso();
    const thoughtRows = thoughts.map((t) => ({
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
    }));
    if (thoughtRows.length && this.dialect !== 'postgres') await this.db.insertInto('workflow_thoughts').values(thoughtRows).execute();
    const update = (db: QueryCreator<Database>) =>
      db
        .updateTable('workflow_execution_states')
        .set(fields)
        .where('id', '=', id)
        .where('status', '=', 'In Progress')
        .returning((eb) =>
          eb.selectFrom('workflow_executions').select('overall_status').where('workflow_executions.id', '=', executionId).as('execution_status'),
        );
    const row =
      thoughtRows.length && this.dialect === 'postgres'
        ? await update(
            this.db.with('new_thoughts', (qc) => qc.insertInto('workflow_thoughts').values(thoughtRows)) as unknown as QueryCreator<Database>,
          ).executeTakeFirst()
        : await update(this.db).executeTakeFirst();
    return row ? { finished: true, executionStatus: row.execution_status ?? null } : { finished: false, executionStatus: null };
  }

  /** Updates an execution only while it has the expected status (an abort from the API wins). */
  async updateExecution(id: string, fields: Partial<ExecutionRow>, whenStatus?: string): Promise<boolean> {
    let q = this.db
      .updateTable('workflow_executions')
      .set({ ...fields, update_date: nowIso() })
      .where('id', '=', id);
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
