/**
 * Wire shapes of conversations (reference routers/conversation.py, models/conversation.py):
 * snake_case conversations, camelCase history items (GeneratedMessage, every key present).
 * Request bodies built on the reference's ConfiguredModel accept snake_case and camelCase keys.
 */
import { z } from 'zod';
import { boolQuery, intQuery } from '../api/schemas.js';

/**
 * The longest message text: a body one character over it, JSON-escaped at 12 bytes a character,
 * still fits the default body limit (10 MiB), so it is refused as 422 rather than 413.
 */
export const MAX_TEXT = 500_000;

/** The largest turn index (an integer column on PostgreSQL). */
const MAX_INT = 2_147_483_647;

// ------------------------------------------------------------------ pieces

/** A stored thought: what assistant calls record, and whatever an import brings (loosely typed). */
export const storedThoughtSchema = z
  .object({
    id: z.string(),
    parent_id: z.string().nullish(),
    metadata: z.record(z.string(), z.unknown()).nullish(),
    in_progress: z.boolean().nullish(),
    input_text: z.string().nullish(),
    message: z.string().nullish(),
    author_type: z.string().nullish(),
    author_name: z.string().nullish(),
    output_format: z.string().nullish(),
    error: z.boolean().nullish(),
    children: z.array(z.unknown()).nullish(),
  })
  .passthrough()
  .meta({ id: 'StoredThought' });

/** A per-message mark (userMark / operatorMark). */
export const historyMarkSchema = z
  .object({
    mark: z.string(),
    rating: z.number().nullish(),
    comments: z.string().nullish(),
    date: z.string(),
    type: z.string().nullish(),
    feedback_id: z.string().nullish(),
  })
  .passthrough()
  .meta({ id: 'HistoryMark' });

/** A final mark of the conversation (final_user_mark / final_operator_mark). */
export const finalMarkSchema = z
  .object({
    mark: z.string(),
    rating: z.number().nullable(),
    comments: z.string().nullable(),
    date: z.string(),
    type: z.string().nullish(),
    feedback_id: z.string().nullish(),
    operator: z.object({ user_id: z.string(), name: z.string() }).nullish(),
  })
  .meta({ id: 'FinalMark' });

export const generatedMessageSchema = z
  .object({
    role: z.string(),
    message: z.string(),
    historyIndex: z.number().int(),
    date: z.string(),
    responseTime: z.number().nullable(),
    inputTokens: z.number().nullable(),
    outputTokens: z.number().nullable(),
    cacheCreationInputTokens: z.number().nullable(),
    cacheReadInputTokens: z.number().nullable(),
    moneySpent: z.number().nullable(),
    userMark: historyMarkSchema.nullable(),
    operatorMark: historyMarkSchema.nullable(),
    messageRaw: z.string().nullable(),
    fileNames: z.array(z.string()),
    assistantId: z.string().nullable(),
    thoughts: z.array(storedThoughtSchema).nullable(),
    workflowExecutionRef: z.union([z.boolean(), z.string()]).nullable(),
    executionId: z.string().nullable(),
    executionStatus: z.string().nullable(),
    interactiveRequest: z.unknown(),
    interactiveResponse: z.unknown(),
    /** Ours: how the call that wrote it ended (success | error | interrupted). */
    status: z.string().nullish(),
  })
  .meta({ id: 'GeneratedMessage' });
export type WireMessage = z.output<typeof generatedMessageSchema>;

const paginationSchema = z.object({
  page: z.number().int(),
  per_page: z.number().int(),
  total: z.number().int(),
  pages: z.number().int(),
  has_next: z.boolean(),
  has_previous: z.boolean(),
});

const assistantDataSchema = z
  .object({
    assistant_id: z.string(),
    assistant_name: z.string(),
    assistant_icon: z.string().nullable(),
    assistant_type: z.string().nullable(),
    context: z.array(z.unknown()).nullable(),
    tools: z.array(z.unknown()).nullable(),
    conversation_starters: z.array(z.string()),
  })
  .meta({ id: 'ConversationAssistantData' });
export type AssistantData = z.output<typeof assistantDataSchema>;

// ------------------------------------------------------------------ responses

export const conversationListItemSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    folder: z.string().nullable(),
    pinned: z.boolean(),
    /** Last activity (update_date, else creation), as the reference. */
    date: z.string(),
    update_date: z.string().nullable(),
    assistant_ids: z.array(z.string()),
    initial_assistant_id: z.string().nullable(),
    very_first_msg_at: z.string().nullable(),
    very_last_msg_at: z.string().nullable(),
    is_workflow: z.boolean(),
    workflow_id: z.string().nullable(),
    conversation_id: z.string().nullable(),
    assistant_icon: z.string().nullable(),
    assistant_names: z.array(z.string()),
    finished_at: z.string().nullable(),
    /** Admin list only. */
    user_id: z.string().optional(),
    user_name: z.string().optional(),
    project: z.string().nullable().optional(),
    created_date: z.string().optional(),
  })
  .meta({ id: 'ConversationListItem' });
export type ConversationListItem = z.output<typeof conversationListItemSchema>;

export const conversationSchema = z
  .object({
    id: z.string(),
    conversation_id: z.string(),
    conversation_name: z.string(),
    llm_model: z.string().nullable(),
    enable_image_generation: z.boolean().nullable(),
    image_generation_model: z.string().nullable(),
    folder: z.string().nullable(),
    pinned: z.boolean(),
    history: z.array(generatedMessageSchema),
    user_id: z.string(),
    user_name: z.string(),
    assistant_ids: z.array(z.string()),
    assistant_data: z.array(assistantDataSchema),
    initial_assistant_id: z.string().nullable(),
    final_user_mark: finalMarkSchema.nullable(),
    final_operator_mark: finalMarkSchema.nullable(),
    project: z.string().nullable(),
    mcp_server_single_usage: z.boolean(),
    is_workflow_conversation: z.boolean(),
    conversation_details: z.unknown(),
    assistant_details: z.unknown(),
    user_abilities: z.array(z.string()).nullable(),
    is_folder_migrated: z.boolean(),
    category: z.string().nullable(),
    date: z.string(),
    update_date: z.string(),
    very_first_msg_at: z.string().nullable(),
    very_last_msg_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    pagination: paginationSchema.optional(),
  })
  .meta({ id: 'Conversation' });
export type ConversationView = z.output<typeof conversationSchema>;

export const folderSchema = z
  .object({
    id: z.string(),
    date: z.string(),
    update_date: z.string(),
    folder_name: z.string(),
    user_id: z.string(),
    user_abilities: z.array(z.string()),
  })
  .meta({ id: 'ConversationFolder' });

export const upsertResponseSchema = z
  .object({ conversation_id: z.string(), new_messages: z.number().int(), total_messages: z.number().int(), created: z.boolean() })
  .meta({ id: 'UpsertHistoryResponse' });

export const finishResponseSchema = z.object({ conversationId: z.string(), finishedAt: z.string() }).meta({ id: 'ConversationFinished' });

export const finishBulkResponseSchema = z
  .object({
    total: z.number().int(),
    results: z.array(z.object({ conversationId: z.string(), alreadyFinished: z.boolean(), finishedAt: z.string().nullable(), error: z.string().nullable() })),
  })
  .meta({ id: 'ConversationFinishBulk' });

export const adminListSchema = z
  .object({
    data: z.array(conversationListItemSchema),
    pagination: z.object({ page: z.number().int(), per_page: z.number().int(), total: z.number().int(), pages: z.number().int() }),
  })
  .meta({ id: 'AdminConversationList' });

export const searchResponseSchema = z
  .object({
    items: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        updated_at: z.string(),
        type: z.enum(['chat', 'folder']),
        folder: z.string().nullable(),
        finished_at: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'ConversationSearch' });

// ------------------------------------------------------------------ requests

/** snake_case and camelCase keys both accepted (ConfiguredModel); snake wins when both are sent. */
export function camelOrSnake(mapping: Record<string, string>) {
  return (body: unknown): unknown => {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
    const src = body as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    for (const [camel, snake] of Object.entries(mapping)) {
      if (!(camel in src)) continue;
      out ??= { ...src };
      if (!(snake in out)) out[snake] = out[camel];
      delete out[camel];
    }
    return out ?? src;
  };
}

export const listQuery = z.object({
  page: intQuery({ min: 0 }).optional(),
  per_page: intQuery({ min: 1, max: 200 }).optional(),
  isFinished: boolQuery(),
});

export const detailQuery = z.object({
  page: intQuery({ min: 0 }).optional(),
  per_page: intQuery({ min: 1, max: 500 }).optional(),
  sort_order: z.enum(['asc', 'desc']).optional(),
});

export const idParams = z.object({ conversation_id: z.string().min(1).max(200) });

export const createBody = z.preprocess(
  camelOrSnake({
    initialAssistantId: 'initial_assistant_id',
    mcpServerSingleUsage: 'mcp_server_single_usage',
    isWorkflow: 'is_workflow',
  }),
  z.object({
    initial_assistant_id: z.string().max(200).nullish(),
    folder: z.string().max(300).nullish(),
    mcp_server_single_usage: z.boolean().nullish(),
    is_workflow: z.boolean().nullish(),
  }),
);
export type CreateBody = z.output<typeof createBody>;

export const updateBody = z.preprocess(
  camelOrSnake({
    activeAssistantId: 'active_assistant_id',
    llmModel: 'llm_model',
    enableImageGeneration: 'enable_image_generation',
    imageGenerationModel: 'image_generation_model',
  }),
  z.object({
    folder: z.string().max(300).nullish(),
    pinned: z.boolean().nullish(),
    name: z.string().max(500).nullish(),
    active_assistant_id: z.string().max(200).nullish(),
    llm_model: z.string().max(200).nullish(),
    enable_image_generation: z.boolean().nullish(),
    image_generation_model: z.string().max(200).nullish(),
  }),
);
export type UpdateBody = z.output<typeof updateBody>;

/** Folder names fit conversations.folder (varchar(300)). */
export const folderBody = z.object({ folder: z.string().max(300) });
export const folderParams = z.object({ '*': z.string().max(300) });
export const folderDeleteQuery = z.object({ remove_conversations: boolQuery(false) });

export const historyIndexParams = z.object({ conversation_id: z.string().min(1).max(200), history_index: intQuery({ min: 0, max: MAX_INT }) });

export const editMessageBody = z.preprocess(
  camelOrSnake({ messageIndex: 'message_index' }),
  z.object({ message_index: z.number().int().min(0).nullish(), message: z.string().max(MAX_TEXT) }),
);

const HISTORY_KEYS: Record<string, string> = {
  history_index: 'historyIndex',
  response_time: 'responseTime',
  input_tokens: 'inputTokens',
  output_tokens: 'outputTokens',
  cache_creation_input_tokens: 'cacheCreationInputTokens',
  cache_read_input_tokens: 'cacheReadInputTokens',
  money_spent: 'moneySpent',
  user_mark: 'userMark',
  operator_mark: 'operatorMark',
  message_raw: 'messageRaw',
  file_names: 'fileNames',
  assistant_id: 'assistantId',
  workflow_execution_ref: 'workflowExecutionRef',
  execution_id: 'executionId',
  execution_status: 'executionStatus',
  interactive_request: 'interactiveRequest',
  interactive_response: 'interactiveResponse',
};

/** An imported history item: the reference's GeneratedMessage, camelCase or snake_case keys. */
const historyItemInput = z.preprocess(
  (v) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
    const src = v as Record<string, unknown>;
    const out: Record<string, unknown> = { ...src };
    for (const [snake, camel] of Object.entries(HISTORY_KEYS)) {
      if (snake in out) {
        if (!(camel in out)) out[camel] = out[snake];
        delete out[snake];
      }
    }
    return out;
  },
  z
    .object({
      role: z.string().min(1).max(20),
      message: z.string().max(MAX_TEXT).nullish(),
      historyIndex: z.number().int().min(0).max(MAX_INT).nullish(),
      date: z.string().max(40).nullish(),
      responseTime: z.number().nullish(),
      inputTokens: z.number().nullish(),
      outputTokens: z.number().nullish(),
      cacheCreationInputTokens: z.number().nullish(),
      cacheReadInputTokens: z.number().nullish(),
      moneySpent: z.number().nullish(),
      userMark: historyMarkSchema.nullish(),
      operatorMark: historyMarkSchema.nullish(),
      messageRaw: z.string().nullish(),
      fileNames: z.array(z.string()).nullish(),
      file_name: z.string().nullish(),
      assistantId: z.string().nullish(),
      thoughts: z.array(storedThoughtSchema).nullish(),
      workflowExecutionRef: z.union([z.boolean(), z.string()]).nullish(),
      executionId: z.string().nullish(),
      executionStatus: z.string().nullish(),
      interactiveRequest: z.unknown().optional(),
      interactiveResponse: z.unknown().optional(),
    })
    .refine((m) => !(m.file_name && m.fileNames?.length), { message: 'Cannot provide both file_name and file_names. Use only file_names.' }),
);
export type HistoryItemInput = z.output<typeof historyItemInput>;

/** `PUT …/history` (a plain pydantic model in the reference: snake_case top-level keys). */
export const upsertBody = z.object({
  assistant_id: z.string().min(1).max(200),
  folder: z.string().max(300).nullish(),
  history: z.array(historyItemInput).max(10_000),
});

export const finalFeedbackBody = z.object({
  author: z.enum(['user', 'operator']),
  mark: z.enum(['correct', 'partially correct', 'wrong']),
  comments: z.string().max(20_000).nullish(),
});

export const finishBulkBody = z.preprocess(
  camelOrSnake({ conversationIds: 'conversation_ids' }),
  z.object({ conversation_ids: z.array(z.string().min(1).max(200)).min(1).max(500) }),
);

/** `perPage` (what the SDK sends) or `per_page`. */
export const adminListQuery = z.object({
  isFinished: boolQuery(),
  startedAt: z.string().max(40).optional(),
  project: z.string().max(200).optional(),
  page: intQuery({ min: 0 }).default(0),
  perPage: intQuery({ min: 1, max: 200 }).optional(),
  per_page: intQuery({ min: 1, max: 200 }).optional(),
});

export const adminUserConversationParams = z.object({ user_id: z.string().min(1).max(200), conversation_id: z.string().min(1).max(200) });

export const searchQuery = z.object({ query: z.string().min(3).max(100) });

export const newQuery = z.object({
  initial_assistant_id: z.string().max(200).optional(),
  is_workflow: boolQuery(false),
  folder: z.string().max(300).optional(),
});
