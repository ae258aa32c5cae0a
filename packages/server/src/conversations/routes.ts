/**
 * Routes of `/v1/conversations...` and the admin conversation views (reference
 * routers/conversation.py, routers/admin.py). Owner-only, admins excepted.
 */
import { createReadStream } from 'node:fs';
import { z } from 'zod';
import { defineRoute, RawBody, type Route } from '../api/route.js';
import { messageSchema } from '../api/schemas.js';
import { notFound } from '../api/errors.js';
import type { FileService } from '../files/service.js';
import type { FolderService } from './folders.js';
import {
  adminListQuery,
  adminListSchema,
  adminUserConversationParams,
  conversationListItemSchema,
  conversationSchema,
  createBody,
  detailQuery,
  editMessageBody,
  finalFeedbackBody,
  finishBulkBody,
  finishBulkResponseSchema,
  finishResponseSchema,
  folderBody,
  folderDeleteQuery,
  folderParams,
  folderSchema,
  historyIndexParams,
  idParams,
  listQuery,
  newQuery,
  searchQuery,
  searchResponseSchema,
  updateBody,
  upsertBody,
  upsertResponseSchema,
} from './schemas.js';
import type { ConversationService } from './service.js';

export interface ConversationRouteDeps {
  conversations: ConversationService;
  folders: FolderService;
  files?: FileService;
}

const fileParams = z.object({ conversation_id: z.string().min(1).max(200), file_url: z.string().min(1).max(2000) });

export function conversationRoutes({ conversations: svc, folders, files }: ConversationRouteDeps): Route[] {
  const tags = ['conversations'];
  const folderTags = ['conversation folders'];
  return [
    defineRoute({
      method: 'GET',
      path: '/conversations',
      tags,
      summary: "The caller's conversations (latest activity first); paged when page or per_page is given; isFinished filters",
      query: listQuery,
      responses: { 200: z.array(conversationListItemSchema) },
      handler: ({ query, user }) => svc.list(user, { page: query.page, perPage: query.per_page, isFinished: query.isFinished }),
    }),
    defineRoute({
      method: 'GET',
      path: '/conversations/search',
      tags,
      summary: "Search the caller's conversations and folders by name (at most 20, newest first)",
      query: searchQuery,
      responses: { 200: searchResponseSchema },
      handler: ({ query, user }) => svc.search(user, query.query),
    }),
    defineRoute({
      method: 'GET',
      path: '/conversations/new',
      tags,
      summary: 'An unsaved conversation template for an assistant or workflow (not stored)',
      query: newQuery,
      responses: { 200: conversationSchema },
      errors: [404],
      handler: ({ query, user }) => svc.template(user, query),
    }),
    defineRoute({
      method: 'POST',
      path: '/conversations',
      tags,
      summary: 'Create an empty conversation (its folder is created when missing)',
      body: createBody,
      responses: { 200: conversationSchema },
      errors: [404],
      handler: ({ body, user }) => svc.create(user, body),
    }),
    defineRoute({
      method: 'GET',
      path: '/conversations/:conversation_id',
      tags,
      summary: 'A conversation with its history; paged by message when page, per_page or sort_order is given',
      params: idParams,
      query: detailQuery,
      responses: { 200: conversationSchema },
      errors: [403, 404],
      handler: ({ params, query, user }) =>
        svc.detail(params.conversation_id, user, { page: query.page, perPage: query.per_page, sortOrder: query.sort_order }),
    }),
    defineRoute({
      method: 'PUT',
      path: '/conversations/:conversation_id',
      tags,
      summary: 'Rename, pin, move to a folder, change model settings (allowed on finished conversations)',
      params: idParams,
      body: updateBody,
      responses: { 200: conversationSchema },
      errors: [403, 404],
      handler: ({ params, body, user }) => svc.update(params.conversation_id, user, body),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/conversations',
      tags,
      summary: "Delete all of the caller's conversations, folders and share links",
      responses: { 200: messageSchema },
      async handler({ user }) {
        await svc.deleteAll(user);
        return { message: 'Conversation history cleared' };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/conversations/:conversation_id',
      tags,
      summary: 'Delete a conversation (its share links and feedback go with it)',
      params: idParams,
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ params, user }) {
        await svc.delete(params.conversation_id, user);
        return { message: 'Specified conversation removed' };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/conversations/:conversation_id/files',
      tags,
      summary: 'The files attached along the conversation (their file_url handles)',
      params: idParams,
      responses: { 200: z.array(z.string()) },
      errors: [403, 404],
      handler: ({ params, user }) => svc.files(params.conversation_id, user),
    }),
    defineRoute({
      method: 'GET',
      path: '/conversations/:conversation_id/files/:file_url',
      tags,
      summary: 'Download a file attached in the conversation (whoever may read the conversation)',
      params: fileParams,
      responses: { 200: { contentType: '*/*', description: 'The file, with the content type it was uploaded with' } },
      errors: [403, 404],
      async handler({ params, user }) {
        const attached = await svc.files(params.conversation_id, user);
        const row = attached.includes(params.file_url) && files ? await files.find(params.file_url) : null;
        if (!row) throw notFound('File', params.file_url, `The file [${params.file_url}] is not attached in conversation [${params.conversation_id}].`);
        return new RawBody(row.mime_type, createReadStream(files!.pathOf(row.id)), {
          'content-length': String(row.size),
          'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(row.name)}`,
          'x-content-type-options': 'nosniff',
        });
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/conversations/:conversation_id/history',
      tags,
      summary: 'Clear the history (the conversation, its name and folder stay)',
      params: idParams,
      responses: { 200: conversationSchema },
      errors: [403, 404, 409],
      handler: ({ params, user }) => svc.clearHistory(params.conversation_id, user),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/conversations/:conversation_id/history/:history_index',
      tags,
      summary: 'Delete one turn (all its variants); later turns move down by one',
      params: historyIndexParams,
      responses: { 200: conversationSchema },
      errors: [403, 404, 409],
      handler: ({ params, user }) => svc.deleteTurn(params.conversation_id, user, params.history_index),
    }),
    defineRoute({
      method: 'PUT',
      path: '/conversations/:conversation_id/history/:history_index',
      tags,
      summary: "Edit a turn's answer: a new variant of the turn with this text is appended",
      params: historyIndexParams,
      body: editMessageBody,
      responses: { 200: conversationSchema },
      errors: [400, 403, 404, 409],
      handler: ({ params, body, user }) => svc.editAnswer(params.conversation_id, user, params.history_index, body.message_index, body.message),
    }),
    defineRoute({
      method: 'PUT',
      path: '/conversations/:conversation_id/history',
      tags,
      summary: 'Import history (idempotent): creates the conversation (201) or replaces/appends messages (200)',
      params: idParams,
      body: upsertBody,
      // (integer keys are ordered ascending: 200 is the plain answer)
      responses: { 200: upsertResponseSchema, 201: upsertResponseSchema },
      errors: [400, 403, 409],
      async handler({ params, body, user, respond }) {
        const r = await svc.upsert(params.conversation_id, user, body);
        return r.created ? respond(201, r) : r;
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/conversations/:conversation_id/finish',
      tags,
      summary: 'Finish the conversation: it takes no more messages (409 when already finished)',
      params: idParams,
      responses: { 200: finishResponseSchema },
      errors: [403, 404, 409],
      handler: ({ params, user }) => svc.finish(params.conversation_id, user),
    }),
    defineRoute({
      method: 'POST',
      path: '/conversations/:conversation_id/feedback',
      tags,
      summary: "The owner's final mark of the conversation",
      params: idParams,
      body: finalFeedbackBody,
      responses: { 200: z.object({ user_id: z.string(), conversation_id: z.string() }) },
      errors: [404],
      handler: ({ params, body, user }) => svc.finalUserMark(params.conversation_id, user, body),
    }),

    // ------------------------------------------------------------ folders
    defineRoute({
      method: 'GET',
      path: '/conversations/folders/list',
      tags: folderTags,
      summary: "The caller's folders",
      responses: { 200: z.array(folderSchema) },
      handler: ({ user }) => folders.list(user),
    }),
    defineRoute({
      method: 'POST',
      path: '/conversations/folder',
      tags: folderTags,
      summary: 'Create a folder (names are unique per user; "Default" is reserved)',
      body: folderBody,
      responses: { 200: messageSchema },
      errors: [400],
      async handler({ body, user }) {
        await folders.create(user, body.folder);
        return { message: 'Folder created' };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/conversations/folder/*',
      tags: folderTags,
      summary: 'Rename a folder (the name may contain "/"); its conversations move with it',
      params: folderParams,
      body: folderBody,
      responses: { 200: messageSchema },
      errors: [400],
      async handler({ params, body, user }) {
        await folders.rename(user, params['*'], body.folder);
        return { message: 'Folder name updated' };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/conversations/folder/*',
      tags: folderTags,
      summary: 'Delete a folder; its conversations are deleted too with remove_conversations=true, else left without a folder',
      params: folderParams,
      query: folderDeleteQuery,
      responses: { 200: messageSchema },
      async handler({ params, query, user }) {
        await folders.remove(user, params['*'], query.remove_conversations);
        return { message: 'Folder removed' };
      },
    }),

    // ------------------------------------------------------------ admin
    defineRoute({
      method: 'GET',
      path: '/admin/conversations',
      tags: ['admin'],
      access: 'admin',
      summary: "Every user's conversations, oldest first (isFinished, startedAt, project filters)",
      query: adminListQuery,
      responses: { 200: adminListSchema },
      handler: ({ query: q, user }) =>
        svc.adminList(user, { isFinished: q.isFinished, startedAt: q.startedAt, project: q.project, page: q.page, perPage: q.perPage ?? q.per_page ?? 20 }),
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/conversations/finish-bulk',
      tags: ['admin'],
      access: 'admin',
      summary: 'Finish up to 500 conversations (idempotent per id; unknown ids reported as not_found)',
      body: finishBulkBody,
      responses: { 200: finishBulkResponseSchema },
      handler: ({ body }) => svc.finishBulk(body.conversation_ids),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/users/:user_id/conversations/:conversation_id',
      tags: ['admin'],
      access: 'admin',
      summary: "A user's conversation",
      params: adminUserConversationParams,
      responses: { 200: conversationSchema },
      errors: [404],
      handler: ({ params, user }) => svc.adminGet(user, params.user_id, params.conversation_id),
    }),
    defineRoute({
      method: 'PUT',
      path: '/admin/users/:user_id/conversations/:conversation_id/feedback',
      tags: ['admin'],
      access: 'admin',
      summary: "The operator's final mark of a user's conversation",
      params: adminUserConversationParams,
      body: finalFeedbackBody,
      responses: { 200: conversationSchema },
      errors: [404],
      handler: ({ params, body, user }) => svc.finalOperatorMark(user, params.user_id, params.conversation_id, body),
    }),
  ];
}
