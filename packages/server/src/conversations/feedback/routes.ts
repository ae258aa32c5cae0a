/** `/v1/feedback` (reference routers/feedback.py): like/dislike on one answer of a conversation. */
import { z } from 'zod';
import { defineRoute, type Route } from '../../api/route.js';
import { messageSchema } from '../../api/schemas.js';
import { camelOrSnake, MAX_TEXT } from '../schemas.js';
import type { FeedbackService } from './service.js';

const KEYS = {
  conversationId: 'conversation_id',
  messageIndex: 'message_index',
  assistantId: 'assistant_id',
  feedbackId: 'feedback_id',
  appName: 'app_name',
  repoName: 'repo_name',
  indexType: 'index_type',
};

const mark = z.enum(['correct', 'partially correct', 'wrong']);
const author = z.enum(['user', 'operator']);

const createBody = z.preprocess(
  camelOrSnake(KEYS),
  z.object({
    conversation_id: z.string().min(1).max(200),
    assistant_id: z.string().min(1).max(200),
    request: z.string().max(MAX_TEXT),
    response: z.string().max(MAX_TEXT),
    message_index: z.number().int(),
    author,
    mark,
    feedback_id: z.string().max(200).nullish(),
    history: z
      .array(z.object({ role: z.string(), message: z.string() }))
      .max(1000)
      .nullish(),
    comments: z.string().max(20_000).nullish(),
    type: z.string().max(200).nullish(),
    app_name: z.string().max(300).nullish(),
    repo_name: z.string().max(300).nullish(),
    index_type: z.string().max(100).nullish(),
  }),
);

const deleteBody = z.preprocess(
  camelOrSnake(KEYS),
  z.object({
    conversation_id: z.string().min(1).max(200),
    feedback_id: z.string().min(1).max(200),
    message_index: z.number().int(),
    assistant_id: z.string().min(1).max(200),
    author,
  }),
);

const entrySchema = z
  .object({
    id: z.string(),
    date: z.string(),
    update_date: z.string(),
    request: z.string(),
    response: z.string(),
    comments: z.string().nullable(),
    conversationId: z.string(),
    history: z.array(z.object({ role: z.string(), message: z.string() })).nullable(),
    mark: z.string(),
    appName: z.string().nullable(),
    repoName: z.string().nullable(),
    indexType: z.string().nullable(),
    author: z.string(),
    assistant_id: z.string().nullable(),
    user_id: z.string(),
    type: z.string().nullable(),
  })
  .meta({ id: 'FeedbackEntry' });

export function feedbackRoutes(feedback: FeedbackService): Route[] {
  const tags = ['feedback'];
  return [
    defineRoute({
      method: 'GET',
      path: '/feedback',
      tags,
      summary: "The caller's feedback entries (an admin's: everyone's), newest first",
      responses: { 200: z.array(entrySchema) },
      handler: ({ user }) => feedback.list(user),
    }),
    defineRoute({
      method: 'GET',
      path: '/feedback/:feedback_id',
      tags,
      summary: 'One feedback entry',
      params: z.object({ feedback_id: z.string().min(1).max(200) }),
      responses: { 200: entrySchema },
      errors: [403, 404],
      handler: ({ params, user }) => feedback.get(user, params.feedback_id),
    }),
    defineRoute({
      method: 'POST',
      path: '/feedback',
      tags,
      summary: 'Feedback on one message (messageIndex = its position in the history); replaces the earlier one',
      body: createBody,
      responses: { 200: z.object({ id: z.string() }) },
      errors: [400, 403, 404],
      handler: ({ body, user }) => feedback.create(user, body),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/feedback',
      tags,
      summary: "Remove a feedback entry and the message's mark (JSON body)",
      body: deleteBody,
      responses: { 200: messageSchema },
      errors: [400, 403, 404],
      async handler({ body, user }) {
        await feedback.remove(user, body);
        return { message: 'Specified feedback entry removed' };
      },
    }),
  ];
}
