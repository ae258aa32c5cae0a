/**
 * The event that ends a run segment, rebuilt from the database. The engine writes a run's end
 * before publishing it, so a worker that dies between the two leaves a finished run whose stream
 * never ends: the API's stream loop and the worker that takes the run over use this to send the
 * end themselves (streams keep only the first end they see).
 */
import { fromJson } from '../store/json.js';
import type { RunEvent } from '../turn/events.js';
import { interruptedState, STATUS, type Checkpoint } from './model.js';
import type { ExecutionRow, WorkflowStore } from './store.js';

/** The end (or interrupt) event of segment `seq` of an execution, or null while that segment still runs. */
export async function segmentFinalEvent(store: WorkflowStore, executionId: string, seq: number, exec?: ExecutionRow | null): Promise<RunEvent | null> {
  const row = exec === undefined ? await store.getExecution(executionId) : exec;
  if (!row)
    return {
      type: 'end',
      output: 'The workflow execution no longer exists',
      timeElapsed: null,
      error: { code: 'workflow_error', message: 'The workflow execution no longer exists' },
    };
  if (row.run_seq === seq && row.overall_status === STATUS.inProgress) return null;
  const timeElapsed = Math.max(0, (Date.parse(row.update_date) - Date.parse(row.date)) / 1000);
  // A later segment exists: this one ended in an interrupt that was then resumed.
  if (row.run_seq !== seq) return { type: 'end', output: null, timeElapsed, error: null };
  switch (row.overall_status) {
    case STATUS.succeeded:
      return { type: 'end', output: row.output, timeElapsed, error: null };
    case STATUS.aborted:
      return {
        type: 'end',
        output: 'Workflow execution has been aborted',
        timeElapsed,
        error: { code: 'aborted', message: 'Workflow execution has been aborted' },
      };
    case STATUS.interrupted: {
      const cp = fromJson<Checkpoint | null>(row.checkpoint, null);
      const rows = cp ? (await store.statesOfStep(executionId, cp.step)).filter((r) => r.status === STATUS.interrupted) : [];
      const order = new Map((cp?.frontier ?? []).map((t, i) => [t.key, i]));
      rows.sort((a, b) => (order.get(a.task_key) ?? 0) - (order.get(b.task_key) ?? 0));
      const last = rows.at(-1);
      const first = cp?.frontier.find((t) => t.key === rows[0]?.task_key);
      return { type: 'interrupt', timeElapsed, state: last ? interruptedState(last.id, last.name, last.task) : null, input: first?.input ?? null };
    }
    default:
      return { type: 'end', output: row.output, timeElapsed, error: { code: 'workflow_error', message: row.output ?? 'Failed' } };
  }
}
