/** HTTP routes: workflow CRUD (/v1/workflows...) and executions (/v1/workflows/{id}/executions...). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { currentUser } from '../api/auth.js';
import { notFound } from '../api/errors.js';
import { pageOf, pageQuery, parseFilters } from '../api/pagination.js';
import { negotiateStreamFormat, openStream } from '../api/stream.js';
import type { AppContext } from '../context.js';
import { channelOf, type BusEnvelope } from './model.js';
import type { StreamEvent } from '../events/bus.js';
import type { WorkflowService } from './service.js';
import type { ExecutionRow } from './store.js';
import { runAdmission } from '../limits/hook.js';
import type { RunAdmission } from '../limits/fair-use.js';
import { extractPropagatedHeaders, limitsFromConfig } from '../mcp/index.js';

const FILTERS_HELP = 'filters must be a URL-encoded JSON object, e.g. {"project":"demo"}.';

const workflowBody = z.object({
  name: z.string().min(1),
  description: z.string().nullish().transform((v) => v ?? ''),
  project: z.string().min(1),
  yaml_config: z.string().default(''),
  shared: z.boolean().default(true),
  mode: z.enum(['Sequential', 'Autonomous']).default('Sequential'),
  icon_url: z.string().nullish(),
  start_hint: z.string().nullish(),
});

const listQuery = pageQuery(10).extend({
  filters: z.string().optional(),
  project: z.union([z.string(), z.array(z.string())]).optional(),
  filter_by_user: z.string().optional(),
  minimal_response: z.string().optional(),
  scope: z.string().optional(),
});

const executionBody = z.object({
  /** A string, or any JSON value (the Python SDK sends null when absent). */
  user_input: z.unknown().optional(),
  file_name: z.string().nullish(),
  file_names: z.array(z.string()).max(20).nullish(),
  propagate_headers: z.boolean().default(false),
  stream: z.boolean().default(false),
  conversation_id: z.string().nullish(),
  session_id: z.string().max(200).nullish(),
  disable_cache: z.boolean().optional(),
  tags: z.array(z.string()).nullish(),
  delete_on_completion: z.boolean().optional(),
});

const boolQuery = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
  .optional()
  .transform((v) => v === true || v === 'true' || v === '1');

const resumeQuery = z.object({ propagate_headers: boolQuery, stream: boolQuery, disable_cache: z.string().optional() });
const resumeBody = z.object({ user_input: z.unknown().optional(), file_names: z.array(z.string()).nullish() }).nullish();
const editOutputBody = z.object({ state_id: z.string().min(1), output: z.string().min(1) });
const requestChangesBody = z.object({ original_output: z.string(), request: z.string().min(1) });

const idParams = z.object({ workflow_id: z.string() });
const execParams = idParams.extend({ execution_id: z.string() });
const stateParams = execParams.extend({ state_id: z.string() });

const userInputText = (v: unknown) => (v == null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/** For a run that could not be enqueued after all: free its fair-use slots, then fail as before. */
const rollbackAnd = (admission: RunAdmission) => async (err: unknown) => {
  await admission.rollback();
  throw err;
};

const TIMEOUT = Symbol('timeout');

/** p, or TIMEOUT when it takes longer than ms (p keeps running; its result can be awaited later). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<typeof TIMEOUT>((resolve) => (timer = setTimeout(() => resolve(TIMEOUT), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Streams a run segment of an execution from the event bus until its `last` chunk. The engine writes
 * a state's or the run's end before publishing it, so a worker that dies between the two loses the
 * event: when the stream sees nothing for `workflowStreamCheckMs`, it re-reads the execution and,
 * if the segment has ended there, sends the final chunk from the record (after a short grace for
 * the published one). The client gets exactly one `last` chunk, and each state's `state_finish`
 * once (a worker taking a run over publishes the finishes it replays again).
 */
async function streamExecution(
  ctx: AppContext,
  svc: WorkflowService,
  req: FastifyRequest,
  reply: FastifyReply,
  executionId: string,
  seq: number,
  start: () => Promise<void>,
): Promise<void> {
  const writer = openStream(req, reply, negotiateStreamFormat(req), { headers: { 'x-workflow-execution-id': executionId } });
  const lastEventId = req.headers['last-event-id'];
  // The subscription ends when the client goes away or when this loop is done.
  const stop = new AbortController();
  const onGone = () => stop.abort();
  writer.signal.addEventListener('abort', onGone, { once: true });
  const events = ctx.events.subscribe(channelOf(executionId), { signal: stop.signal, afterId: typeof lastEventId === 'string' ? lastEventId : undefined })[Symbol.asyncIterator]();
  const checkMs = ctx.config.workflowStreamCheckMs;
  const finishes = new Set<string>();
  let next: Promise<IteratorResult<StreamEvent>> | undefined;
  try {
    await start();
    /** This segment's final chunk from the database, once a check found it ended there. */
    let ended: Record<string, unknown> | null = null;
    next = events.next();
    for (;;) {
      const r = await within(next, ended ? Math.min(checkMs, 1000) : checkMs);
      if (writer.signal.aborted) return;
      if (r === TIMEOUT) {
        if (ended) {
          await writer.write({ data: ended });
          return;
        }
        ended = await svc.segmentFinal(executionId, seq);
        continue;
      }
      if (r.done) {
        // The channel ended without this segment's final chunk (its publish failed): send it from the record.
        const fin = ended ?? (await svc.segmentFinal(executionId, seq));
        if (fin) await writer.write({ data: fin });
        return;
      }
      next = events.next();
      const env = r.value.data as BusEnvelope;
      if (env.seq !== seq) continue;
      const ws = env.chunk.workflow_state as { id?: string; event_type?: string; status?: string } | null | undefined;
      if (ws?.event_type === 'state_finish' && ws.id) {
        const key = `${ws.id}:${ws.status}`;
        if (finishes.has(key)) continue;
        finishes.add(key);
      }
      await writer.write({ id: r.value.id, data: env.chunk });
      if (env.chunk.last) return;
    }
  } finally {
    stop.abort();
    next?.catch(() => undefined);
    writer.signal.removeEventListener('abort', onGone);
    writer.end();
  }
}

export function registerWorkflowRoutes(app: FastifyInstance, ctx: AppContext, svc: WorkflowService): void {
  const tags = ['workflows'];

  app.get('/workflows', { schema: { tags, summary: 'List workflows', querystring: listQuery } }, async (req) => {
    const q = req.query as z.infer<typeof listQuery>;
    const user = currentUser(req);
    const filters = parseFilters(q.filters, FILTERS_HELP);
    if (q.project !== undefined && filters.project === undefined) filters.project = q.project;
    if (q.filter_by_user === 'true' && filters.created_by === undefined) filters.created_by = user.id;
    const page = await svc.list(user, q.page, q.per_page, filters);
    return { data: page.data.map((r) => svc.toWire(r, user)), pagination: page.pagination };
  });

  app.get('/workflows/id/:workflow_id', { schema: { tags, summary: 'Get a workflow', params: idParams } }, async (req) => {
    const user = currentUser(req);
    return svc.toWire(await svc.get(user, (req.params as z.infer<typeof idParams>).workflow_id), user);
  });

  app.post('/workflows', { schema: { tags, summary: 'Create a workflow (yaml_config is validated)', body: workflowBody } }, async (req) => {
    const user = currentUser(req);
    const row = await svc.create(user, req.body as z.infer<typeof workflowBody>);
    return { message: 'Workflow created successfully', data: svc.toWire(row, user) };
  });

  app.put('/workflows/:workflow_id', { schema: { tags, summary: 'Update a workflow', params: idParams, body: workflowBody } }, async (req) => {
    const user = currentUser(req);
    const row = await svc.update(user, (req.params as z.infer<typeof idParams>).workflow_id, req.body as z.infer<typeof workflowBody>);
    return { message: 'Workflow updated successfully', data: svc.toWire(row, user) };
  });

  app.delete('/workflows/:workflow_id', { schema: { tags, summary: 'Delete a workflow and its executions', params: idParams } }, async (req) => {
    await svc.remove(currentUser(req), (req.params as z.infer<typeof idParams>).workflow_id);
    return { message: 'Specified workflow removed' };
  });

  // ---- executions ----
  const etags = ['workflow executions'];

  app.post(
    '/workflows/:workflow_id/executions',
    { config: { startsRun: true }, schema: { tags: etags, summary: 'Start an execution (stream: true → SSE, or NDJSON with Accept: application/x-ndjson)', params: idParams, body: executionBody } },
    async (req, reply) => {
      const user = currentUser(req);
      const body = req.body as z.infer<typeof executionBody>;
      const admission = runAdmission(ctx, req);
      let row: ExecutionRow;
      try {
        row = await svc.startExecution(
          user,
          (req.params as z.infer<typeof idParams>).workflow_id,
          {
            user_input: userInputText(body.user_input),
            file_name: body.file_name,
            file_names: body.file_names,
            session_id: body.session_id,
            tags: body.tags,
            conversation_id: body.conversation_id,
            propagatedHeaders: body.propagate_headers ? extractPropagatedHeaders(req.headers, limitsFromConfig(ctx.config)) : null,
          },
          admission.admit,
        );
        if (!body.stream) await svc.enqueue(row.id);
      } catch (err) {
        await admission.rollback();
        throw err;
      }
      if (!body.stream) return svc.executionToWire(row);
      await streamExecution(ctx, svc, req, reply, row.id, row.run_seq, () => svc.enqueue(row.id).catch(rollbackAnd(admission)));
      return reply;
    },
  );

  app.get('/workflows/:workflow_id/executions', { schema: { tags: etags, summary: 'List executions', params: idParams, querystring: pageQuery(10).extend({ filter_by_project: z.string().optional() }) } }, async (req) => {
    const q = req.query as { page: number; per_page: number };
    const page = await svc.listExecutions(currentUser(req), (req.params as z.infer<typeof idParams>).workflow_id, q.page, q.per_page);
    return { data: page.data.map((r) => svc.executionToWire(r)), pagination: page.pagination };
  });

  app.delete('/workflows/:workflow_id/executions', { schema: { tags: etags, summary: 'Delete the execution history', params: idParams } }, async (req) => {
    await svc.clearExecutions(currentUser(req), (req.params as z.infer<typeof idParams>).workflow_id);
    return { message: 'Execution history cleared' };
  });

  app.get('/workflows/:workflow_id/executions/:execution_id', { schema: { tags: etags, summary: 'Get an execution', params: execParams } }, async (req) => {
    const p = req.params as z.infer<typeof execParams>;
    return svc.executionToWire(await svc.getExecution(currentUser(req), p.workflow_id, p.execution_id));
  });

  app.delete('/workflows/:workflow_id/executions/:execution_id', { schema: { tags: etags, summary: 'Delete an execution', params: execParams } }, async (req) => {
    const p = req.params as z.infer<typeof execParams>;
    await svc.deleteExecution(currentUser(req), p.workflow_id, p.execution_id);
    return { message: 'Execution removed' };
  });

  app.get('/workflows/:workflow_id/executions/:execution_id/states', { schema: { tags: etags, summary: 'States of an execution, with thoughts', params: execParams, querystring: pageQuery(10) } }, async (req) => {
    const p = req.params as z.infer<typeof execParams>;
    const q = req.query as { page: number; per_page: number };
    return svc.listStates(currentUser(req), p.workflow_id, p.execution_id, q.page, q.per_page);
  });

  app.get('/workflows/:workflow_id/executions/:execution_id/states/:state_id/output', { schema: { tags: etags, summary: 'Output of one state (state row id)', params: stateParams } }, async (req) => {
    const p = req.params as z.infer<typeof stateParams>;
    return { output: await svc.stateOutput(currentUser(req), p.workflow_id, p.execution_id, p.state_id) };
  });

  app.get(
    '/workflows/:workflow_id/executions/:execution_id/transitions',
    { schema: { tags: etags, summary: 'Transitions between the states of an execution', params: execParams, querystring: pageQuery(10) } },
    async (req) => {
      const p = req.params as z.infer<typeof execParams>;
      const q = req.query as { page: number; per_page: number };
      const all = await svc.transitions(currentUser(req), p.workflow_id, p.execution_id);
      return pageOf(all.slice(q.page * q.per_page, (q.page + 1) * q.per_page), all.length, q.page, q.per_page);
    },
  );

  for (const dir of ['from', 'to'] as const) {
    app.get(
      `/workflows/:workflow_id/executions/:execution_id/transitions/${dir}/:state_id`,
      { schema: { tags: etags, summary: `The transition ${dir} a state (state row id)`, params: stateParams } },
      async (req) => {
        const p = req.params as z.infer<typeof stateParams>;
        const all = await svc.transitions(currentUser(req), p.workflow_id, p.execution_id);
        const t = all.find((x) => x[dir === 'from' ? 'from_state_id' : 'to_state_id'] === p.state_id);
        if (!t) throw notFound('Workflow execution transition', undefined, `No transition ${dir} state [${p.state_id}] in this execution.`);
        return t;
      },
    );
  }

  app.post(
    '/workflows/:workflow_id/executions/:execution_id/thoughts',
    { schema: { tags: etags, summary: 'Thoughts of an execution (body: optional array of thought ids)', params: execParams, body: z.array(z.string()).nullish() } },
    async (req) => {
      const p = req.params as z.infer<typeof execParams>;
      return svc.thoughts(currentUser(req), p.workflow_id, p.execution_id, (req.body as string[] | null | undefined) ?? null);
    },
  );

  app.put('/workflows/:workflow_id/executions/:execution_id/abort', { schema: { tags: etags, summary: 'Abort a running or interrupted execution', params: execParams } }, async (req) => {
    const p = req.params as z.infer<typeof execParams>;
    await svc.abort(currentUser(req), p.workflow_id, p.execution_id);
    return { message: 'Workflow execution has been aborted' };
  });

  app.put(
    '/workflows/:workflow_id/executions/:execution_id/resume',
    { config: { startsRun: true }, schema: { tags: etags, summary: 'Resume an Interrupted execution', params: execParams, querystring: resumeQuery, body: resumeBody } },
    async (req, reply) => {
      const p = req.params as z.infer<typeof execParams>;
      const q = req.query as z.infer<typeof resumeQuery>;
      const body = req.body as z.infer<typeof resumeBody>;
      const admission = runAdmission(ctx, req);
      let seq: number;
      try {
        const headers = q.propagate_headers ? extractPropagatedHeaders(req.headers, limitsFromConfig(ctx.config)) : null;
        seq = await svc.resume(currentUser(req), p.workflow_id, p.execution_id, userInputText(body?.user_input) || null, headers, body?.file_names ?? null, admission.admit);
        if (!q.stream) await svc.enqueue(p.execution_id);
      } catch (err) {
        await admission.rollback();
        throw err;
      }
      if (!q.stream) return { message: 'Workflow execution has been resumed' };
      await streamExecution(ctx, svc, req, reply, p.execution_id, seq, () => svc.enqueue(p.execution_id).catch(rollbackAnd(admission)));
      return reply;
    },
  );

  app.put(
    '/workflows/:workflow_id/executions/:execution_id/output/request_changes',
    { schema: { tags: etags, summary: 'Rewrite an output as requested (with the default model)', params: execParams, body: requestChangesBody } },
    async (req) => {
      const p = req.params as z.infer<typeof execParams>;
      const body = req.body as z.infer<typeof requestChangesBody>;
      const ac = new AbortController();
      req.raw.on('close', () => ac.abort());
      return { message: await svc.requestChanges(currentUser(req), p.workflow_id, p.execution_id, body.original_output, body.request, ac.signal) };
    },
  );

  app.put(
    '/workflows/:workflow_id/executions/:execution_id/output',
    { schema: { tags: etags, summary: "Edit the interrupted predecessor's output before resuming", params: execParams, body: editOutputBody } },
    async (req) => {
      const p = req.params as z.infer<typeof execParams>;
      const body = req.body as z.infer<typeof editOutputBody>;
      await svc.editOutput(currentUser(req), p.workflow_id, p.execution_id, body.state_id, body.output);
      return { message: 'Workflow execution output has been edited successfully' };
    },
  );
}
