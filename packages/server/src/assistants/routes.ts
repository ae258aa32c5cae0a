/**
 * HTTP routes of the assistants domain: CRUD (reference §3.1/3.2) and the call
 * (`POST /assistants/{id}/model`, alias `/chat`, and by slug), non-stream, streaming
 * (SSE by default, NDJSON on request) and background.
 */
import { z } from 'zod';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { currentUser, type AuthUser } from '../api/auth.js';
import { pageOf, pageQuery, parseFilters } from '../api/pagination.js';
import { negotiateStreamFormat, openStream } from '../api/stream.js';
import type { AppContext } from '../context.js';
import { extractPropagatedHeaders, limitsFromConfig } from '../mcp/headers.js';
import type { ConversationService } from '../conversations/service.js';
import type { TaskService } from '../tasks/service.js';
import { ASSISTANT_TASK_KIND, type AssistantTaskPayload } from './background.js';
import { callError, callResponse, prepareCall, runCall } from './call.js';
import type { AssistantRecord } from './repo.js';
import { assistantIdParams, chatBody, createAssistantBody, normalizeChatKeys, updateAssistantBody, type ChatBody } from './schemas.js';
import { assistantListItem, assistantResponse, type AssistantService } from './service.js';
import { chunk, type StreamChunk } from './thoughts.js';
import { runAdmission } from '../limits/hook.js';
import { newRowId } from '../store/ids.js';

const FILTERS_HELP = 'The `filters` query parameter must be a JSON object, e.g. {"project":"demo"}.';

const SCOPES = ['visible_to_user', 'created_by_user', 'marketplace', 'project_with_marketplace', 'all', 'templates'] as const;

const listQuery = pageQuery(12).extend({
  scope: z.enum(SCOPES).default('visible_to_user'),
  // The Python SDK sends Python booleans (`True`/`False`); FastAPI accepts any case.
  minimal_response: z.enum(['true', 'false', 'True', 'False', '1', '0']).default('false').transform((v) => v === 'true' || v === 'True' || v === '1'),
  filters: z.string().max(10_000).optional(),
});
const slugParams = z.object({ slug: z.string().min(1).max(300) });
const slugQuery = z.object({ project: z.string().max(200).optional() });
const callBody = z.preprocess(normalizeChatKeys, chatBody);

export interface AssistantDeps {
  assistants: AssistantService;
  conversations: ConversationService;
  tasks: TaskService;
}

export function assistantRoutes(app: FastifyInstance, ctx: AppContext, deps: AssistantDeps): void {
  const { assistants } = deps;
  const tags = ['assistants'];

  app.get('/assistants', { schema: { tags, summary: 'List assistants visible to the caller', querystring: listQuery } }, async (req) => {
    const q = req.query as z.output<typeof listQuery>;
    const user = currentUser(req);
    const { rows, total } = await assistants.list(user, q.scope, parseFilters(q.filters, FILTERS_HELP), q.page, q.per_page);
    const items = rows.map((a) => (q.minimal_response ? assistantListItem(a, user) : assistantResponse(a, user)));
    return pageOf(items, total, q.page, q.per_page);
  });

  app.get('/assistants/id/:assistant_id', { schema: { tags, summary: 'An assistant by id', params: assistantIdParams } }, async (req) => {
    const user = currentUser(req);
    const a = await assistants.getReadable((req.params as z.infer<typeof assistantIdParams>).assistant_id, user);
    return assistantResponse(a, user);
  });

  app.get('/assistants/slug/:slug', { schema: { tags, summary: 'An assistant by slug (unique per project)', params: slugParams, querystring: slugQuery } }, async (req) => {
    const user = currentUser(req);
    const a = await assistants.bySlug((req.params as z.infer<typeof slugParams>).slug, (req.query as z.infer<typeof slugQuery>).project, user);
    return assistantResponse(a, user);
  });

  app.post('/assistants', { schema: { tags, summary: 'Create an assistant', body: createAssistantBody } }, async (req) => {
    const a = await assistants.create(req.body as z.output<typeof createAssistantBody>, currentUser(req));
    return { message: 'Specified assistant saved', assistantId: a.id, validation: null };
  });

  app.put('/assistants/:assistant_id', { schema: { tags, summary: 'Update an assistant (only the fields sent)', params: assistantIdParams, body: updateAssistantBody } }, async (req) => {
    await assistants.update((req.params as z.infer<typeof assistantIdParams>).assistant_id, req.body as z.output<typeof updateAssistantBody>, currentUser(req));
    return { message: 'Specified assistant updated', validation: null };
  });

  app.delete('/assistants/:assistant_id', { schema: { tags, summary: 'Delete an assistant', params: assistantIdParams } }, async (req) => {
    await assistants.delete((req.params as z.infer<typeof assistantIdParams>).assistant_id, currentUser(req));
    return { message: 'Specified assistant removed' };
  });

  const call = (resolve: (req: FastifyRequest) => Promise<AssistantRecord>) => async (req: FastifyRequest, reply: FastifyReply) =>
    callAssistant(ctx, deps, await resolve(req), req, reply);
  const byId = (req: FastifyRequest) => assistants.getReadable((req.params as z.infer<typeof assistantIdParams>).assistant_id, currentUser(req));
  const callSchema = { tags, params: assistantIdParams, body: callBody };
  // Assistant calls check fair use in callAssistant (limits/), once the assistant's project is known.
  const startsRun = { startsRun: true };
  app.post('/assistants/:assistant_id/model', { config: startsRun, schema: { ...callSchema, summary: 'Call an assistant (stream: true → SSE, or NDJSON with Accept: application/x-ndjson)' } }, call(byId));
  app.post('/assistants/:assistant_id/chat', { config: startsRun, schema: { ...callSchema, summary: 'Alias of POST /assistants/{id}/model' } }, call(byId));
  app.post(
    '/assistants/slug/:slug/model',
    { config: startsRun, schema: { tags, summary: 'Call an assistant by slug', params: slugParams, querystring: slugQuery, body: callBody } },
    call((req) => assistants.bySlug((req.params as z.infer<typeof slugParams>).slug, (req.query as z.infer<typeof slugQuery>).project, currentUser(req))),
  );
}

async function callAssistant(ctx: AppContext, deps: AssistantDeps, assistant: AssistantRecord, req: FastifyRequest, reply: FastifyReply) {
  const user = currentUser(req);
  const body = req.body as ChatBody;
  const propagated = body.propagate_headers ? extractPropagatedHeaders(req.headers, limitsFromConfig(ctx.config)) : null;
  // Fair use before anything is stored; a background task also takes a concurrency slot (its task id).
  const taskId = body.background_task ? newRowId() : undefined;
  const admission = runAdmission(ctx, req);
  await admission.admit(assistant.project, taskId);
  if (taskId) {
    try {
      return await startBackgroundTask(ctx, deps, assistant, body, user, propagated, req.id, taskId);
    } catch (err) {
      await admission.rollback();
      throw err;
    }
  }

  const prepared = await prepareCall(ctx, deps.conversations, assistant, body, user, propagated, req.id);

  if (body.stream) {
    const format = negotiateStreamFormat(req);
    const stream = openStream(req, reply, format, { headers: { 'server-timing': `app;dur=${reply.elapsedTime.toFixed(2)}` } });
    let seq = 0;
    const emit = (c: StreamChunk) => stream.write({ id: String(++seq), data: c });
    try {
      const r = await runCall(ctx, deps.conversations, prepared, stream.signal, emit, { controller: stream.controller });
      if (!r.interrupted) {
        await emit(
          chunk({
            generated: typeof r.generated === 'string' ? r.generated : JSON.stringify(r.generated),
            generated_chunk: '',
            time_elapsed: r.timeElapsed,
            last: true,
            debug: {},
            success: r.success,
            execution_error: r.success ? null : r.errorCode,
            agent_error: r.success ? null : { error_code: r.errorCode, message: r.errorMessage, details: null, stacktrace: null },
          }),
        );
      }
    } catch (err) {
      req.log.error({ err }, 'assistant stream failed');
      await emit(
        chunk({
          generated: 'The assistant could not complete the request.',
          generated_chunk: '',
          last: true,
          debug: {},
          success: false,
          execution_error: 'stacktrace',
          agent_error: { error_code: 'internal_error', message: 'Internal error', details: null, stacktrace: null },
        }),
      );
    } finally {
      stream.end();
    }
    return reply;
  }

  // Non-stream: a client that hangs up cancels the model call too.
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort('client disconnected');
  };
  reply.raw.on('close', onClose);
  try {
    const r = await runCall(ctx, deps.conversations, prepared, controller.signal, undefined, { controller });
    reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(2)}, llm;dur=${(r.llmMs ?? 0).toFixed(2)}`);
    if (!r.success) throw callError(r);
    return callResponse(r);
  } finally {
    reply.raw.off('close', onClose);
  }
}

/** A background call: the task row and its run (the caller took the fair-use slot for `taskId`). */
async function startBackgroundTask(
  ctx: AppContext,
  deps: AssistantDeps,
  assistant: AssistantRecord,
  body: ChatBody,
  user: AuthUser,
  propagated: Record<string, string> | null,
  requestId: string,
  taskId: string,
) {
  const prepared = await prepareCall(ctx, deps.conversations, assistant, body, user, propagated, requestId);
  const payload: AssistantTaskPayload = {
    assistantId: assistant.id,
    body: { ...body, stream: false, background_task: false },
    user: { ...user, token: undefined },
    conversationId: prepared.conversationId,
    propagatedHeaders: propagated,
    attempts: 0,
  };
  const task = await deps.tasks.create(ASSISTANT_TASK_KIND, user, body.text ?? '', payload, taskId);
  await ctx.runs.enqueue(ASSISTANT_TASK_KIND, task.id, null);
  return {
    generated: 'Task is running in the background',
    timeElapsed: 0,
    tokensUsed: null,
    usage: null,
    thoughts: [],
    taskId: task.id,
    success: true,
    agentError: null,
    toolErrors: null,
  };
}
