/** Routes: workflow CRUD (/v1/workflows...) and executions (/v1/workflows/{id}/executions...). */
import { z } from 'zod';
import { notFound } from '../api/errors.js';
import { pageOf, pageQuery, parseFilters } from '../api/pagination.js';
import { defineRoute, type Route } from '../api/route.js';
import { boolQuery, intQuery, messageSchema, pageSchema } from '../api/schemas.js';
import type { Config } from '../config/config.js';
import type { EventBus } from '../events/bus.js';
import { extractPropagatedHeaders, limitsFromConfig } from '../mcp/headers.js';
import { streamChunkSchema } from '../wire/chunk.js';
import { executionStream } from './execution-stream.js';
import { executionSchema, executionThoughtSchema, stateSchema, transitionSchema, workflowSavedSchema, workflowSchema } from './responses.js';
import type { WorkflowService } from './service.js';

const FILTERS_HELP = 'filters must be a URL-encoded JSON object, e.g. {"project":"demo"}.';

const workflowBody = z
  .object({
    name: z.string().min(1).max(500),
    description: z
      .string()
      .max(20_000)
      .nullish()
      .transform((v) => v ?? ''),
    project: z.string().min(1).max(200),
    yaml_config: z.string().default(''),
    shared: z.boolean().default(true),
    mode: z.enum(['Sequential', 'Autonomous']).default('Sequential'),
    icon_url: z.string().max(2000).nullish(),
    start_hint: z.string().max(2000).nullish(),
  })
  .meta({ id: 'WorkflowCreate' });

/** The reference puts no bound on per_page; ours is generous (its UI asks for 200 and more). */
export const MAX_PER_PAGE = 1000;

const errorFormatQuery = z.object({ error_format: z.enum(['string', 'json']).default('string') });

const listQuery = pageQuery(10, MAX_PER_PAGE).extend({
  filters: z.string().max(2000).optional(),
  project: z.string().max(200).optional(),
  filter_by_user: z.string().optional(),
  minimal_response: z.string().optional(),
  scope: z.string().optional(),
});

const executionBody = z
  .object({
    /** A string, or any JSON value (the Python SDK sends null when absent). */
    user_input: z.unknown().optional(),
    file_name: z.string().nullish(),
    file_names: z.array(z.string()).max(20).nullish(),
    propagate_headers: z.boolean().default(false),
    stream: z.boolean().default(false),
    conversation_id: z.string().max(100).nullish(),
    session_id: z.string().max(200).nullish(),
    disable_cache: z.boolean().optional(),
    tags: z.array(z.string().max(200)).max(50).nullish(),
    delete_on_completion: z.boolean().optional(),
  })
  .meta({ id: 'WorkflowExecutionCreate' });

const resumeQuery = z.object({ propagate_headers: boolQuery(false), stream: boolQuery(false), disable_cache: z.string().optional() });
const resumeBody = z.object({ user_input: z.unknown().optional(), file_names: z.array(z.string()).max(20).nullish() }).nullish();
const editOutputBody = z.object({ state_id: z.string().min(1), output: z.string().min(1) });
const requestChangesBody = z.object({ original_output: z.string(), request: z.string().min(1) });

const idParams = z.object({ workflow_id: z.string().min(1).max(100) });
const versionParams = idParams.extend({ version_number: intQuery() });
const compareParams = idParams.extend({ v1: intQuery(), v2: intQuery() });

const prebuiltSchema = workflowSchema
  .extend({ id: z.null(), date: z.null(), update_date: z.null(), slug: z.string(), video_link: z.string().nullable() })
  .meta({ id: 'WorkflowTemplate' });

const versionSchema = z
  .object({
    id: z.string(),
    workflow_id: z.string(),
    version_number: z.number().int(),
    created_date: z.string(),
    created_by: z.object({ user_id: z.string(), username: z.string(), name: z.string() }).nullable(),
    name: z.string(),
    description: z.string(),
    mode: z.string(),
    yaml_config: z.string(),
    icon_url: z.string().nullable(),
    start_hint: z.string().nullable(),
    change_notes: z.string().nullable(),
  })
  .meta({ id: 'WorkflowVersion' });
const execParams = idParams.extend({ execution_id: z.string().min(1).max(100) });
const stateParams = execParams.extend({ state_id: z.string().min(1).max(100) });

const userInputText = (v: unknown) => (v == null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

export interface WorkflowRouteDeps {
  config: Config;
  events: EventBus;
  workflows: WorkflowService;
}

export function workflowRoutes({ config, events, workflows: svc }: WorkflowRouteDeps): Route[] {
  const tags = ['workflows'];
  const mtags = ['workflow marketplace'];
  const etags = ['workflow executions'];
  const streamDeps = {
    events,
    segmentFinal: (id: string, seq: number) => svc.segmentFinal(id, seq),
    get checkMs() {
      return config.workflowStreamCheckMs;
    },
  };
  const lastEventId = (h: unknown) => (typeof h === 'string' ? h : undefined);

  return [
    defineRoute({
      method: 'GET',
      path: '/workflows',
      tags,
      summary: 'List workflows',
      query: listQuery,
      responses: { 200: pageSchema(workflowSchema) },
      errors: [400],
      async handler({ query: q, user }) {
        const filters = parseFilters(q.filters, FILTERS_HELP);
        if (q.project !== undefined && filters.project === undefined) filters.project = q.project;
        if (q.filter_by_user === 'true' && filters.created_by === undefined) filters.created_by = user.id;
        const page = await svc.list(user, q.page, q.per_page, filters, q.scope);
        return { data: page.data.map((r) => svc.toWire(r, user)), pagination: page.pagination };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/workflows/generate',
      tags,
      summary: 'Generate a workflow from a description with the configured model (validated; retried when invalid; persist saves it)',
      body: z
        .object({
          text: z.string().min(1).max(20_000),
          llm_model: z.string().max(200).nullish(),
          persist: z.boolean().default(false),
          guardrail_ids: z.array(z.string()).max(50).nullish(),
        })
        .meta({ id: 'WorkflowGeneratorRequest' }),
      responses: {
        200: z.object({
          workflow_config: z.object({
            name: z.string(),
            description: z.string(),
            project: z.string().nullable(),
            mode: z.string(),
            yaml_config: z.string(),
            shared: z.boolean(),
            assistants: z.array(z.unknown()),
            tools: z.array(z.unknown()),
            states: z.array(z.unknown()),
            supervisor_prompt: z.string(),
            meta_config: z.null(),
          }),
          workflow_id: z.string().optional(),
        }),
      },
      errors: [400, 403, 502, 503, 504],
      handler: ({ body, user, signal }) => svc.generate(user, body, signal),
    }),
    defineRoute({
      method: 'GET',
      path: '/workflows/prebuilt',
      tags,
      summary: 'Prebuilt workflow templates shipped with the product',
      query: z.object({ filters: z.string().max(2000).optional() }),
      responses: { 200: z.array(prebuiltSchema) },
      errors: [400],
      handler: ({ query, user }) =>
        svc.prebuilt(
          user,
          parseFilters(query.filters, 'Filters must be a valid encoded JSON object.', 'Please check the filters and ensure they are in the correct format.'),
        ),
    }),
    defineRoute({
      method: 'GET',
      path: '/workflows/prebuilt/:slug',
      tags,
      summary: 'One prebuilt workflow template',
      params: z.object({ slug: z.string().min(1).max(300) }),
      responses: { 200: prebuiltSchema },
      errors: [404],
      handler: ({ params, user }) => svc.prebuiltBySlug(user, params.slug),
    }),
    defineRoute({
      method: 'POST',
      path: '/workflows/:workflow_id/marketplace/publish/validate',
      tags: mtags,
      summary: 'Check a workflow can be published (stored assistants refused; inline credentials listed)',
      params: idParams,
      responses: {
        200: z.object({ message: z.string(), inline_credentials: z.array(z.record(z.string(), z.unknown())), workflow_id: z.string() }),
      },
      errors: [400, 403, 404],
      handler: ({ params, user }) => svc.validateForMarketplace(user, params.workflow_id),
    }),
    defineRoute({
      method: 'POST',
      path: '/workflows/:workflow_id/marketplace/publish',
      tags: mtags,
      summary: 'Publish a workflow to the marketplace (is_global, 1-3 categories)',
      params: idParams,
      body: z.object({
        categories: z
          .array(z.string().min(1).max(300))
          .min(1)
          .max(3)
          .refine((c) => new Set(c).size === c.length, 'category IDs must be unique'),
      }),
      responses: { 200: workflowSchema },
      errors: [400, 403, 404],
      handler: async ({ params, body, user }) => svc.toWire(await svc.publish(user, params.workflow_id, body.categories), user),
    }),
    defineRoute({
      method: 'POST',
      path: '/workflows/:workflow_id/marketplace/unpublish',
      tags: mtags,
      summary: 'Remove a workflow from the marketplace',
      params: idParams,
      responses: { 200: workflowSchema },
      errors: [403, 404],
      handler: async ({ params, user }) => svc.toWire(await svc.unpublish(user, params.workflow_id), user),
    }),
    defineRoute({
      method: 'GET',
      path: '/workflows/id/:workflow_id',
      tags,
      summary: 'Get a workflow',
      params: idParams,
      responses: { 200: workflowSchema },
      errors: [403, 404],
      handler: async ({ params, user }) => svc.toWire(await svc.get(user, params.workflow_id), user),
    }),
    defineRoute({
      method: 'POST',
      path: '/workflows',
      tags,
      summary: 'Create a workflow (yaml_config is validated)',
      query: errorFormatQuery,
      body: workflowBody,
      responses: { 200: workflowSavedSchema },
      errors: [400, 403],
      async handler({ body, query, user }) {
        const row = await svc.create(user, body, query.error_format);
        return { message: 'Workflow created successfully', data: svc.toWire(row, user) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/workflows/validate',
      tags,
      summary: 'Validate a yaml_config without saving it (the first problem with its line, or the graph of the states)',
      body: z.object({ yaml_config: z.string().max(5_000_000) }).meta({ id: 'WorkflowValidateRequest' }),
      responses: {
        200: z
          .object({
            valid: z.boolean(),
            errors: z.array(z.object({ message: z.string(), line: z.number().int().nullable() })),
            states: z.array(z.object({ id: z.string(), next: z.array(z.string()), interrupt_before: z.boolean() })),
          })
          .meta({ id: 'WorkflowValidation' }),
      },
      handler: ({ body }) => svc.check(body.yaml_config),
    }),
    defineRoute({
      method: 'PUT',
      path: '/workflows/:workflow_id',
      tags,
      summary: 'Update a workflow',
      params: idParams,
      query: errorFormatQuery,
      body: workflowBody,
      responses: { 200: workflowSavedSchema },
      errors: [400, 403, 404],
      async handler({ params, body, query, user }) {
        const row = await svc.update(user, params.workflow_id, body, query.error_format);
        return { message: 'Workflow updated successfully', data: svc.toWire(row, user) };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/workflows/:workflow_id',
      tags,
      summary: 'Delete a workflow and its executions',
      params: idParams,
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ params, user }) {
        await svc.remove(user, params.workflow_id);
        return { message: 'Specified workflow removed' };
      },
    }),

    // ---- versions (the reference's assistant versioning routes, for workflows) ----
    defineRoute({
      method: 'GET',
      path: '/workflows/:workflow_id/versions',
      tags,
      summary: "A workflow's versions, newest first (one per save that changed it)",
      params: idParams,
      query: pageQuery(20, MAX_PER_PAGE),
      responses: { 200: z.object({ versions: z.array(versionSchema), total_versions: z.number().int(), workflow_name: z.string(), workflow_id: z.string() }) },
      errors: [403, 404],
      handler: ({ params, query, user }) => svc.listVersions(user, params.workflow_id, query.page, query.per_page),
    }),
    defineRoute({
      method: 'GET',
      path: '/workflows/:workflow_id/versions/:version_number',
      tags,
      summary: 'One version of a workflow',
      params: versionParams,
      responses: { 200: versionSchema },
      errors: [403, 404],
      handler: ({ params, user }) => svc.getVersion(user, params.workflow_id, params.version_number),
    }),
    defineRoute({
      method: 'GET',
      path: '/workflows/:workflow_id/versions/:v1/compare/:v2',
      tags,
      summary: 'The differences between two versions (DeepDiff shape, yaml_config compared parsed) and a summary',
      params: compareParams,
      responses: {
        200: z.object({
          workflow_id: z.string(),
          version1: versionSchema,
          version2: versionSchema,
          differences: z.record(z.string(), z.record(z.string(), z.unknown())),
          change_summary: z.string(),
        }),
      },
      errors: [403, 404],
      handler: ({ params, user }) => svc.compareVersions(user, params.workflow_id, params.v1, params.v2),
    }),
    defineRoute({
      method: 'POST',
      path: '/workflows/:workflow_id/versions/:version_number/rollback',
      tags,
      summary: 'Make a new version from an old one and apply it (restore)',
      params: versionParams,
      body: z.object({ change_notes: z.string().nullish() }).passthrough().nullish(),
      responses: { 200: messageSchema },
      errors: [400, 403, 404],
      handler: async ({ params, user }) => ({ message: await svc.rollback(user, params.workflow_id, params.version_number) }),
    }),

    // ---- executions ----
    defineRoute({
      method: 'POST',
      path: '/workflows/:workflow_id/executions',
      tags: etags,
      summary: 'Start an execution (stream: true → SSE, or NDJSON with Accept: application/x-ndjson)',
      startsRun: true,
      params: idParams,
      body: executionBody,
      responses: { 200: executionSchema },
      stream: streamChunkSchema,
      errors: [400, 403, 404],
      async handler({ params, body, user, req, admission, signal, stream }) {
        const row = await svc.startExecution(
          user,
          params.workflow_id,
          {
            user_input: userInputText(body.user_input),
            file_name: body.file_name,
            file_names: body.file_names,
            session_id: body.session_id,
            tags: body.tags,
            conversation_id: body.conversation_id,
            propagatedHeaders: body.propagate_headers ? extractPropagatedHeaders(req.headers, limitsFromConfig(config)) : null,
          },
          admission.admit,
        );
        if (!body.stream) {
          await svc.enqueue(row.id);
          return svc.executionToWire(row);
        }
        return stream(
          executionStream(streamDeps, {
            executionId: row.id,
            seq: row.run_seq,
            afterId: lastEventId(req.headers['last-event-id']),
            signal,
            start: () => svc.enqueue(row.id),
          }),
          { headers: { 'x-workflow-execution-id': row.id } },
        );
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/workflows/:workflow_id/executions',
      tags: etags,
      summary: 'List executions',
      params: idParams,
      query: pageQuery(10, MAX_PER_PAGE).extend({ filter_by_project: z.string().optional() }),
      responses: { 200: pageSchema(executionSchema) },
      errors: [403, 404],
      async handler({ params, query, user }) {
        const page = await svc.listExecutions(user, params.workflow_id, query.page, query.per_page);
        return { data: page.data.map((r) => svc.executionToWire(r)), pagination: page.pagination };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/workflows/:workflow_id/executions',
      tags: etags,
      summary: 'Delete the execution history',
      params: idParams,
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ params, user }) {
        await svc.clearExecutions(user, params.workflow_id);
        return { message: 'Execution history cleared' };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/workflows/:workflow_id/executions/:execution_id',
      tags: etags,
      summary: 'Get an execution',
      params: execParams,
      responses: { 200: executionSchema },
      errors: [403, 404],
      handler: async ({ params, user }) => svc.executionToWire(await svc.getExecution(user, params.workflow_id, params.execution_id)),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/workflows/:workflow_id/executions/:execution_id',
      tags: etags,
      summary: 'Delete an execution',
      params: execParams,
      responses: { 200: messageSchema },
      errors: [400, 403, 404],
      async handler({ params, user }) {
        await svc.deleteExecution(user, params.workflow_id, params.execution_id);
        return { message: 'Execution removed' };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/workflows/:workflow_id/executions/:execution_id/states',
      tags: etags,
      summary: 'States of an execution, with thoughts',
      params: execParams,
      query: pageQuery(10, MAX_PER_PAGE),
      responses: { 200: pageSchema(stateSchema) },
      errors: [403, 404],
      handler: ({ params, query, user }) => svc.listStates(user, params.workflow_id, params.execution_id, query.page, query.per_page),
    }),
    defineRoute({
      method: 'GET',
      path: '/workflows/:workflow_id/executions/:execution_id/states/:state_id/output',
      tags: etags,
      summary: 'Output of one state (state row id)',
      params: stateParams,
      responses: { 200: z.object({ output: z.string().nullable() }) },
      errors: [403, 404],
      handler: async ({ params, user }) => ({ output: await svc.stateOutput(user, params.workflow_id, params.execution_id, params.state_id) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/workflows/:workflow_id/executions/:execution_id/transitions',
      tags: etags,
      summary: 'Transitions between the states of an execution',
      params: execParams,
      query: pageQuery(10, MAX_PER_PAGE),
      responses: { 200: pageSchema(transitionSchema) },
      errors: [403, 404],
      async handler({ params, query: q, user }) {
        const all = await svc.transitions(user, params.workflow_id, params.execution_id);
        return pageOf(all.slice(q.page * q.per_page, (q.page + 1) * q.per_page), all.length, q.page, q.per_page);
      },
    }),
    ...(['from', 'to'] as const).map((dir) =>
      defineRoute({
        method: 'GET',
        path: `/workflows/:workflow_id/executions/:execution_id/transitions/${dir}/:state_id`,
        tags: etags,
        summary: `The transition ${dir} a state (state row id)`,
        params: stateParams,
        responses: { 200: transitionSchema },
        errors: [403, 404],
        async handler({ params, user }) {
          const all = await svc.transitions(user, params.workflow_id, params.execution_id);
          const t = all.find((x) => x[dir === 'from' ? 'from_state_id' : 'to_state_id'] === params.state_id);
          if (!t) throw notFound('Workflow execution transition', undefined, `No transition ${dir} state [${params.state_id}] in this execution.`);
          return t;
        },
      }),
    ),
    defineRoute({
      method: 'POST',
      path: '/workflows/:workflow_id/executions/:execution_id/thoughts',
      tags: etags,
      summary: 'Thoughts of an execution (body: optional array of thought ids)',
      params: execParams,
      body: z.array(z.string().max(100)).max(1000).nullish(),
      responses: { 200: z.array(executionThoughtSchema) },
      errors: [403, 404],
      handler: ({ params, body, user }) => svc.thoughts(user, params.workflow_id, params.execution_id, body ?? null),
    }),
    defineRoute({
      method: 'PUT',
      path: '/workflows/:workflow_id/executions/:execution_id/abort',
      tags: etags,
      summary: 'Abort a running or interrupted execution',
      params: execParams,
      responses: { 200: messageSchema },
      errors: [400, 403, 404],
      async handler({ params, user }) {
        await svc.abort(user, params.workflow_id, params.execution_id);
        return { message: 'Workflow execution has been aborted' };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/workflows/:workflow_id/executions/:execution_id/resume',
      tags: etags,
      summary: 'Resume an Interrupted execution',
      startsRun: true,
      params: execParams,
      query: resumeQuery,
      body: resumeBody,
      responses: { 200: messageSchema },
      stream: streamChunkSchema,
      errors: [400, 403, 404],
      async handler({ params, query: q, body, user, req, admission, signal, stream }) {
        const headers = q.propagate_headers ? extractPropagatedHeaders(req.headers, limitsFromConfig(config)) : null;
        const seq = await svc.resume(
          user,
          params.workflow_id,
          params.execution_id,
          userInputText(body?.user_input) || null,
          headers,
          body?.file_names ?? null,
          admission.admit,
        );
        if (!q.stream) {
          await svc.enqueue(params.execution_id);
          return { message: 'Workflow execution has been resumed' };
        }
        return stream(
          executionStream(streamDeps, {
            executionId: params.execution_id,
            seq,
            afterId: lastEventId(req.headers['last-event-id']),
            signal,
            start: () => svc.enqueue(params.execution_id),
          }),
          { headers: { 'x-workflow-execution-id': params.execution_id } },
        );
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/workflows/:workflow_id/executions/:execution_id/output/request_changes',
      tags: etags,
      summary: 'Rewrite an output as requested (with the default model)',
      params: execParams,
      body: requestChangesBody,
      responses: { 200: messageSchema },
      errors: [400, 403, 404, 502, 503, 504],
      handler: async ({ params, body, user, signal }) => ({
        message: await svc.requestChanges(user, params.workflow_id, params.execution_id, body.original_output, body.request, signal),
      }),
    }),
    defineRoute({
      method: 'PUT',
      path: '/workflows/:workflow_id/executions/:execution_id/output',
      tags: etags,
      summary: "Edit the interrupted predecessor's output before resuming",
      params: execParams,
      body: editOutputBody,
      responses: { 200: messageSchema },
      errors: [400, 403, 404],
      async handler({ params, body, user }) {
        await svc.editOutput(user, params.workflow_id, params.execution_id, body.state_id, body.output);
        return { message: 'Workflow execution output has been edited successfully' };
      },
    }),
  ];
}
