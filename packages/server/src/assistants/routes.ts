/**
 * Routes of the assistants domain: CRUD (reference §3.1/3.2) and the call (`POST
 * /assistants/{id}/model`, alias `/chat`, and by slug): non-stream, streaming (SSE by default,
 * NDJSON on request) and background.
 */
import { z } from 'zod';
import { pageOf, pageQuery, parseFilters } from '../api/pagination.js';
import { defineRoute, Reply, type HandlerInput, type Route, type StreamEvent } from '../api/route.js';
import { boolQuery, pageSchema } from '../api/schemas.js';
import type { Config } from '../config/config.js';
import { extractPropagatedHeaders, limitsFromConfig } from '../mcp/headers.js';
import { newRowId } from '../store/ids.js';
import { chunk, streamChunkSchema, type StreamChunk } from '../wire/chunk.js';
import { assistantChunk, assistantLastChunk } from '../wire/run-events.js';
import { startBackgroundTask, type BackgroundDeps } from './background.js';
import { callError, callResponse, type AssistantCalls, type PreparedCall } from './call.js';
import type { AssistantRecord } from './repo.js';
import { assistantListItemSchema, assistantSavedSchema, assistantSchema, assistantUpdatedSchema, callResponseSchema } from './responses.js';
import { assistantIdParams, chatBody, createAssistantBody, normalizeChatKeys, updateAssistantBody, type ChatBody } from './schemas.js';
import { assistantListItem, assistantResponse, type AssistantService } from './service.js';
import { messageSchema } from '../api/schemas.js';

const FILTERS_HELP = 'The `filters` query parameter must be a JSON object, e.g. {"project":"demo"}.';

const SCOPES = ['visible_to_user', 'created_by_user', 'marketplace', 'project_with_marketplace', 'all', 'templates'] as const;

const listQuery = pageQuery(12).extend({
  scope: z.enum(SCOPES).default('visible_to_user'),
  minimal_response: boolQuery(false),
  filters: z.string().max(2000).optional(),
});
const slugParams = z.object({ slug: z.string().min(1).max(300) });
const slugQuery = z.object({ project: z.string().max(200).optional() });
const callBody = z.preprocess(normalizeChatKeys, chatBody);

export interface AssistantRouteDeps extends BackgroundDeps {
  config: Config;
  calls: AssistantCalls;
}

export function assistantRoutes(deps: AssistantRouteDeps): Route[] {
  const { assistants } = deps;
  const tags = ['assistants'];
  const byId = (path: string, summary: string) =>
    defineRoute({
      method: 'POST',
      path,
      tags,
      summary,
      startsRun: true,
      params: assistantIdParams,
      body: callBody,
      responses: { 200: callResponseSchema },
      stream: streamChunkSchema,
      errors: [400, 403, 404, 409, 502, 503, 504],
      handler: async (input) => callAssistant(deps, await assistants.getReadable(input.params.assistant_id, input.user), input),
    });

  return [
    defineRoute({
      method: 'GET',
      path: '/assistants',
      tags,
      summary: 'List assistants visible to the caller',
      query: listQuery,
      responses: { 200: pageSchema(z.union([assistantSchema, assistantListItemSchema])) },
      errors: [400],
      async handler({ query: q, user }) {
        const { rows, total } = await assistants.list(user, q.scope, parseFilters(q.filters, FILTERS_HELP), q.page, q.per_page);
        const items = rows.map((a) => (q.minimal_response ? assistantListItem(a, user) : assistantResponse(a, user)));
        return pageOf(items, total, q.page, q.per_page);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/assistants/id/:assistant_id',
      tags,
      summary: 'An assistant by id',
      params: assistantIdParams,
      responses: { 200: assistantSchema },
      errors: [403, 404],
      handler: async ({ params, user }) => assistantResponse(await assistants.getReadable(params.assistant_id, user), user),
    }),
    defineRoute({
      method: 'GET',
      path: '/assistants/slug/:slug',
      tags,
      summary: 'An assistant by slug (unique per project)',
      params: slugParams,
      query: slugQuery,
      responses: { 200: assistantSchema },
      errors: [403, 404],
      handler: async ({ params, query, user }) => assistantResponse(await assistants.bySlug(params.slug, query.project, user), user),
    }),
    defineRoute({
      method: 'POST',
      path: '/assistants',
      tags,
      summary: 'Create an assistant',
      body: createAssistantBody,
      responses: { 200: assistantSavedSchema },
      errors: [400, 403],
      async handler({ body, user }) {
        const a = await assistants.create(body, user);
        return { message: 'Specified assistant saved', assistantId: a.id, validation: null };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/assistants/:assistant_id',
      tags,
      summary: 'Update an assistant (only the fields sent)',
      params: assistantIdParams,
      body: updateAssistantBody,
      responses: { 200: assistantUpdatedSchema },
      errors: [400, 403, 404],
      async handler({ params, body, user }) {
        await assistants.update(params.assistant_id, body, user);
        return { message: 'Specified assistant updated', validation: null };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/assistants/:assistant_id',
      tags,
      summary: 'Delete an assistant',
      params: assistantIdParams,
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ params, user }) {
        await assistants.delete(params.assistant_id, user);
        return { message: 'Specified assistant removed' };
      },
    }),
    byId('/assistants/:assistant_id/model', 'Call an assistant (stream: true → SSE, or NDJSON with Accept: application/x-ndjson)'),
    byId('/assistants/:assistant_id/chat', 'Alias of POST /assistants/{id}/model'),
    defineRoute({
      method: 'POST',
      path: '/assistants/slug/:slug/model',
      tags,
      summary: 'Call an assistant by slug',
      startsRun: true,
      params: slugParams,
      query: slugQuery,
      body: callBody,
      responses: { 200: callResponseSchema },
      stream: streamChunkSchema,
      errors: [400, 403, 404, 409, 502, 503, 504],
      handler: async (input) => callAssistant(deps, await assistants.bySlug(input.params.slug, input.query.project, input.user), input),
    }),
  ];
}

/** What the call needs of a call route's input (the by-id and by-slug routes differ only in how they find the assistant). */
type CallInput = Omit<HandlerInput<unknown, unknown, ChatBody, { 200: typeof callResponseSchema }, typeof streamChunkSchema, 'user'>, 'params' | 'query'>;

async function callAssistant(deps: AssistantRouteDeps, assistant: AssistantRecord, input: CallInput) {
  const { body, user, req } = input;
  const propagated = body.propagate_headers ? extractPropagatedHeaders(req.headers, limitsFromConfig(deps.config)) : null;
  // Fair use before anything is stored; a background task also takes a concurrency slot (its task id).
  const taskId = body.background_task ? newRowId() : undefined;
  await input.admission.admit(assistant.project, taskId);
  const prepared = await deps.calls.prepare(assistant, body, user, propagated, req.id);
  if (taskId) return startBackgroundTask(deps, prepared, taskId);
  if (body.stream) return input.stream(callStream(deps.calls, prepared, input.signal, input.controller), { onError: failedChunk });
  // Non-stream: a client that hangs up cancels the model call too (input.signal).
  const r = await deps.calls.complete(prepared, input.signal, { controller: input.controller });
  if (!r.success) throw callError(r);
  return new Reply(200, callResponse(r), { 'server-timing': `app;dur=${input.reply.elapsedTime.toFixed(2)}, llm;dur=${(r.llmMs ?? 0).toFixed(2)}` });
}

/** The call's run events as the reference's chunks, ending with the last chunk (none when the client went away). */
async function* callStream(calls: AssistantCalls, p: PreparedCall, signal: AbortSignal, controller: AbortController): AsyncGenerator<StreamEvent<StreamChunk>> {
  let seq = 0;
  const run = calls.run(p, signal, { controller });
  for (;;) {
    const step = await run.next();
    if (step.done) {
      if (!step.value.interrupted) yield { id: String(++seq), data: assistantLastChunk(step.value) };
      return;
    }
    const c = assistantChunk(step.value);
    if (c) yield { id: String(++seq), data: c };
  }
}

/** The last chunk when the call failed unexpectedly after the stream started. */
function failedChunk(): StreamChunk {
  return chunk({
    generated: 'The assistant could not complete the request.',
    generated_chunk: '',
    last: true,
    debug: {},
    success: false,
    execution_error: 'stacktrace',
    agent_error: { error_code: 'internal_error', message: 'Internal error', details: null, stacktrace: null },
  });
}
