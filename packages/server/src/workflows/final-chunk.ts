/**
 * The final (`last: true`) stream chunk of a run segment, rebuilt from the database. The engine
 * writes a run's end before publishing it, so a worker that dies between the two leaves a finished
 * run whose stream never ends: the API's stream loop and the worker that takes the run over use
 * this to send the chunk themselves (streams keep only the first `last` chunk they see).
 */
import { fromJson } from '../store/json.js';
import { interruptedWorkflowState, STATUS, streamChunk, type Checkpoint } from './model.js';
import type { ExecutionRow, WorkflowStore } from './store.js';

/** The chunk ending segment `seq` of an execution, or null while that segment still runs. */
export async function segmentFinalChunk(store: WorkflowStore, executionId: string, seq: number, exec?: ExecutionRow | null): Promise<Record<string, unknown> | null> {
  const row = exec === undefined ? await store.getExecution(executionId) : exec;
  const end = (fields: Record<string, unknown>) => streamChunk(executionId, { generated_chunk: '', last: true, ...fields });
  if (!row) return end({ generated: 'The workflow execution no longer exists', execution_error: 'workflow_error' });
  if (row.run_seq === seq && row.overall_status === STATUS.inProgress) return null;
  const time_elapsed = Math.max(0, (Date.parse(row.update_date) - Date.parse(row.date)) / 1000);
  // A later segment exists: this one ended in an interrupt that was then resumed.
  if (row.run_seq !== seq) return end({ time_elapsed, generated: null });
  switch (row.overall_status) {
    case STATUS.succeeded:
      return end({ time_elapsed, generated: row.output });
    case STATUS.aborted:
      return end({ time_elapsed, generated: 'Workflow execution has been aborted', execution_error: 'aborted' });
    case STATUS.interrupted: {
      const cp = fromJson<Checkpoint | null>(row.checkpoint, null);
      const rows = cp ? (await store.statesOfStep(executionId, cp.step)).filter((r) => r.status === STATUS.interrupted) : [];
      const order = new Map((cp?.frontier ?? []).map((t, i) => [t.key, i]));
      rows.sort((a, b) => (order.get(a.task_key) ?? 0) - (order.get(b.task_key) ?? 0));
      const last = rows.at(-1);
      const first = cp?.frontier.find((t) => t.key === rows[0]?.task_key);
      return end({
        time_elapsed,
        workflow_state: last ? interruptedWorkflowState(last.id, last.name, last.task) : null,
        generated: first?.input ?? null,
      });
    }
    default:
      return end({ time_elapsed, generated: row.output, execution_error: 'workflow_error' });
  }
}
