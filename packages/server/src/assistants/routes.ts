/** HTTP routes of assistants (reference §3): CRUD, slug lookup, and the call (`/model`, alias `/chat`). */
import { z } from 'zod';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { currentUser } from '../api/auth.js';
import { badRequest, notFound, unprocessable } from '../api/errors.js';
import { pageOf } from '../api/pagination.js';
import { negotiateStreamFormat, openStream } from '../api/stream.js';
import type { AppContext } from '../context.js';
import { extractPropagatedHeaders, limitsFromConfig } from '../mcp/headers.js';
import type { ConversationService } from '../conversations/service.js';
import type { TaskService } from '../tasks/service.js';
import { assistantIdParams, chatBody, createAssistantBody, normalizeChatKeys, updateAssistantBody, type ChatBody } from './schemas.js';
import { assistantListItem, assistantResponse, type AssistantService } from './service.js';
import { callError, callResponse, prepareCall, runCall } from './call.js';
import { chunk } from './thoughts.js';
import { ASSISTANT_TASK, type AssistantTaskPayload } from './task-runner.js';

const listQuery = z.object({
  page: z.coerce.number().int().min(0).default(0),
  per_page: z.coerce.number().int().min(1).max(100).default(12),
  scope: z.enum(['visible_to_user', 'created_by_user', 'marketplace', 'project_with_marketplace', 'all', 'templates']).default('visible_to_user'),
  // the Python SDK sends Python booleans (`True`/`False`); FastAPI accepts any case
  minimal_response: z.enum(['true', 'false', 'True', 'False', '1', '0']).default('false'),
  filters: z.string().max(10_000).optional(),
});

const slugParams = z.object({ '*': z.string().min(1).max(300) });

export interface AssistantDeps {
  ctx: AppContext;
  assistants: AssistantService;
  conversations: ConversationService;
  tasks: TaskService;
}

function parseFilters(raw: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  try {
    const v = JSON.parse(raw);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw badRequest('Invalid filters', 'The filters parameter must be a URL-encoded JSON object, e.g. filters={"project":"demo"}.');
}

export function assistantRoutes(app: FastifyInstance, d: AssistantDeps): void {
  const { ctx, assistants } = d;

  app.get('/assistants', { schema: { tags: ['assistants'], summary: 'Assistants visible to the caller (0-based paging)', querystring: listQuery } }, async (req) => {
    const q = req.query as z.infer<typeof listQuery>;
    const user = currentUser(req);
    const { rows, total } = await assistants.list(user, q.scope, parseFilters(q.filters), q.page, q.per_page);
    const minimal = ['true', 'True', '1'].includes(q.minimal_response);
    return pageOf(rows.map((a) => (minimal ? assistantListItem(a, user) : assistantResponse(a, user))), total, q.page, q.per_page);
  });

  app.get('/assistants/id/:assistant_id', { schema: { tags: ['assistants'], summary: 'An assistant by id', params: assistantIdParams } }, async (req) => {
    const user = currentUser(req);
    return assistantResponse(await assistants.getReadable((req.params as { assistant_id: string }).assistant_id, user), user);
  });

  app.get(
    '/assistants/slug/*',
    { schema: { tags: ['assistants'], summary: 'An assistant by slug (?project= narrows it)', params: slugParams, querystring: z.object({ project: z.string().optional() }) } },
    async (req) => {
      const user = currentUser(req);
      const slug = (req.params as { '*': string })['*'];
      return assistantResponse(await assistants.bySlug(slug, (req.query as { project?: string }).project, user), user);
    },
  );

  app.post('/assistants', { schema: { tags: ['assistants'], summary: 'Create an assistant', body: createAssistantBody } }, async (req) => {
    const a = await assistants.create(req.body as z.output<typeof createAssistantBody>, currentUser(req));
    return { message: 'Specified assistant saved', assistantId: a.id, validation: null };
  });

  app.put('/assistants/:assistant_id', { schema: { tags: ['assistants'], summary: 'Update an assistant (sent fields only)', params: assistantIdParams, body: updateAssistantBody } }, async (req) => {
    await assistants.update((req.params as { assistant_id: string }).assistant_id, req.body as z.output<typeof updateAssistantBody>, currentUser(req));
    return { message: 'Specified assistant updated', validation: null };
  });

  app.delete('/assistants/:assistant_id', { schema: { tags: ['assistants'], summary: 'Delete an assistant', params: assistantIdParams } }, async (req) => {
    await assistants.delete((req.params as { assistant_id: string }).assistant_id, currentUser(req));
    return { message: 'Specified assistant removed' };
  });

  type Resolve = (req: FastifyRequest, user: ReturnType<typeof currentUser>) => ReturnType<AssistantService['getReadable']>;
  const makeCall = (resolve: Resolve) => async (req: FastifyRequest, reply: FastifyReply) => {
    const user = currentUser(req);
    const parsed = chatBody.safeParse(normalizeChatKeys(req.body ?? {}));
    if (!parsed.success) throw zodTo422(parsed.error);
    const body: ChatBody = parsed.data;
    const assistant = await resolve(req, user);
    const propagated = body.propagate_headers ? extractPropagatedHeaders(req.headers, limitsFromConfig(ctx.config)) : null;
    const prepared = await prepareCall(ctx, d.conversations, assistant, body, user, propagated, req.id);

    if (body.background_task && !body.stream) {
      const payload: AssistantTaskPayload = { assistantId: assistant.id, body: { ...body, conversation_id: prepared.conversationId }, user };
      const task = await d.tasks.create(ASSISTANT_TASK, user, body.text ?? '', payload);
      await ctx.runs.enqueue(ASSISTANT_TASK, task.id, { propagatedHeaders: propagated });
      return { generated: 'Task is running in the background', timeElapsed: 0, tokensUsed: null, usage: null, thoughts: [], taskId: task.id, success: true, agentError: null, toolErrors: null };
    }

    if (!body.stream) {
      const ac = new AbortController();
      const onClose = () => {
        if (!reply.raw.writableFinished) ac.abort('client disconnected');
      };
      req.raw.socket?.once('close', onClose);
      try {
        const r = await runCall(ctx, d.conversations, prepared, ac.signal);
        if (!r.success) throw callError(r);
        reply.header('server-timing', `llm;dur=${(r.timeElapsed * 1000).toFixed(1)}`);
        return callResponse(r);
      } finally {
        req.raw.socket?.off('close', onClose);
      }
    }

    const writer = openStream(req, reply, negotiateStreamFormat(req));
    let seq = 0;
    const emit = (c: ReturnType<typeof chunk>) => writer.write({ id: String(++seq), data: c });
    try {
      const r = await runCall(ctx, d.conversations, prepared, writer.signal, emit);
      await emit(
        chunk({
          last: true,
          generated: typeof r.generated === 'string' || r.success === false ? r.generated : JSON.stringify(r.generated),
          generated_chunk: '',
          time_elapsed: r.timeElapsed,
          debug: {},
          success: r.success,
          execution_error: r.success ? null : r.errorCode,
          agent_error: r.success ? null : { error_code: r.errorCode, message: r.errorMessage },
        }),
      );
    } catch (err) {
      req.log.error({ err }, 'assistant stream failed');
      await emit(chunk({ last: true, generated: 'The assistant failed unexpectedly.', generated_chunk: '', success: false, execution_error: 'stacktrace' }));
    } finally {
      writer.end();
    }
    return reply;
  };

  const call = makeCall((req, user) => assistants.getReadable((req.params as { assistant_id: string }).assistant_id, user));
  for (const url of ['/assistants/:assistant_id/model', '/assistants/:assistant_id/chat']) {
    app.post(url, { schema: { tags: ['assistants'], summary: 'Call an assistant (stream: SSE by default, NDJSON with Accept: application/x-ndjson)', params: assistantIdParams } }, call);
  }
  // POST /assistants/slug/{slug:path}/model (reference §3; the Python SDK's chat_by_slug)
  app.post(
    '/assistants/slug/*',
    { schema: { tags: ['assistants'], summary: 'Call an assistant by slug: POST …/slug/{slug}/model (?project= narrows it)', params: slugParams, querystring: z.object({ project: z.string().optional() }) } },
    makeCall((req, user) => {
      const m = /^(.+)\/(?:model|chat)$/.exec((req.params as { '*': string })['*']);
      if (!m) throw notFound('Route', undefined, 'Call an assistant by slug with POST /v1/assistants/slug/{slug}/model.');
      return assistants.bySlug(m[1], (req.query as { project?: string }).project, user);
    }),
  );
}

function zodTo422(err: z.ZodError) {
  const details = err.issues.map((i) => ({ loc: i.path.map(String).join('.') || 'request', msg: i.message, type: i.code }));
  return unprocessable(details.map((x) => `${x.loc}: ${x.msg}`).join('; '), details);
}
