/** The reference's stream chunk (assistant and workflow streams alike): every key always present, snake_case. */
export interface StreamChunk {
  time_elapsed: number | null;
  generated_chunk: string | null;
  generated: unknown;
  thought: unknown;
  context: unknown;
  last: boolean;
  debug: Record<string, unknown> | null;
  workflow_execution_id: string | null;
  workflow_state: unknown;
  execution_error: string | null;
  success: boolean | null;
  agent_error: unknown;
  tool_errors: unknown;
  error_details: unknown;
  interactive_request: unknown;
}

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
