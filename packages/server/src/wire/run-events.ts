/**
 * Run events (turn/events.ts) in the reference's wire shapes: the stream chunks of assistant calls
 * and workflow executions, and the thoughts an assistant call returns and stores. The only place
 * where those shapes are made from what runs.
 */
import type { RunEvent, StateRef, ThoughtRef } from '../turn/events.js';
import { chunk, type StreamChunk } from './chunk.js';
import { type Thought } from './thought.js';

const AUTHOR_TYPE: Record<ThoughtRef['kind'], Thought['author_type']> = { answer: 'Tool', agent: 'Agent', tool: 'Tool', system: 'System' };

export function thoughtOf(ref: ThoughtRef, p: { inProgress: boolean; message: string; error?: boolean; interrupted?: boolean }): Thought {
  return {
    id: ref.id,
    parent_id: ref.parentId,
    metadata: ref.metadata ?? {},
    in_progress: p.inProgress,
    input_text: ref.input,
    message: p.message,
    author_type: AUTHOR_TYPE[ref.kind],
    author_name: ref.author,
    output_format: 'text',
    error: p.error ?? false,
    interrupted: p.interrupted ?? false,
    aborted: false,
    children: [],
  };
}

/** A thought event as the thought the reference streams (null for other events). */
function streamedThought(ev: RunEvent): Thought | null {
  switch (ev.type) {
    case 'text-delta':
      return thoughtOf(ev.thought, { inProgress: true, message: ev.text });
    case 'thought-start':
      return thoughtOf(ev.thought, { inProgress: true, message: '' });
    case 'thought-end':
      // An agent's closing thought carries no text (its output streamed as deltas); tools and notices theirs.
      return thoughtOf(ev.thought, { inProgress: false, message: ev.thought.kind === 'agent' ? '' : ev.output, error: ev.error });
    default:
      return null;
  }
}

export interface AssistantEnd {
  generated: unknown;
  timeElapsed: number;
  success: boolean;
  errorCode: string | null;
  errorMessage: string | null;
}

/** The chunk of an assistant call's stream for `ev` (null: nothing to send). */
export function assistantChunk(ev: RunEvent): StreamChunk | null {
  if (ev.type === 'text-delta' && ev.thought.kind === 'answer') return chunk({ generated_chunk: ev.text, thought: streamedThought(ev) });
  const t = streamedThought(ev);
  return t ? chunk({ thought: t }) : null;
}

/** The last chunk of an assistant call's stream. */
export function assistantLastChunk(end: AssistantEnd): StreamChunk {
  return chunk({
    generated: typeof end.generated === 'string' ? end.generated : JSON.stringify(end.generated),
    generated_chunk: '',
    time_elapsed: end.timeElapsed,
    last: true,
    debug: {},
    success: end.success,
    execution_error: end.success ? null : end.errorCode,
    agent_error: end.success ? null : { error_code: end.errorCode, message: end.errorMessage, details: null, stacktrace: null },
  });
}

/**
 * The thoughts an assistant call returns and stores: notices and finished tool calls in the order
 * they ended, then the answer (added by the caller with its final text). What happened inside an
 * agent thought (a sub-assistant's tool calls) is nested in its `children`.
 */
export class ThoughtCollector {
  readonly thoughts: Thought[] = [];
  private readonly open = new Set<string>();
  private readonly children = new Map<string, Thought[]>();

  add(ev: RunEvent): void {
    if (ev.type === 'thought-start' && ev.thought.kind === 'agent') this.open.add(ev.thought.id);
    if (ev.type !== 'thought-end') return;
    const t = thoughtOf(ev.thought, { inProgress: false, message: ev.output, error: ev.error });
    const kids = this.children.get(t.id);
    if (kids) {
      t.children = kids;
      this.children.delete(t.id);
    }
    this.open.delete(t.id);
    const parent = ev.thought.parentId;
    if (parent && this.open.has(parent)) {
      const list = this.children.get(parent) ?? [];
      list.push(t);
      this.children.set(parent, list);
    } else this.thoughts.push(t);
  }
}

/** `workflow_state` of a workflow chunk. */
export function workflowStateOf(s: StateRef, eventType: 'state_start' | 'state_finish' | 'state_interrupted') {
  return { id: s.rowId, name: s.stateId, task: s.task, status: s.status, event_type: eventType, started_at: s.startedAt, completed_at: s.completedAt };
}

/** The chunk of a workflow execution's stream for `ev`. */
export function workflowChunk(executionId: string, ev: RunEvent): StreamChunk {
  const base = { workflow_execution_id: executionId };
  switch (ev.type) {
    case 'text-delta':
    case 'thought-start':
    case 'thought-end':
      return chunk({ ...base, thought: streamedThought(ev), ...(ev.stateRowId ? { context: { execution_state_id: ev.stateRowId } } : {}) });
    case 'state-start':
      return chunk({ ...base, workflow_state: workflowStateOf(ev.state, 'state_start') });
    case 'state-finish':
      return chunk({ ...base, workflow_state: workflowStateOf(ev.state, 'state_finish') });
    case 'interrupt':
      return chunk({
        ...base,
        time_elapsed: ev.timeElapsed,
        generated_chunk: '',
        last: true,
        workflow_state: ev.state ? workflowStateOf(ev.state, 'state_interrupted') : null,
        generated: ev.input,
      });
    case 'end':
      return chunk({ ...base, time_elapsed: ev.timeElapsed, generated_chunk: '', last: true, generated: ev.output, execution_error: ev.error?.code ?? null });
  }
}
