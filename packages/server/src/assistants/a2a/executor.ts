/**
 * The A2A agent executor of an assistant: a message (with the task's earlier messages as history)
 * becomes one call of the assistant; its answer is the task's artifact and the final status
 * message. Failures end the task `failed` with "Error: <reason>".
 */
import { randomUUID } from 'node:crypto';
import { Role, TaskState, type Message, type Part, type Task } from '@a2a-js/sdk';
import { AgentEvent, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import type { AuthUser } from '../../api/auth.js';
import type { AssistantRecord } from '../repo.js';
import { assistantOf, callerOf, contextHistoryOf } from './user.js';

export interface HistoryItem {
  role: 'User' | 'Assistant';
  message: string;
}

/** Runs the assistant for one A2A message. */
export type A2aRunner = (assistant: AssistantRecord, user: AuthUser, text: string, history: HistoryItem[], signal: AbortSignal) => Promise<{ ok: boolean; text: string }>;

/** The text of a message: text parts joined; files and data as short markers (as the reference does). */
export function textOfParts(parts: Part[]): string {
  return parts
    .map((p) => {
      const c = p.content;
      if (!c) return '';
      if (c.$case === 'text') return c.value;
      if (c.$case === 'data') return '[Data object]';
      return `[File: ${p.filename || 'file'}]`;
    })
    .filter(Boolean)
    .join('\n');
}

const textPart = (value: string): Part => ({ content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' });

export class AssistantExecutor implements AgentExecutor {
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly run: A2aRunner) {}

  async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const user = callerOf(ctx.context);
    const { taskId, contextId } = ctx;
    const now = () => new Date().toISOString();
    const incoming = ctx.userMessage;
    const task: Task =
      ctx.task ??
      ({ id: taskId, contextId, status: { state: TaskState.TASK_STATE_SUBMITTED, timestamp: now(), message: undefined }, artifacts: [], history: [incoming], metadata: {} } as Task);
    bus.publish(AgentEvent.task(task));
    bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: { state: TaskState.TASK_STATE_WORKING, timestamp: now(), message: undefined }, metadata: {} }));
    // The task's earlier messages; for a new task in a known context, the context's earlier tasks.
    const fromContext = ctx.task ? [] : ((await contextHistoryOf(ctx.context)?.(contextId, taskId)) ?? []);
    const earlier = [...fromContext, ...(ctx.task?.history ?? [])].filter((m) => m.messageId !== incoming.messageId);
    const history: HistoryItem[] = earlier.map((m) => ({ role: m.role === Role.ROLE_AGENT ? 'Assistant' : 'User', message: textOfParts(m.parts) }));
    const controller = new AbortController();
    this.running.set(taskId, controller);
    let r: { ok: boolean; text: string };
    try {
      r = await this.run(assistantOf(ctx.context), user, textOfParts(incoming.parts), history, controller.signal);
    } catch (err) {
      r = { ok: false, text: err instanceof Error ? err.message : String(err) };
    } finally {
      this.running.delete(taskId);
    }
    if (controller.signal.aborted) {
      bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: { state: TaskState.TASK_STATE_CANCELED, timestamp: now(), message: undefined }, metadata: {} }));
      return;
    }
    const reply: Message = {
      messageId: randomUUID(),
      contextId,
      taskId,
      role: Role.ROLE_AGENT,
      parts: [textPart(r.ok ? r.text : `Error: ${r.text}`)],
      metadata: undefined,
      extensions: [],
      referenceTaskIds: [],
    };
    if (r.ok) {
      bus.publish(
        AgentEvent.artifactUpdate({
          taskId,
          contextId,
          artifact: { artifactId: randomUUID(), name: 'answer', description: 'The assistant\'s answer', parts: [textPart(r.text)], metadata: undefined, extensions: [] },
          append: false,
          lastChunk: true,
          metadata: undefined,
        }),
      );
    }
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId,
        status: { state: r.ok ? TaskState.TASK_STATE_COMPLETED : TaskState.TASK_STATE_FAILED, timestamp: now(), message: reply },
        metadata: {},
      }),
    );
  }

  cancelTask = async (taskId: string): Promise<void> => {
    this.running.get(taskId)?.abort('canceled');
  };
}
