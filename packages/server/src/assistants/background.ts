/**
 * Assistant calls with `background_task: true`: a task row (tasks/) plus a run on ctx.runs.
 * A run persists nothing until it ends, so re-running a STARTED task after a restart is safe;
 * recovery re-enqueues STARTED tasks and fails those that cannot run again (never stuck).
 */
import type { AuthUser } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { AppContext } from '../context.js';
import type { ConversationService } from '../conversations/service.js';
import { abortReason, type RunJob } from '../runs/queue.js';
import type { TaskService } from '../tasks/service.js';
import { prepareCall, runCall } from './call.js';
import type { ChatBody } from './schemas.js';
import type { AssistantService } from './service.js';

export const ASSISTANT_TASK_KIND = 'assistant-task';
/** A task interrupted by this many restarts is failed instead of started again. */
export const MAX_TASK_ATTEMPTS = 3;

export interface AssistantTaskPayload {
  assistantId: string;
  body: ChatBody;
  user: AuthUser;
  conversationId: string;
  propagatedHeaders: Record<string, string> | null;
  /** How many times a run of this task has started. */
  attempts: number;
}

interface Deps {
  assistants: AssistantService;
  conversations: ConversationService;
  tasks: TaskService;
}

export function registerAssistantTasks(ctx: AppContext, deps: Deps): void {
  ctx.runs.register(
    ASSISTANT_TASK_KIND,
    (job, signal) => runAssistantTask(ctx, deps, job, signal),
    // The run failed outside the call itself (the store, say) and will not be tried again: fail the task.
    (job, reason) => deps.tasks.finish(job.runId, 'FAILED', `The task could not be completed: ${reason}`, 'Failed'),
  );
}

async function runAssistantTask(ctx: AppContext, deps: Deps, job: RunJob, signal: AbortSignal): Promise<void> {
  const { tasks } = deps;
  const row = await tasks.get(job.runId);
  if (!row || row.status !== 'STARTED') return; // finished work is never redone
  const payload = tasks.payload<AssistantTaskPayload>(row);
  if (!payload) return tasks.finish(row.id, 'FAILED', 'The task cannot be run: its request was not stored.');
  payload.attempts += 1;
  await tasks.setPayload(row.id, payload, 'Running the assistant');
  try {
    const assistant = await deps.assistants.repo.get(payload.assistantId);
    if (!assistant) return tasks.finish(row.id, 'FAILED', `The assistant '${payload.assistantId}' no longer exists.`);
    const body: ChatBody = { ...payload.body, conversation_id: payload.conversationId };
    const prepared = await prepareCall(ctx, deps.conversations, assistant, body, payload.user, payload.propagatedHeaders, row.id);
    // A shutdown leaves the task STARTED (recovery runs it again), and its partial turn unsaved.
    const r = await runCall(ctx, deps.conversations, prepared, signal, undefined, { saveWhen: () => abortReason(signal) !== 'shutdown' });
    if (abortReason(signal) === 'shutdown') return;
    if (r.success) {
      await tasks.finish(row.id, 'COMPLETED', typeof r.generated === 'string' ? r.generated : JSON.stringify(r.generated), 'Completed');
    } else if (r.interrupted) {
      await tasks.finish(row.id, 'FAILED', 'The task was aborted.', 'Aborted');
    } else {
      await tasks.finish(row.id, 'FAILED', `${r.errorCode}: ${r.errorMessage}`, 'Failed');
    }
  } catch (err) {
    if (abortReason(signal) === 'shutdown') return;
    const reason = err instanceof ApiError ? `${err.message}: ${typeof err.details === 'string' ? err.details : JSON.stringify(err.details)}` : 'Internal error while running the task.';
    if (!(err instanceof ApiError)) ctx.log.error({ err, taskId: row.id }, 'background task failed');
    await tasks.finish(row.id, 'FAILED', reason, 'Failed');
  }
}

/** On start-up: STARTED tasks run again, or fail with a reason when they cannot. */
export async function recoverAssistantTasks(ctx: AppContext, deps: Deps): Promise<void> {
  for (const row of await deps.tasks.started(ASSISTANT_TASK_KIND)) {
    const payload = deps.tasks.payload<AssistantTaskPayload>(row);
    if (!payload) {
      await deps.tasks.finish(row.id, 'FAILED', 'Interrupted by a server restart; its request was not stored, so it cannot be run again.', 'Failed');
    } else if (payload.attempts >= MAX_TASK_ATTEMPTS) {
      await deps.tasks.finish(row.id, 'FAILED', `Interrupted by server restarts ${payload.attempts} times; not started again.`, 'Failed');
    } else {
      ctx.log.info({ taskId: row.id }, 'resuming background task after restart');
      await ctx.runs.enqueue(ASSISTANT_TASK_KIND, row.id, null);
    }
  }
}
