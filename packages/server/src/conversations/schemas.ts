/** Wire shapes of conversations (reference §7.1): snake_case conversation, camelCase history items. */
import { z } from 'zod';
import { thoughtSchema } from '../wire/thought.js';

export const generatedMessageSchema = z
  .object({
    role: z.enum(['User', 'Assistant']),
    message: z.string(),
    historyIndex: z.number().int(),
    date: z.string(),
    responseTime: z.number().nullish(),
    inputTokens: z.number().nullish(),
    outputTokens: z.number().nullish(),
    cacheReadInputTokens: z.number().nullish(),
    moneySpent: z.number().nullish(),
    userMark: z.unknown().optional(),
    operatorMark: z.unknown().optional(),
    messageRaw: z.string().nullish(),
    fileNames: z.array(z.string()),
    assistantId: z.string().nullish(),
    thoughts: z.array(thoughtSchema).optional(),
    status: z.string().nullish(),
    executionId: z.string().nullish(),
  })
  .meta({ id: 'GeneratedMessage' });

export const conversationListItemSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    folder: z.string().nullable(),
    pinned: z.boolean(),
    date: z.string(),
    update_date: z.string(),
    assistant_ids: z.array(z.string()),
    initial_assistant_id: z.string().nullable(),
    is_workflow: z.boolean(),
    workflow_id: z.string().nullable(),
    conversation_id: z.string(),
  })
  .meta({ id: 'ConversationListItem' });

export const conversationSchema = z
  .object({
    pagination: z
      .object({
        page: z.number().int(),
        per_page: z.number().int(),
        total: z.number().int(),
        pages: z.number().int(),
        has_next: z.boolean(),
        has_previous: z.boolean(),
      })
      .optional(),
    id: z.string(),
    conversation_id: z.string(),
    conversation_name: z.string(),
    llm_model: z.string().nullable(),
    folder: z.string().nullable(),
    pinned: z.boolean(),
    history: z.array(generatedMessageSchema),
    user_id: z.string(),
    user_name: z.string(),
    assistant_ids: z.array(z.string()),
    assistant_data: z.array(z.unknown()),
    initial_assistant_id: z.string().nullable(),
    project: z.string().nullable(),
    mcp_server_single_usage: z.boolean(),
    is_workflow_conversation: z.boolean(),
    user_abilities: z.array(z.string()),
    date: z.string(),
    update_date: z.string(),
    very_first_msg_at: z.string().nullable(),
    very_last_msg_at: z.string().nullable(),
    final_user_mark: z.unknown(),
    final_operator_mark: z.unknown(),
    conversation_details: z.unknown(),
    assistant_details: z.unknown(),
    is_folder_migrated: z.boolean(),
    category: z.string().nullable(),
  })
  .meta({ id: 'Conversation' });
