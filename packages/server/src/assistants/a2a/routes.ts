/**
 * A2A for assistants, on the protocol's own SDK (@a2a-js/sdk): the agent card and one JSON-RPC
 * endpoint per assistant, `/v1/a2a/assistants/{id}`. The endpoint speaks A2A v1.0 (`SendMessage`,
 * `GetTask`, `ListTasks`, `CancelTask`), v0.3 (`message/send`, `tasks/get`, `tasks/cancel`) through
 * the SDK's compatibility layer, and the pre-0.2 draft the reference serves (`tasks/send`, and
 * `tasks/get` of such tasks). Calls need a token and read access to the assistant; the card of a
 * marketplace assistant is public.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { AuthUser } from '../../api/auth.js';
import { ApiError, unauthorized } from '../../api/errors.js';
import { defineRoute, Reply, type Route } from '../../api/route.js';
import { abilities } from '../../auth/access.js';
import type { Database } from '../../store/schema.js';
import { fromJson, toJson } from '../../store/json.js';
import { access } from '../access.js';
import type { AssistantRecord } from '../repo.js';
import type { AssistantService } from '../service.js';
import type { CardOptions } from './card.js';
import type { A2aRunner, HistoryItem } from './executor.js';

// The A2A SDK is loaded with the first A2A request (./protocol.ts): most servers never get one.
let protocol: Promise<typeof import('./protocol.js')> | undefined;
const loadProtocol = () => (protocol ??= import('./protocol.js'));

export interface A2aDeps {
  db: Kysely<Database>;
  assistants: AssistantService;
  run: A2aRunner;
  publicUrl?: string;
  organization: string;
  providerUrl: string;
}

const idParams = z.object({ assistant_id: z.string().min(1).max(100) });
const rpcResponse = z.record(z.string(), z.unknown()).meta({ id: 'JsonRpcResponse' });

function notFound(id: string) {
  return new ApiError(404, `Assistant with id ${id} wasn't found`);
}

function denied() {
  return new ApiError(
    403,
    'Access Denied',
    "You don't have permission to access this assistant.",
    'Please ensure you have the correct permissions to use this assistant.',
  );
}

/** `<scheme>://<host>[/code-assistant-api]/v1/a2a/assistants/<id>` (CODEMIE_PUBLIC_URL wins over the request's host). */
function endpointUrl(req: FastifyRequest, id: string, publicUrl?: string): string {
  const prefix = req.url.startsWith('/code-assistant-api/') ? '/code-assistant-api' : '';
  const base = publicUrl ? publicUrl.replace(/\/+$/, '') : `${req.protocol}://${req.host}`;
  return `${base}${prefix}/v1/a2a/assistants/${id}`;
}

// ── the reference's draft protocol (tasks/send) ──

interface LegacyPart {
  type?: string;
  text?: string;
  file?: { name?: string };
}
interface LegacyMessage {
  role: 'user' | 'agent';
  parts: LegacyPart[];
  metadata?: unknown;
}
interface LegacyTask {
  id: string;
  date: string;
  update_date: string;
  sessionId: string;
  status: { state: string; message?: LegacyMessage; timestamp: string };
  artifacts?: Array<{ parts: LegacyPart[]; index: number }>;
  history: LegacyMessage[];
}

const legacyText = (m: LegacyMessage) =>
  (m.parts ?? []).map((p) => (p.type === 'file' ? `[File: ${p.file?.name ?? 'file'}]` : p.type === 'data' ? '[Data object]' : (p.text ?? ''))).join('\n');

function trimmed(t: LegacyTask, historyLength: unknown): LegacyTask {
  const n = typeof historyLength === 'number' && historyLength > 0 ? historyLength : 0;
  const out: LegacyTask = { ...t, history: n ? t.history.slice(-n) : [] };
  if (!out.artifacts?.length) delete out.artifacts;
  return out;
}

export function a2aRoutes(deps: A2aDeps): Route[] {
  const tags = ['a2a'];
  let engine: ReturnType<Awaited<ReturnType<typeof loadProtocol>>['a2aEngine']> | undefined;
  const cardOptions = (req: FastifyRequest, id: string): CardOptions => ({
    url: endpointUrl(req, id, deps.publicUrl),
    organization: deps.organization,
    providerUrl: deps.providerUrl,
  });

  async function cardFor(id: string, user: AuthUser | null, req: FastifyRequest) {
    const a = await deps.assistants.repo.get(id);
    if (!a) throw notFound(id);
    if (!user) {
      if (!a.is_global) throw unauthorized();
    } else if (!abilities(user, access(a)).includes('read')) throw denied();
    return (await loadProtocol()).agentCardJson(a, cardOptions(req, a.id));
  }

  async function legacySend(a: AssistantRecord, user: AuthUser, rpcId: unknown, params: Record<string, any>, signal: AbortSignal) {
    const taskId = typeof params.id === 'string' && params.id ? params.id : null;
    const message = params.message as LegacyMessage | undefined;
    if (!taskId || !message || !Array.isArray(message.parts)) {
      return new Reply(400, {
        jsonrpc: '2.0',
        error: { code: -32600, message: 'Request payload validation error', data: [{ loc: ['params'], msg: 'id and message are required' }] },
      });
    }
    const modes = params.acceptedOutputModes;
    if (Array.isArray(modes) && modes.length && !modes.some((m) => m === 'text' || m === 'text/plain')) {
      return { jsonrpc: '2.0', id: rpcId, error: { code: -32005, message: 'Incompatible content types' } };
    }
    const row = await deps.db.selectFrom('a2a_tasks').selectAll().where('id', '=', taskId).executeTakeFirst();
    if (row && (row.user_id !== user.id || row.assistant_id !== a.id || row.state !== 'legacy')) {
      return { jsonrpc: '2.0', id: rpcId, error: { code: -32602, message: 'Invalid parameters', data: `Task id '${taskId}' is already used` } };
    }
    const now = new Date().toISOString();
    const task: LegacyTask = row
      ? fromJson<LegacyTask>(row.data, null as never)
      : {
          id: taskId,
          date: now,
          update_date: now,
          sessionId: String(params.sessionId ?? randomUUID().replace(/-/g, '')),
          status: { state: 'submitted', timestamp: now },
          history: [],
        };
    const history: HistoryItem[] = task.history.map((m) => ({ role: m.role === 'agent' ? 'Assistant' : 'User', message: legacyText(m) }));
    task.history.push({ role: message.role === 'agent' ? 'agent' : 'user', parts: message.parts });
    let r: { ok: boolean; text: string };
    try {
      r = await deps.run(a, user, legacyText(message), history, signal);
    } catch (err) {
      r = { ok: false, text: err instanceof ApiError ? `${err.message}: ${String(err.details ?? '')}` : err instanceof Error ? err.message : String(err) };
    }
    const done = new Date().toISOString();
    const reply: LegacyMessage = { role: 'agent', parts: [{ type: 'text', text: r.ok ? r.text : `Error: ${r.text}` }] };
    task.history.push(reply);
    task.update_date = done;
    if (r.ok) {
      task.status = { state: 'completed', timestamp: done };
      task.artifacts = [{ parts: [{ type: 'text', text: r.text }], index: 0 }];
    } else {
      task.status = { state: 'failed', message: reply, timestamp: done };
    }
    const data = toJson(task);
    if (row) await deps.db.updateTable('a2a_tasks').set({ data, update_date: done }).where('id', '=', taskId).execute();
    else {
      await deps.db
        .insertInto('a2a_tasks')
        .values({ id: taskId, assistant_id: a.id, user_id: user.id, context_id: task.sessionId, state: 'legacy', data, date: now, update_date: done })
        .execute();
    }
    return { jsonrpc: '2.0', id: rpcId, result: trimmed(task, params.historyLength) };
  }

  async function legacyTask(a: AssistantRecord, user: AuthUser, id: unknown): Promise<LegacyTask | null> {
    if (typeof id !== 'string') return null;
    const row = await deps.db
      .selectFrom('a2a_tasks')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', user.id)
      .where('assistant_id', '=', a.id)
      .where('state', '=', 'legacy')
      .executeTakeFirst();
    return row ? fromJson<LegacyTask>(row.data, null as never) : null;
  }

  const cardRoute = (path: string, summary: string) =>
    defineRoute({
      method: 'GET',
      path,
      tags,
      access: 'optional',
      summary,
      params: idParams,
      responses: { 200: z.record(z.string(), z.unknown()).meta({ id: 'AgentCard' }) },
      errors: [401, 403, 404],
      handler: ({ params, user, req }) => cardFor(params.assistant_id, user, req),
    });

  return [
    cardRoute('/a2a/assistants/:assistant_id/.well-known/agent.json', "An assistant's A2A agent card (public for marketplace assistants)"),
    cardRoute('/a2a/assistants/:assistant_id/.well-known/agent-card.json', 'The agent card at the A2A v1.0 well-known path'),
    defineRoute({
      method: 'POST',
      path: '/a2a/assistants/:assistant_id',
      tags,
      summary:
        'A2A JSON-RPC endpoint of an assistant (v1.0 SendMessage/GetTask/ListTasks/CancelTask, v0.3 message/send/tasks/get/tasks/cancel, and tasks/send)',
      startsRun: true,
      params: idParams,
      body: z.unknown(),
      responses: { 200: rpcResponse, 400: rpcResponse },
      errors: [403, 404],
      async handler({ params, body, user, req, signal, admission }) {
        const a = await deps.assistants.repo.get(params.assistant_id);
        if (!a) throw notFound(params.assistant_id);
        if (!abilities(user, access(a)).includes('read')) throw denied();
        const rpc = (body && typeof body === 'object' ? body : {}) as { id?: unknown; method?: unknown; params?: Record<string, unknown> };
        const method = rpc.method;
        if (method === 'tasks/send' || method === 'message/send' || method === 'SendMessage') await admission.admit(a.project);
        if (method === 'tasks/send') return legacySend(a, user, rpc.id ?? null, rpc.params ?? {}, signal);
        if (method === 'tasks/sendSubscribe')
          return { jsonrpc: '2.0', id: rpc.id ?? null, error: { code: -32004, message: 'This operation is not supported' } };
        if (method === 'tasks/get') {
          const t = await legacyTask(a, user, rpc.params?.id);
          if (t) return { jsonrpc: '2.0', id: rpc.id ?? null, result: trimmed(t, rpc.params?.historyLength) };
        }
        const proto = await loadProtocol();
        engine ??= proto.a2aEngine(deps.db, deps.run);
        return engine.handle(a, user, req, rpc, cardOptions(req, a.id));
      },
    }),
  ];
}
