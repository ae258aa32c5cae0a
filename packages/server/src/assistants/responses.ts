/** Response schemas of the assistants API (reference §3.2, §4): what the routes answer, exactly. */
import { z } from 'zod';
import { thoughtSchema } from '../wire/thought.js';

const createdBySchema = z.object({ id: z.string(), user_id: z.string(), username: z.string(), name: z.string() });

export const assistantSchema = z
  .object({
    id: z.string(),
    date: z.string(),
    update_date: z.string(),
    created_date: z.string(),
    updated_date: z.string(),
    name: z.string(),
    description: z.string(),
    system_prompt: z.string(),
    system_prompt_history: z.array(z.unknown()),
    created_by: createdBySchema,
    creator: z.string(),
    project: z.string(),
    icon_url: z.string().nullable(),
    llm_model_type: z.string().nullable(),
    toolkits: z.array(z.unknown()),
    conversation_starters: z.array(z.string()),
    shared: z.boolean(),
    is_react: z.boolean(),
    is_global: z.boolean(),
    agent_mode: z.string(),
    plan_prompt: z.string().nullable(),
    slug: z.string().nullable(),
    temperature: z.number().nullable(),
    top_p: z.number().nullable(),
    tools_tokens_size_limit: z.number().nullable(),
    smart_tool_selection_enabled: z.boolean(),
    context: z.array(z.unknown()),
    user_abilities: z.array(z.enum(['read', 'write', 'delete'])),
    mcp_servers: z.array(z.unknown()),
    assistant_ids: z.array(z.string()),
    enabled_builtin_subagents: z.array(z.unknown()),
    skill_ids: z.array(z.string()),
    skills: z.array(z.unknown()),
    nested_assistants: z.array(z.unknown()),
    type: z.string(),
    prompt_variables: z.array(z.unknown()),
    categories: z.array(z.string()),
    custom_metadata: z.record(z.string(), z.unknown()).nullable(),
    origin: z.unknown(),
    unique_users_count: z.number().int(),
    unique_likes_count: z.number().int(),
    unique_dislikes_count: z.number().int(),
    version_count: z.number().int(),
    guardrail_assignments: z.array(z.unknown()),
  })
  .meta({ id: 'Assistant' });

/** AssistantListResponse (minimal_response=true). */
export const assistantListItemSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    slug: z.string().nullable(),
    project: z.string(),
    type: z.string(),
    description: z.string(),
    icon_url: z.string().nullable(),
    created_by: createdBySchema,
    user_abilities: z.array(z.enum(['read', 'write', 'delete'])),
    unique_users_count: z.number().int(),
    unique_likes_count: z.number().int(),
    unique_dislikes_count: z.number().int(),
    categories: z.array(z.string()),
    is_global: z.boolean(),
    shared: z.boolean(),
    origin: z.unknown(),
  })
  .meta({ id: 'AssistantListItem' });

export const assistantSavedSchema = z.object({ message: z.string(), assistantId: z.string(), validation: z.unknown() }).meta({ id: 'AssistantSaved' });
export const assistantUpdatedSchema = z.object({ message: z.string(), validation: z.unknown() }).meta({ id: 'AssistantUpdated' });

const usageSchema = z
  .object({ input_tokens: z.number(), output_tokens: z.number(), cached_tokens: z.number(), money_spent: z.number() })
  .meta({ id: 'TokenUsage' });

/** The non-stream answer of a call (camelCase top level, snake_case thoughts; every key present). */
export const callResponseSchema = z
  .object({
    generated: z.unknown(),
    timeElapsed: z.number(),
    /** Input + output tokens (the Python SDK declares an int); the breakdown and cost are in `usage`. */
    tokensUsed: z.number().int().nullable(),
    usage: usageSchema.nullable(),
    thoughts: z.array(thoughtSchema),
    taskId: z.string().nullable(),
    success: z.boolean(),
    agentError: z.object({ error_code: z.string().nullable(), message: z.string().nullable(), details: z.unknown(), stacktrace: z.unknown() }).nullable(),
    toolErrors: z.array(z.object({ tool_name: z.unknown(), error_code: z.string(), message: z.string() })).nullable(),
  })
  .meta({ id: 'AssistantCallResponse' });
