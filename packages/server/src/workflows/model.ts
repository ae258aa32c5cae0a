/** Engine data: statuses, the persisted checkpoint, tasks, a state's result, stream chunks. */
import type { ChatMessage, TokenUsage } from '../llm/types.js';
import type { RunEvent, StateRef } from '../turn/events.js';

export const STATUS = {
  inProgress: 'In Progress',
  notStarted: 'Not Started',
  interrupted: 'Interrupted',
  failed: 'Failed',
  succeeded: 'Succeeded',
  aborted: 'Aborted',
} as const;
export type Status = (typeof STATUS)[keyof typeof STATUS];

/** One unit of work in a superstep: run state `stateId` with `input`. */
export interface Task {
  key: string;
  stateId: string;
  /** The predecessor output(s) handed to this state. */
  input: string;
  /** Set for a map (iter_key) task: the item and its index. */
  item?: unknown;
  iteration?: number;
  /** Row ids of the state executions that led here. */
  preceding: string[];
}

/** The engine's durable position: written after every superstep. */
export interface Checkpoint {
  step: number;
  /** The execution's user_input (template variable `user_input`). */
  userInput: string;
  context: Record<string, unknown>;
  history: ChatMessage[];
  frontier: Task[];
  /** Task keys whose interrupt_before was confirmed by a resume. */
  approved: string[];
  /** Output of the last state that finished the run (the execution's output). */
  lastOutput: string | null;
  /** Row ids and state ids of the previous superstep (the interrupted predecessors for PUT …/output). */
  lastRows: Array<{ rowId: string; stateId: string; outputKey?: string }>;
}

export function initialCheckpoint(firstState: string, userInput: string, context: Record<string, unknown>): Checkpoint {
  return {
    step: 0,
    userInput,
    context,
    history: userInput ? [{ role: 'user', content: userInput }] : [],
    frontier: [{ key: '0:0', stateId: firstState, input: userInput, preceding: [] }],
    approved: [],
    lastOutput: null,
    lastRows: [],
  };
}

/** What a finished state contributes; stored on its row so recovery replays it instead of re-running. */
export interface StateResult {
  output: string;
  /** Targets chosen by this state's `next` ('end' included). */
  next: string[];
  /** Items for an iter_key fan-out (next has exactly one target). */
  iterItems?: unknown[];
  /** Multi-stage map: this map item continues to the next state with the same iter_key. */
  continueIteration?: boolean;
  usage: TokenUsage;
}

export const zeroUsage = (): TokenUsage => ({ input_tokens: 0, output_tokens: 0, cached_tokens: 0, money_spent: 0 });

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    cached_tokens: a.cached_tokens + b.cached_tokens,
    money_spent: a.money_spent + b.money_spent,
  };
}

/** The state a run stopped before, as its interrupt event names it (engine and DB-rebuilt alike). */
export function interruptedState(rowId: string, stateId: string, task: string): StateRef {
  return { rowId, stateId, task, status: STATUS.interrupted, startedAt: null, completedAt: null };
}

export interface ThoughtRecord {
  id: string;
  parent_id: string | null;
  author_name: string;
  author_type: string;
  input_text: string;
  content: string;
  error: boolean;
}

/** Envelope on the event bus: `seq` = the run segment (start or resume) it belongs to. */
export interface BusEnvelope {
  seq: number;
  event: RunEvent;
}

export const channelOf = (executionId: string) => `execution:${executionId}`;
