/**
 * The `yaml_config` schema (reference: execution_config_schema.yaml + the docs' configuration
 * reference). As the reference's schema (no additionalProperties: false), keys it does not know are
 * accepted and dropped: the documented examples carry some (a state's mcp_servers, config).
 */
import { z } from 'zod';
import { mcpServerDetailsSchema } from '../mcp/schemas.js';

const retryPolicy = z.object({
  initial_interval: z.number().min(0).optional(),
  backoff_factor: z.number().min(1).max(10).optional(),
  max_interval: z.number().min(0).optional(),
  max_attempts: z.number().int().min(1).max(100).optional(),
});

/** MCPServerDetails (reference §5.3): the MCP module's schema, so saved workflows hold configs it accepts. */
const mcpServer = mcpServerDetailsSchema;

export const assistantSchema = z.object({
  id: z.string().min(1),
  assistant_id: z.string().min(1).nullish(),
  name: z.string().nullish(),
  model: z.string().nullish(),
  system_prompt: z.string().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  limit_tool_output_tokens: z.number().int().optional(),
  tools: z.array(z.object({ name: z.string(), integration_alias: z.string().nullish() })).optional(),
  datasource_ids: z.array(z.string()).optional(),
  skill_ids: z.array(z.string()).optional(),
  exclude_extra_context_tools: z.boolean().optional(),
  mcp_servers: z.array(mcpServer).optional(),
});

export const toolNodeSchema = z.object({
  id: z.string().min(1),
  tool: z.string().min(1),
  tool_args: z.record(z.string(), z.unknown()).optional(),
  integration_alias: z.string().nullish(),
  tool_result_json_pointer: z
    .string()
    .regex(/^(\/.*)?$/, 'must be a JSON pointer like /a/b')
    .nullish(),
  trace: z.boolean().optional(),
  mcp_server: mcpServer.nullish(),
  resolve_dynamic_values_in_response: z.boolean().optional(),
  input_key: z.string().nullish(),
  tokens_size_limit: z.number().int().nullish(),
});

const customNodeSchema = z.object({
  id: z.string().min(1),
  custom_node_id: z.string().nullish(),
  name: z.string().nullish(),
  model: z.string().nullish(),
  system_prompt: z.string().nullish(),
  config: z.record(z.string(), z.unknown()).optional(),
});

export const nextSchema = z.object({
  state_id: z.string().min(1).optional(),
  state_ids: z.array(z.string().min(1)).min(1).optional(),
  condition: z
    .object({ expression: z.string().min(1), then: z.string().min(1), otherwise: z.string().min(1) })

    .optional(),
  switch: z
    .object({
      cases: z.array(z.object({ condition: z.string().min(1), state_id: z.string().min(1) })).min(1),
      default: z.string().min(1),
    })

    .optional(),
  iter_key: z.string().min(1).optional(),
  max_concurrency: z.number().int().min(1).max(100).optional(),
  output_key: z.string().min(1).optional(),
  override_task: z.boolean().optional(),
  store_in_context: z.boolean().default(true),
  include_in_llm_history: z.boolean().optional(),
  keep_history: z.boolean().optional(),
  clear_prior_messages: z.boolean().default(false),
  clear_context_store: z.union([z.boolean(), z.literal('keep_current')]).default(false),
  reset_keys_in_context_store: z.array(z.string()).optional(),
  include_in_iterator_context: z.array(z.string()).optional(),
  append_to_context: z.boolean().default(false),
});

export const stateSchema = z.object({
  id: z.string().min(1),
  assistant_id: z.string().min(1).optional(),
  tool_id: z.string().min(1).optional(),
  custom_node_id: z.string().min(1).optional(),
  /** Inline config of a built-in custom node named directly by custom_node_id (as the docs show it). */
  config: z.record(z.string(), z.unknown()).optional(),
  task: z.string().default(''),
  next: nextSchema,
  output_schema: z.string().nullish(),
  retry_policy: retryPolicy.optional(),
  interrupt_before: z.boolean().default(false),
  wait_for_user_confirmation: z.boolean().optional(),
  tool_args: z.record(z.string(), z.unknown()).optional(),
  finish_iteration: z.boolean().optional(),
  result_as_human_message: z.boolean().optional(),
  resolve_dynamic_values_in_prompt: z.boolean().optional(),
  name: z.string().optional(),
  description: z.string().optional(),
});

export const workflowYamlSchema = z.object({
  assistants: z.array(assistantSchema).default([]),
  tools: z.array(toolNodeSchema).default([]),
  custom_nodes: z.array(customNodeSchema).default([]),
  states: z.array(stateSchema).min(1),
  retry_policy: retryPolicy.optional(),
  messages_limit_before_summarization: z.number().int().min(1).max(10000).optional(),
  tokens_limit_before_summarization: z.number().int().min(1).optional(),
  enable_summarization_node: z.boolean().optional(),
  recursion_limit: z.number().int().min(1).max(5000).default(50),
  max_concurrency: z.number().int().min(1).max(100).default(2),
  verbose: z.boolean().default(true),
  max_iteration_key_output_limit: z.number().int().min(1).optional(),
  type: z.string().optional(),
});

export type WorkflowYaml = z.infer<typeof workflowYamlSchema>;
export type StateConfig = z.infer<typeof stateSchema>;
export type NextConfig = z.infer<typeof nextSchema>;
export type AssistantConfig = z.infer<typeof assistantSchema>;
export type ToolNodeConfig = z.infer<typeof toolNodeSchema>;
export type RetryPolicy = z.infer<typeof retryPolicy>;
export type CustomNodeConfig = z.infer<typeof customNodeSchema>;
export type McpServerConfig = z.infer<typeof mcpServer>;
