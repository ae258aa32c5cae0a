/** Response schemas of the workflows API (reference §6): what the routes answer, exactly. */
import { z } from 'zod';
import { userRefSchema } from '../api/schemas.js';

export const workflowSchema = z
  .object({
    id: z.string(),
    date: z.string(),
    update_date: z.string(),
    name: z.string(),
    description: z.string(),
    start_hint: z.string().nullable(),
    icon_url: z.string().nullable(),
    mode: z.string(),
    type: z.string(),
    project: z.string(),
    shared: z.boolean(),
    assistants: z.array(z.unknown()),
    custom_nodes: z.array(z.unknown()),
    tools: z.array(z.unknown()),
    states: z.array(z.unknown()),
    schema_url: z.string().nullable(),
    supervisor_prompt: z.string(),
    created_by: userRefSchema.nullable(),
    updated_by: userRefSchema.nullable(),
    user_abilities: z.array(z.enum(['read', 'write', 'delete'])),
    yaml_config: z.string(),
    yaml_config_history: z.array(z.unknown()),
    tokens_limit_before_summarization: z.number().nullable(),
    messages_limit_before_summarization: z.number().nullable(),
    enable_summarization_node: z.boolean(),
    retry_policy: z.unknown(),
    recursion_limit: z.number(),
    max_concurrency: z.number(),
    verbose: z.boolean(),
    max_iteration_key_output_limit: z.number(),
    bedrock: z.unknown(),
    meta_config: z.unknown(),
    is_global: z.boolean(),
    categories: z.array(z.string()),
    unique_users_count: z.number().int(),
    guardrail_assignments: z.array(z.unknown()),
  })
  .meta({ id: 'Workflow' });

export const workflowSavedSchema = z.object({ message: z.string(), data: workflowSchema }).meta({ id: 'WorkflowSaved' });

export const tokensUsageSchema = z
  .object({ input_tokens: z.number(), output_tokens: z.number(), cached_tokens: z.number(), money_spent: z.number(), cached_tokens_money_spent: z.number() })
  .meta({ id: 'TokensUsage' });

export const executionSchema = z
  .object({
    id: z.string(),
    execution_id: z.string(),
    workflow_id: z.string(),
    overall_status: z.string(),
    output: z.string().nullable(),
    name: z.string(),
    prompt: z.string(),
    file_name: z.string().nullable(),
    file_names: z.array(z.string()),
    created_by: userRefSchema.nullable(),
    updated_by: userRefSchema.nullable(),
    checkpoints: z.unknown(),
    tokens_usage: tokensUsageSchema,
    project: z.string(),
    session_id: z.string().nullable(),
    tags: z.array(z.string()),
    conversation_id: z.string().nullable(),
    history: z.array(z.unknown()),
    date: z.string(),
    update_date: z.string(),
  })
  .meta({ id: 'WorkflowExecution' });

const stateThoughtSchema = z.object({
  id: z.string(),
  execution_state_id: z.string(),
  parent_id: z.string().nullable(),
  author_name: z.string(),
  author_type: z.string(),
  date: z.string(),
});

export const stateSchema = z
  .object({
    id: z.string(),
    date: z.string(),
    update_date: z.string(),
    execution_id: z.string(),
    name: z.string(),
    state_id: z.string(),
    task: z.string(),
    status: z.string(),
    error: z.string().nullable(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    preceding_state_ids: z.array(z.string()),
    iteration_number: z.number().nullable(),
    history_index: z.number(),
    thoughts: z.array(stateThoughtSchema),
  })
  .meta({ id: 'WorkflowExecutionState' });

export interface ExecutionThought {
  id: string;
  execution_state_id: string;
  parent_id: string | null;
  author_name: string;
  author_type: string;
  input_text: string;
  content: string;
  error: boolean;
  date: string;
  children: ExecutionThought[];
}

export const executionThoughtSchema: z.ZodType<ExecutionThought> = z
  .object({
    id: z.string(),
    execution_state_id: z.string(),
    parent_id: z.string().nullable(),
    author_name: z.string(),
    author_type: z.string(),
    input_text: z.string(),
    content: z.string(),
    error: z.boolean(),
    date: z.string(),
    get children() {
      return z.array(executionThoughtSchema);
    },
  })
  .meta({ id: 'WorkflowExecutionThought' });

export const transitionSchema = z
  .object({
    id: z.string(),
    execution_id: z.string(),
    from_state_id: z.string().nullable(),
    to_state_id: z.string(),
    workflow_context: z.object({
      context_store: z.record(z.string(), z.unknown()),
      next: z.array(z.string()),
      messages: z.array(z.unknown()),
      user_input: z.string().nullable(),
      final_summary: z.array(z.unknown()),
    }),
    date: z.string(),
  })
  .meta({ id: 'WorkflowExecutionTransition' });
