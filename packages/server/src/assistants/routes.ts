/**
 * Routes of the assistants domain: listing (scopes, filters, sort, templates), lookup, CRUD
 * (reference §3.1/3.2) and the calls — `POST /assistants/{id}/model` (alias `/chat`), by slug,
 * an inline definition (`/assistants/virtual/model`) and the resumption of a call paused for a
 * tool approval (`/model/tool-call/resume`): non-stream, streaming (SSE by default, NDJSON on
 * request) and background.
 */
import { z } from 'zod';
import { pageOf, pageQuery, parseFilters } from '../api/pagination.js';
import { defineRoute, Reply, type HandlerInput, type Route, type StreamEvent } from '../api/route.js';
import { boolQuery, messageSchema, pageSchema } from '../api/schemas.js';
import type { Config } from '../config/config.js';
import { extractPropagatedHeaders, limitsFromConfig } from '../mcp/headers.js';
import { mcpServerDetailsSchema } from '../mcp/schemas.js';
import { newRowId } from '../store/ids.js';
import { chunk, streamChunkSchema, type StreamChunk } from '../wire/chunk.js';
import { assistantChunk, assistantLastChunk } from '../wire/run-events.js';
import { interactiveRequest, type ApprovalStore } from './approvals.js';
import { startBackgroundTask, type BackgroundDeps } from './background.js';
import { callError, callResponse, type AssistantCalls, type CallResult, type PreparedCall } from './call.js';
import { filterTemplates, prebuiltResponse, templatesFor } from './prebuilt.js';
import { LIST_SCOPES, SORT_FIELDS, type AssistantRecord } from './repo.js';
import { assistantListItemSchema, assistantSavedSchema, assistantSchema, assistantUpdatedSchema, callResponseSchema, prebuiltAssistantSchema } from './responses.js';
import {
  assistantIdParams,
  BUILTIN_SUBAGENT_IDS,
  chatBody,
  CONTEXT_TYPES,
  createAssistantBody,
  normalizeChatKeys,
  promptVariableSchema,
  toolPermissionsSchema,
  updateAssistantBody,
  type ChatBody,
} from './schemas.js';
import { assistantListItem, assistantResponse, type AssistantService } from './service.js';

const FILTERS_DETAILS = 'Filters must be a valid encoded JSON object.';
const FILTERS_HELP = 'Please check the filters and ensure they are in the correct format. ';

const inputShould = (values: readonly string[]) =>
  `Input should be ${values.length > 1 ? `${values.slice(0, -1).map((v) => `'${v}'`).join(', ')} or '${values.at(-1)}'` : `'${values[0]}'`}`;

const listQuery = pageQuery(12, 10_000).extend({
  scope: z.enum(LIST_SCOPES, { error: inputShould(['project_with_marketplace', 'visible_to_user', 'created_by_user', 'marketplace', 'all', 'templates']) }).default('visible_to_user'),
  minimal_response: boolQuery(false),
  filters: z.string().max(2000).optional(),
  sort_by: z.enum(SORT_FIELDS, { error: inputShould(SORT_FIELDS) }).optional(),
  sort_order: z.enum(['asc', 'desc'], { error: inputShould(['asc', 'desc']) }).optional(),
});
const scopeQuery = z.object({
  scope: z.enum(LIST_SCOPES, { error: inputShould(['project_with_marketplace', 'visible_to_user', 'created_by_user', 'marketplace', 'all', 'templates']) }).default('visible_to_user'),
});
const slugParams = z.object({ slug: z.string().min(1).max(300) });
const slugQuery = z.object({ project: z.string().max(200).optional() });
const callBody = z.preprocess(normalizeChatKeys, chatBody);

/** An unsaved assistant definition plus the call (reference `VirtualAssistantChatRequest`). */
const virtualBody = z.preprocess(
  normalizeChatKeys,
  chatBody
    .extend({
      system_prompt: z.string().max(200_000).default(''),
      llm_model_type: z.string().max(200).nullish(),
      temperature: z.number().min(0).max(2).nullish(),
      top_p: z.number().min(0).max(1).nullish(),
      tools_tokens_size_limit: z.number().int().positive().nullish(),
      toolkits: z.array(z.record(z.string(), z.unknown())).default([]),
      context: z.array(z.object({ context_type: z.enum(CONTEXT_TYPES), name: z.string() }).passthrough()).default([]),
      mcp_servers: z.array(mcpServerDetailsSchema).max(50).default([]),
      skill_ids: z.array(z.string()).default([]),
      assistant_ids: z.array(z.string().min(1).max(100)).max(50).default([]),
      enabled_builtin_subagents: z.array(z.enum(BUILTIN_SUBAGENT_IDS)).default([]),
      agent_mode: z.enum(['general', 'plan_execute']).default('general'),
      plan_prompt: z.string().nullish(),
      smart_tool_selection_enabled: z.boolean().default(false),
      prompt_variables: z.array(promptVariableSchema).default([]),
      tool_permissions: toolPermissionsSchema.nullish(),
    })
    .meta({ id: 'VirtualAssistantChat' }),
);

const resumeBody = z
  .object({
    conversation_id: z.string().min(1).max(100),
    action: z.enum(['allow', 'deny'], { error: inputShould(['allow', 'deny']) }),
    stream: z.boolean().default(true),
  })
  .meta({ id: 'ToolCallResume' });

export interface AssistantRouteDeps extends BackgroundDeps {
  config: Config;
  calls: AssistantCalls;
  approvals: ApprovalStore;
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
      handler: async (input) => callAssistant(deps, await assistants.getReadable(input.params.assistant_id, input.user), input.body, input),
    });

  return [
    defineRoute({
      method: 'GET',
      path: '/assistants',
      tags,
      summary: 'List assistants by scope (visible_to_user, created_by_user, marketplace, project_with_marketplace, all, templates)',
      description:
        '`filters` is a URL-encoded JSON object (project, created_by, search, shared, is_global, id, slug, categories, created_date); `sort_by` usage|likes|dislikes|name with `sort_order` asc|desc.',
      query: listQuery,
      responses: { 200: pageSchema(z.union([assistantSchema, assistantListItemSchema, prebuiltAssistantSchema])) },
      errors: [400],
      async handler({ query: q, user }) {
        const filters = parseFilters(q.filters, FILTERS_DETAILS, FILTERS_HELP);
        if (q.scope === 'templates') {
          const all = filterTemplates(templatesFor(user), filters);
          const items = all.slice(q.page * q.per_page, (q.page + 1) * q.per_page).map((x) => prebuiltResponse(x, user));
          return pageOf(items, all.length, q.page, q.per_page);
        }
        const { rows, total } = await assistants.list(user, { scope: q.scope, filters, page: q.page, perPage: q.per_page, sortBy: q.sort_by, sortOrder: q.sort_order });
        const items = rows.map((a) => (q.minimal_response ? assistantListItem(a, user) : assistantResponse(a, user)));
        return pageOf(items, total, q.page, q.per_page);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/assistants/users',
      tags,
      summary: 'The creators of the assistants a scope shows',
      query: scopeQuery,
      responses: { 200: z.array(z.object({ id: z.string(), username: z.string(), name: z.string() })) },
      handler: ({ query, user }) => (query.scope === 'templates' ? [] : assistants.creators(user, query.scope)),
    }),
    defineRoute({
      method: 'GET',
      path: '/assistants/id/:assistant_id',
      tags,
      summary: 'An assistant by id',
      params: assistantIdParams,
      responses: { 200: assistantSchema },
      errors: [403, 404],
      handler: async ({ params, user }) => assistants.detail(await assistants.getReadable(params.assistant_id, user), user),
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
      handler: async ({ params, query, user }) => assistants.detail(await assistants.bySlug(params.slug, query.project, user), user),
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
      summary: 'Update an assistant (only the fields sent); a change of a versioned field makes a new version',
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
      summary: 'Delete an assistant (its versions, reactions and mappings go with it)',
      params: assistantIdParams,
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ params, user }) {
        await assistants.delete(params.assistant_id, user);
        return { message: 'Specified assistant removed' };
      },
    }),
    byId('/assistants/:assistant_id/model', 'Call an assistant (stream: true → SSE, or NDJSON with Accept: application/x-ndjson); `version` runs a historical version'),
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
      handler: async (input) => callAssistant(deps, await assistants.bySlug(input.params.slug, input.query.project, input.user), input.body, input),
    }),
    defineRoute({
      method: 'POST',
      path: '/assistants/virtual/model',
      tags,
      summary: 'Call an unsaved assistant defined in the body (never stored, no conversation kept)',
      startsRun: true,
      body: virtualBody,
      responses: { 200: callResponseSchema },
      stream: streamChunkSchema,
      errors: [400, 403, 404, 409, 502, 503, 504],
      async handler(input) {
        const b = input.body;
        const project = input.user.projects[0] ?? input.user.adminProjects[0] ?? 'demo';
        const now = new Date().toISOString();
        const record: AssistantRecord = {
          id: '',
          name: 'virtual',
          description: '',
          system_prompt: b.system_prompt,
          llm_model_type: b.llm_model_type ?? null,
          project,
          shared: false,
          slug: null,
          temperature: b.temperature ?? null,
          top_p: b.top_p ?? null,
          data: {
            toolkits: b.toolkits,
            context: b.context,
            mcp_servers: b.mcp_servers,
            skill_ids: b.skill_ids,
            assistant_ids: b.assistant_ids,
            enabled_builtin_subagents: [...new Set(b.enabled_builtin_subagents)],
            agent_mode: b.agent_mode,
            plan_prompt: b.plan_prompt ?? null,
            prompt_variables: b.prompt_variables,
            tools_tokens_size_limit: b.tools_tokens_size_limit ?? null,
            tool_permissions: b.tool_permissions ?? null,
          },
          created_by: { id: input.user.id, username: input.user.username, name: input.user.name },
          date: now,
          update_date: now,
          is_global: false,
          categories: [],
          version_count: 1,
          unique_users_count: 0,
          unique_likes_count: 0,
          unique_dislikes_count: 0,
        };
        const body: ChatBody = { ...b, system_prompt: null, background_task: false, version: null, save_history: false };
        return callAssistant(deps, record, body, input, { virtual: true });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/assistants/:assistant_id/model/tool-call/resume',
      tags,
      summary: 'Approve ("allow") or reject ("deny") the tool call a paused call waits for, and continue it (streams like /model)',
      startsRun: true,
      params: assistantIdParams,
      body: resumeBody,
      responses: { 200: callResponseSchema },
      stream: streamChunkSchema,
      errors: [400, 403, 404, 409, 502, 503, 504],
      async handler(input) {
        const { params, body, user, req } = input;
        const record = await assistants.getReadable(params.assistant_id, user);
        await input.admission.admit(record.project);
        const paused = await deps.approvals.claim(record.id, body.conversation_id, user);
        const prepared = await deps.calls.prepareResume(record, paused, body.action === 'allow', user, req.id);
        return answer(deps, prepared, input, body.stream);
      },
    }),
  ];
}

/** What a call needs of a call route's input besides its body (the call routes differ in how they find the assistant and in their bodies). */
type CallInput = Omit<HandlerInput<unknown, unknown, unknown, { 200: typeof callResponseSchema }, typeof streamChunkSchema, 'user'>, 'params' | 'query' | 'body'>;

async function callAssistant(deps: AssistantRouteDeps, assistant: AssistantRecord, body: ChatBody, input: CallInput, opts: { virtual?: boolean } = {}) {
  const { user, req } = input;
  const propagated = body.propagate_headers ? extractPropagatedHeaders(req.headers, limitsFromConfig(deps.config)) : null;
  // Fair use before anything is stored; a background task also takes a concurrency slot (its task id).
  const taskId = body.background_task && !opts.virtual ? newRowId() : undefined;
  await input.admission.admit(assistant.project, taskId);
  const prepared = await deps.calls.prepare(assistant, body, user, propagated, req.id, opts);
  if (taskId) return startBackgroundTask(deps, prepared, taskId);
  return answer(deps, prepared, input, body.stream);
}

/** Streams or answers a prepared call. */
async function answer(deps: AssistantRouteDeps, prepared: PreparedCall, input: CallInput, stream: boolean) {
  if (stream) return input.stream(callStream(deps.calls, prepared, input.signal, input.controller), { onError: failedChunk });
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
      if (!step.value.interrupted) yield { id: String(++seq), data: lastChunk(step.value) };
      return;
    }
    const c = assistantChunk(step.value);
    if (c) yield { id: String(++seq), data: c };
  }
}

function lastChunk(r: CallResult): StreamChunk {
  const c = assistantLastChunk(r);
  return r.paused ? { ...c, interactive_request: interactiveRequest(r.paused) } : c;
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
