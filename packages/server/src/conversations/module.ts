/** The conversations module: `/v1/conversations...` (owner-only; reference §7.1). */
import { z } from 'zod';
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { defineRoute } from '../api/route.js';
import { intQuery, messageSchema } from '../api/schemas.js';
import { ConversationService } from './service.js';
import { conversationListItemSchema, conversationSchema } from './schemas.js';

const listQuery = z.object({
  page: intQuery({ min: 0 }).optional(),
  per_page: intQuery({ min: 1, max: 200 }).optional(),
});
const idParams = z.object({ conversation_id: z.string().min(1).max(100) });
const detailQuery = z.object({
  page: intQuery({ min: 0 }).optional(),
  per_page: intQuery({ min: 1, max: 500 }).optional(),
  sort_order: z.enum(['asc', 'desc']).optional(),
});

export function conversationsModule(infra: Infra): Module<ConversationService> {
  const svc = new ConversationService(infra.store.db, infra.store.dialect);
  const tags = ['conversations'];
  return {
    name: 'conversations',
    services: svc,
    routes: [
      defineRoute({
        method: 'GET',
        path: '/conversations',
        tags,
        summary: "The caller's conversations (newest first); paged when page or per_page is given",
        query: listQuery,
        responses: { 200: z.array(conversationListItemSchema) },
        handler: ({ query, user }) => svc.list(user, query.page, query.per_page),
      }),
      defineRoute({
        method: 'GET',
        path: '/conversations/:conversation_id',
        tags,
        summary: 'A conversation with its history',
        params: idParams,
        query: detailQuery,
        responses: { 200: conversationSchema },
        errors: [403, 404],
        handler: ({ params, query, user }) =>
          svc.detail(params.conversation_id, user, { page: query.page, perPage: query.per_page, sortOrder: query.sort_order }),
      }),
      defineRoute({
        method: 'DELETE',
        path: '/conversations',
        tags,
        summary: "Delete all of the caller's conversations",
        responses: { 200: messageSchema },
        async handler({ user }) {
          const n = await svc.deleteAll(user);
          return { message: `${n} conversation(s) removed` };
        },
      }),
      defineRoute({
        method: 'DELETE',
        path: '/conversations/:conversation_id',
        tags,
        summary: 'Delete a conversation',
        params: idParams,
        responses: { 200: messageSchema },
        errors: [403, 404],
        async handler({ params, user }) {
          await svc.delete(params.conversation_id, user);
          return { message: 'Specified conversation removed' };
        },
      }),
    ],
  };
}
