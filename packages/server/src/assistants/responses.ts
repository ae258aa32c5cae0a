/** Response schemas of the assistants API (reference §3.2, §4): what the routes answer, exactly. */
import { z } from 'zod';
import { thoughtSchema } from '../wire/thought.js';

const createdBySchema = z.object({ id: z.string(), user_id: z.string(), username: z.string(), name: z.string() });

const categoryRefSchema = z.object({ id: z.string(), name: z.string(), description: z.string().nullable(), date: z.string(), update_date: z.string() });

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
    enable_image_generation: z.boolean(),
    image_generation_model: z.string().nullable(),
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
    hedging_config: z.record(z.string(), z.unknown()).nullable(),
    interactive_features: z.record(z.string(), z.unknown()).nullable(),
    context: z.array(z.unknown()),
    user_abilities: z.array(z.enum(['read', 'write', 'delete'])),
    mcp_servers: z.array(z.unknown()),
    assistant_ids: z.array(z.string()),
    enabled_builtin_subagents: z.array(z.string()),
    skill_ids: z.array(z.string()),
    skills: z.array(z.unknown()),
    nested_assistants: z.array(z.unknown()),
    bedrock: z.unknown(),
    bedrock_agentcore_runtime: z.unknown(),
    type: z.string(),
    agent_card: z.unknown(),
    prompt_variables: z.array(
      z.object({ key: z.string(), description: z.string().nullable(), default_value: z.string(), is_sensitive: z.boolean() }),
    ),
    tool_permissions: z.record(z.string(), z.unknown()).nullable(),
    /** Ids in lists, category objects in the detail. */
    categories: z.array(z.union([z.string(), categoryRefSchema])),
    custom_metadata: z.record(z.string(), z.unknown()).nullable(),
    origin: z.string(),
    unique_users_count: z.number().int(),
    unique_likes_count: z.number().int(),
    unique_dislikes_count: z.number().int(),
    version_count: z.number().int(),
    version: z.number().int().nullable(),
    display_name: z.string().nullable(),
    guardrail_assignments: z.array(z.unknown()),
  })
  .meta({ id: 'Assistant' });

/** A prebuilt template (`GET /assistants/prebuilt`, `scope=templates`): the Assistant shape without an id. */
export const prebuiltAssistantSchema = z
  .object({
    id: z.null(),
    date: z.string(),
    update_date: z.string(),
    created_date: z.string(),
    updated_date: z.string().nullable(),
    name: z.string(),
    description: z.string(),
    system_prompt: z.string(),
    system_prompt_history: z.array(z.unknown()),
    created_by: z.null(),
    creator: z.string(),
    project: z.string(),
    icon_url: z.string().nullable(),
    llm_model_type: z.string().nullable(),
    enable_image_generation: z.boolean(),
    image_generation_model: z.string().nullable(),
    toolkits: z.array(z.unknown()),
    conversation_starters: z.array(z.string()),
    shared: z.boolean(),
    is_react: z.boolean(),
    is_global: z.boolean(),
    agent_mode: z.string(),
    plan_prompt: z.string().nullable(),
    slug: z.string(),
    temperature: z.number().nullable(),
    top_p: z.number().nullable(),
    tools_tokens_size_limit: z.number().nullable(),
    smart_tool_selection_enabled: z.boolean(),
    context: z.array(z.unknown()),
    user_abilities: z.array(z.enum(['read', 'write', 'delete'])),
    mcp_servers: z.array(z.unknown()),
    assistant_ids: z.array(z.string()),
    enabled_builtin_subagents: z.array(z.string()),
    skill_ids: z.array(z.string()),
    nested_assistants: z.array(z.unknown()),
    type: z.string(),
    prompt_variables: z.array(z.unknown()),
    categories: z.array(z.string()),
    origin: z.string(),
    unique_users_count: z.number().int(),
    unique_likes_count: z.number().int(),
    unique_dislikes_count: z.number().int(),
    video_link: z.string().nullable(),
  })
  .meta({ id: 'PrebuiltAssistant' });

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
    origin: z.string(),
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
    toolErrors: z
      .array(z.object({ tool_name: z.unknown(), error_code: z.string(), message: z.string(), timestamp: z.string(), tool_call_id: z.string().nullable() }))
      .nullable(),
    /** Set when the call paused for the user's approval of a tool call (see POST /assistants/{id}/model/tool-call/resume). */
    interactiveRequest: z.unknown(),
  })
  .meta({ id: 'AssistantCallResponse' });
