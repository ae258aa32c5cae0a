/**
 * Assistant calls with `background_task: true` run through the run queue. The task row holds
 * what is needed to (re)run the call; propagated header values travel only in the queue job
 * (never stored), so a task re-run after a restart runs without them.
 */
import type { AuthUser } from '../api/auth.js';
import type { AppContext } from '../context.js';
import type { ConversationService } from '../conversations/service.js';
import type { TaskService } from '../tasks/service.js';
import type { AssistantService } from './service.js';
import type { ChatBody } from './schemas.js';
import { prepareCall, runCall } from './call.js';

export const ASSISTANT_TASK = 'assistant-task';

export interface AssistantTaskPayload {
  assistantId: string;
  body: ChatBody;
  user: AuthUser;
}

export function registerAssistantTasks(ctx: AppContext, assistants: AssistantService, conversations: ConversationService, tasks: TaskService): void {
  ctx.runs.register<{ propagatedHeaders?: Record<string, string> | null }>(
    ASSISTANT_TASK,
    async (job, signal) => {
      const row = await tasks.row(job.runId);
      if (!row || row.status !== 'STARTED') return; // finished elsewhere, or deleted
      const { assistantId, body, user } = tasks.payload<AssistantTaskPayload>(row);
      try {
        const assistant = await assistants.getReadable(assistantId, user);
        const prepared = await prepareCall(ctx, conversations, assistant, { ...body, stream: false, background_task: false }, user, job.data?.propagatedHeaders ?? null);
        const r = await runCall(ctx, conversations, prepared, signal);
        if (signal.aborted && signal.reason === 'shutdown') return; // stays STARTED: re-run on next start
        const output = typeof r.generated === 'string' ? r.generated : JSON.stringify(r.generated);
        await tasks.finish(row.id, r.success ? 'COMPLETED' : 'FAILED', r.success ? output : `${r.errorCode}: ${r.errorMessage}`);
        ctx.metrics.runs.inc({ kind: ASSISTANT_TASK, status: r.success ? 'COMPLETED' : 'FAILED' });
      } catch (err) {
        await tasks.finish(row.id, 'FAILED', (err as Error).message || 'The task failed');
        ctx.metrics.runs.inc({ kind: ASSISTANT_TASK, status: 'FAILED' });
      }
    },
    async (job, reason) => {
      await tasks.finish(job.runId, 'FAILED', `The task could not be completed: ${reason}`);
    },
  );
}

/** On start-up: tasks left STARTED by a stop or crash are run again (never left hanging). */
export async function recoverAssistantTasks(ctx: AppContext, tasks: TaskService): Promise<void> {
  const stuck = await tasks.started(ASSISTANT_TASK);
  for (const t of stuck) {
    try {
      await ctx.runs.enqueue(ASSISTANT_TASK, t.id, { propagatedHeaders: null });
    } catch (err) {
      await tasks.finish(t.id, 'FAILED', `The task was interrupted by a restart and could not be resumed: ${(err as Error).message}`);
    }
  }
  if (stuck.length) ctx.log.info({ count: stuck.length }, 'background tasks resumed after restart');
}
