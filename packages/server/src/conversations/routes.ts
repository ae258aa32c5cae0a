import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { currentUser } from '../api/auth.js';
import type { ConversationService } from './service.js';

const listQuery = z.object({
  page: z.coerce.number().int().min(0).optional(),
  per_page: z.coerce.number().int().min(1).max(200).optional(),
});
const idParams = z.object({ conversation_id: z.string().min(1).max(100) });

export function conversationRoutes(app: FastifyInstance, svc: ConversationService): void {
  app.get('/conversations', { schema: { tags: ['conversations'], summary: "The caller's conversations (newest first)", querystring: listQuery } }, async (req) => {
    const q = req.query as z.infer<typeof listQuery>;
    return svc.list(currentUser(req), q.page, q.per_page);
  });
  app.get('/conversations/:conversation_id', { schema: { tags: ['conversations'], summary: 'A conversation with its history', params: idParams } }, async (req) => {
    return svc.detail((req.params as z.infer<typeof idParams>).conversation_id, currentUser(req));
  });
  app.delete('/conversations/:conversation_id', { schema: { tags: ['conversations'], summary: 'Delete a conversation', params: idParams } }, async (req) => {
    await svc.delete((req.params as z.infer<typeof idParams>).conversation_id, currentUser(req));
    return { message: 'Specified conversation removed' };
  });
}
