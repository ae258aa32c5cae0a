/**
 * `/v1/share/conversations...` (reference routers/share.py, with the snapshot links):
 * making a link and revoking it need an account; opening one needs only the token.
 */
import { z } from 'zod';
import { defineRoute, type Route } from '../../api/route.js';
import { messageSchema } from '../../api/schemas.js';
import { conversationSchema, idParams } from '../schemas.js';
import type { ShareService } from './service.js';

const shareBody = z.object({ chat_id: z.string().min(1).max(200) });

const shareCreatedSchema = z
  .object({
    share_id: z.string(),
    /** Shown once: only its hash is kept. */
    token: z.string(),
    created_at: z.string(),
    access_count: z.number().int(),
    /** The link: opens the snapshot without an account. */
    share_url: z.string(),
  })
  .meta({ id: 'ConversationShare' });

const sharedSchema = z
  .object({ conversation: conversationSchema, shared_by: z.string(), created_at: z.string(), access_count: z.number().int() })
  .meta({ id: 'SharedConversation' });

const shareListSchema = z.array(
  z.object({
    share_id: z.string(),
    conversation_id: z.string(),
    shared_by: z.string(),
    created_at: z.string(),
    access_count: z.number().int(),
    last_access_at: z.string().nullable(),
  }),
);

export function shareRoutes(shares: ShareService): Route[] {
  const tags = ['share'];
  return [
    defineRoute({
      method: 'POST',
      path: '/share/conversations',
      tags,
      summary: 'Make a share link: a read-only snapshot of the conversation as it is now',
      body: shareBody,
      responses: { 201: shareCreatedSchema },
      errors: [403, 404],
      handler: ({ body, user }) => shares.create(user, body.chat_id),
    }),
    defineRoute({
      method: 'GET',
      path: '/share/conversations/:token',
      tags,
      access: 'public',
      summary: 'Open a share link (no account needed): the snapshot, and nothing else',
      params: z.object({ token: z.string().min(1).max(200) }),
      responses: { 200: sharedSchema },
      errors: [404],
      handler: ({ params }) => shares.open(params.token),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/conversations/:conversation_id/shares/:share_id',
      tags,
      summary: 'Revoke a share link (the conversation owner, the sharer or an admin)',
      params: z.object({ conversation_id: z.string().min(1).max(200), share_id: z.string().min(1).max(200) }),
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ params, user }) {
        await shares.revoke(user, params.conversation_id, params.share_id);
        return { message: 'Share link revoked' };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/conversations/:conversation_id/shares',
      tags,
      summary: "A conversation's share links (without tokens)",
      params: idParams,
      responses: { 200: shareListSchema },
      errors: [403, 404],
      handler: ({ params, user }) => shares.list(user, params.conversation_id),
    }),
  ];
}
