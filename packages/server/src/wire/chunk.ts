/** The reference's stream chunk (assistant and workflow streams alike): every key always present, snake_case. */
import { z } from 'zod';
import { thoughtSchema, type Thought } from './thought.js';

export interface StreamChunk {
  time_elapsed: number | null;
  generated_chunk: string | null;
  generated: unknown;
  thought: Thought | null;
  context: unknown;
  last: boolean;
  debug: Record<string, unknown> | null;
  workflow_execution_id: string | null;
  workflow_state: z.output<typeof workflowStateSchema> | null;
  execution_error: string | null;
  success: boolean | null;
  agent_error: unknown;
  tool_errors: unknown;
  error_details: unknown;
  interactive_request: unknown;
}

export const workflowStateSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    task: z.string(),
    status: z.string(),
    event_type: z.enum(['state_start', 'state_finish', 'state_interrupted']),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
  })
  .meta({ id: 'WorkflowStateEvent' });

export const streamChunkSchema = z
  .object({
    time_elapsed: z.number().nullable(),
    generated_chunk: z.string().nullable(),
    /** The whole answer on the last chunk (text, or the structured object). */
    generated: z.unknown(),
    /** A thought as it progresses. */
    thought: thoughtSchema.nullable(),
    context: z.unknown(),
    last: z.boolean(),
    debug: z.record(z.string(), z.unknown()).nullable(),
    workflow_execution_id: z.string().nullable(),
    /** Workflow streams: the state that started, finished or was interrupted. */
    workflow_state: workflowStateSchema.nullable(),
    execution_error: z.string().nullable(),
    success: z.boolean().nullable(),
    agent_error: z.unknown(),
    tool_errors: z.unknown(),
    error_details: z.unknown(),
    interactive_request: z.unknown(),
  })
  .meta({ id: 'StreamChunk', description: 'One chunk of an assistant or workflow stream; the last has `last: true`.' });

/** An event of a Server-Sent Events stream: its `data` is one StreamChunk as JSON. */
export const sseEventSchema = z
  .object({
    id: z.string().optional().meta({ description: 'Event id: send it back as Last-Event-ID to resume' }),
    event: z.string().optional(),
    data: z.string().meta({ description: 'A StreamChunk, as JSON', contentMediaType: 'application/json' }),
  })
  .meta({ id: 'StreamEvent' });

export function chunk(p: Partial<StreamChunk>): StreamChunk {
  return {
    time_elapsed: null,
    generated_chunk: null,
    generated: null,
    thought: null,
    context: null,
    last: false,
    debug: null,
    workflow_execution_id: null,
    workflow_state: null,
    execution_error: null,
    success: null,
    agent_error: null,
    tool_errors: null,
    error_details: null,
    interactive_request: null,
    ...p,
  };
}
