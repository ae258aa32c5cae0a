/**
 * Assistant calls with `background_task: true`: a task row (tasks/) plus a run on the run queue.
 * A run persists nothing until it ends, so re-running a STARTED task after a restart is safe;
 * recovery re-enqueues STARTED tasks and fails those that cannot run again (never stuck).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { AuthUser } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import { abortReason, type RunJob, type RunQueue } from '../runs/queue.js';
import type { TaskService } from '../tasks/service.js';
import type { AssistantCalls, PreparedCall } from './call.js';
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

export interface BackgroundDeps {
  assistants: AssistantService;
  calls: AssistantCalls;
  tasks: TaskService;
  runs: RunQueue;
  log: FastifyBaseLogger;
}

/** The answer to a call that went to the background: its task id (the caller took the fair-use slot for `taskId`). */
export async function startBackgroundTask(deps: BackgroundDeps, p: PreparedCall, taskId: string) {
  const payload: AssistantTaskPayload = {
    assistantId: p.assistant.id,
    body: { ...p.body, stream: false, background_task: false },
    user: { ...p.user, token: undefined },
    conversationId: p.conversationId,
    propagatedHeaders: p.propagatedHeaders,
    attempts: 0,
  };
  const task = await deps.tasks.create(ASSISTANT_TASK_KIND, p.user, p.body.text ?? '', payload, taskId);
  await deps.runs.enqueue(ASSISTANT_TASK_KIND, task.id, null);
  return {
    generated: 'Task is running in the background',
    timeElapsed: 0,
    tokensUsed: null,
    usage: null,
    thoughts: [],
    taskId: task.id,
    success: true,
    agentError: null,
    toolErrors: null,
    interactiveRequest: null,
  };
}

export function registerAssistantTasks(deps: BackgroundDeps): void {
  deps.runs.register(
    ASSISTANT_TASK_KIND,
    (job, signal) => runAssistantTask(deps, job, signal),
    // The run failed outside the call itself (the store, say) and will not be tried again: fail the task.
    (job, reason) => deps.tasks.finish(job.runId, 'FAILED', `The task could not be completed: ${reason}`, 'Failed'),
  );
}

async function runAssistantTask(deps: BackgroundDeps, job: RunJob, signal: AbortSignal): Promise<void> {
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
    const prepared = await deps.calls.prepare(assistant, body, payload.user, payload.propagatedHeaders, row.id);
    // A shutdown leaves the task STARTED (recovery runs it again), and its partial turn unsaved.
    const r = await deps.calls.complete(prepared, signal, { saveWhen: () => abortReason(signal) !== 'shutdown' });
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
    const reason =
      err instanceof ApiError
        ? `${err.message}: ${typeof err.details === 'string' ? err.details : JSON.stringify(err.details)}`
        : 'Internal error while running the task.';
    if (!(err instanceof ApiError)) deps.log.error({ err, taskId: row.id }, 'background task failed');
    await tasks.finish(row.id, 'FAILED', reason, 'Failed');
  }
}

/** On start-up: STARTED tasks run again, or fail with a reason when they cannot. */
export async function recoverAssistantTasks(deps: BackgroundDeps): Promise<void> {
  for (const row of await deps.tasks.started(ASSISTANT_TASK_KIND)) {
    const payload = deps.tasks.payload<AssistantTaskPayload>(row);
    if (!payload) {
      await deps.tasks.finish(row.id, 'FAILED', 'Interrupted by a server restart; its request was not stored, so it cannot be run again.', 'Failed');
    } else if (payload.attempts >= MAX_TASK_ATTEMPTS) {
      await deps.tasks.finish(row.id, 'FAILED', `Interrupted by server restarts ${payload.attempts} times; not started again.`, 'Failed');
    } else {
      deps.log.info({ taskId: row.id }, 'resuming background task after restart');
      await deps.runs.enqueue(ASSISTANT_TASK_KIND, row.id, null);
    }
  }
}
