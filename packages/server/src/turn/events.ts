/**
 * What a run reports while it runs: an assistant call, or a workflow execution and its states.
 * Domain events only: the reference's wire chunks and thoughts are made from them at the edge
 * (wire/run-events.ts), for streams and stored thoughts alike.
 */

/** A thought: the answer, an agent at work, a tool call, or a notice from the platform. */
export interface ThoughtRef {
  id: string;
  parentId: string | null;
  /** Shown as the thought's author (tool or agent name). */
  author: string;
  kind: 'answer' | 'agent' | 'tool' | 'system';
  /** What the thought was given: a tool's arguments, an agent's task. */
  input: string;
  metadata?: Record<string, unknown>;
}

/** A workflow state execution (its row). */
export interface StateRef {
  rowId: string;
  stateId: string;
  task: string;
  status: string;
  startedAt: string | null;
  completedAt: string | null;
}

export interface RunFailure {
  /** Platform error code (llm_timeout, workflow_error, aborted, ...). */
  code: string;
  message: string;
}

export type RunEvent =
  /** Text produced by the thought's author (answer tokens, an agent's output). */
  | { type: 'text-delta'; thought: ThoughtRef; text: string; stateRowId?: string }
  /** A tool call or an agent began. */
  | { type: 'thought-start'; thought: ThoughtRef; stateRowId?: string }
  /** A tool call returned, an agent finished, or a notice (warnings, failures) with its message. */
  | { type: 'thought-end'; thought: ThoughtRef; output: string; error: boolean; stateRowId?: string }
  | { type: 'state-start'; state: StateRef }
  | { type: 'state-finish'; state: StateRef }
  /** The run stopped before a state that needs the user's confirmation (human in the loop). */
  | { type: 'interrupt'; state: StateRef | null; input: string | null; timeElapsed: number | null }
  /** The run (or this segment of it) ended: its output, or why it failed. */
  | { type: 'end'; output: unknown; timeElapsed: number | null; error: RunFailure | null };
