/**
 * The workflow executor: a small superstep (BSP) engine. Each step runs the tasks of the
 * frontier (parallel fan-out and map iterations, bounded by max_concurrency), persists each
 * state's start and finish as it happens, then folds the results into the next checkpoint
 * (context store, LLM history, frontier). The state rows are the durable record: a row whose
 * task already finished is replayed from its stored result instead of being re-run, and the
 * frontier of the next step follows deterministically from the results, so the checkpoint is
 * written only where the run stops (end, interrupt) rather than after every step. A run resumed
 * after a crash, restart or take-over replays every finished row from its last written
 * checkpoint on, continues from its last finished state and never finishes a state twice.
 */
import type { UsageInput, UsageRecorder } from '../analytics/recorder.js';
import { ToolCallCollector } from '../analytics/collect.js';
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { EventBus } from '../events/bus.js';
import { fromJson, toJson } from '../store/json.js';
import type { TokenUsage } from '../llm/types.js';
import { abortReason } from '../runs/queue.js';
import { ApiError } from '../api/errors.js';
import { parseWorkflowYaml, END, type WorkflowLimits } from './validate.js';
import { sharedConfigParser } from './config-parser.js';
import type { StateConfig, WorkflowYaml } from './config-schema.js';
import { evaluateCondition } from './expression.js';
import { asText, isPlainObject, jsonPointer, render, tryParseJson } from './template.js';
import { runNode, StateError, type NodeDeps } from './nodes.js';
import { addUsage, channelOf, interruptedState, STATUS, zeroUsage, type BusEnvelope, type Checkpoint, type StateResult, type Task } from './model.js';
import type { RunEvent, StateRef } from '../turn/events.js';
import { nowIso, type ExecutionRow, type StateRow, type WorkflowStore } from './store.js';
import { segmentFinalEvent } from './final-chunk.js';
import type { ExecutionUser } from './seams.js';
import type { Observation, Tracer } from '../trace/tracer.js';
import { newRowId } from '../store/ids.js';

export interface EngineDeps extends NodeDeps {
  store: WorkflowStore;
  events: EventBus;
  log: FastifyBaseLogger;
  /** Read at each run (ctx.tracer): a trace per run segment, a span per state, LLM generations below. */
  tracer: () => Tracer;
  /** Bounds of documents being saved (CODEMIE_WORKFLOW_MAX_BYTES / _MAX_STATES); stored documents are read without them. */
  limits?: WorkflowLimits;
  /** Usage accounting (analytics/recorder.ts): a row per state and per execution. */
  accounting?: UsageRecorder;
}

interface Done {
  task: Task;
  rowId: string;
  result: StateResult & { message?: string };
  /** The execution's status read when this run finished the state (absent for replayed rows). */
  executionStatus?: string | null;
}

/**
 * The execution's state rows from the checkpoint's step on. A fresh run has none, so they are read
 * only when inserting a state's row finds one already there (a run continued after a restart,
 * take-over or resume): then every row from that step on is loaded once and replayed or restarted.
 */
class KnownRows {
  private rows: Map<string, StateRow> | null = null;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly store: WorkflowStore,
    private readonly executionId: string,
    private readonly fromStep: number,
  ) {}

  get(key: string): StateRow | undefined {
    return this.rows?.get(key);
  }

  /** Reads the rows (again when `fresh`: another worker may have added some meanwhile). */
  async load(fresh = false): Promise<void> {
    if (fresh) this.loading = null;
    this.loading ??= this.store.statesFromStep(this.executionId, this.fromStep).then((rs) => void (this.rows = new Map(rs.map((r) => [r.task_key, r]))));
    await this.loading;
  }
}

class AbortedError extends Error {}
/** This run no longer owns the execution (settled elsewhere): stop without touching it. */
class SupersededError extends Error {}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Runs fn over items with at most `limit` at once; waits for all, then rethrows the first failure. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failure: { err: unknown } | null = null;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw (failure as { err: unknown }).err;
  return out;
}

/** Values in the context/condition scope: JSON 'true'/'false' strings count as booleans (reference behaviour). */
function normalizeVars(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = v === 'true' ? true : v === 'false' ? false : v;
  return out;
}

/** The context store after `state` produced `output`. */
export function applyOutput(context: Record<string, unknown>, state: StateConfig, output: string, iteration: boolean): Record<string, unknown> {
  const n = state.next;
  const parsed = tryParseJson(output);
  let ctx = { ...context };
  const mine: Record<string, unknown> = {};
  if (n.store_in_context !== false) {
    if (isPlainObject(parsed)) Object.assign(mine, parsed);
    if (n.output_key) {
      const v = parsed ?? output;
      if (n.append_to_context || iteration) {
        const prev = ctx[n.output_key];
        mine[n.output_key] = [...(Array.isArray(prev) ? prev : prev === undefined || prev === null ? [] : [prev]), v];
      } else mine[n.output_key] = v;
    }
    Object.assign(ctx, mine);
  }
  if (n.clear_context_store === true) ctx = {};
  else if (n.clear_context_store === 'keep_current') ctx = mine;
  for (const k of n.reset_keys_in_context_store ?? []) delete ctx[k];
  return ctx;
}

/** Items for an iter_key fan-out: '.', a key name, or a JSON pointer into the state's output. */
export function iterItems(iterKey: string, output: string, context: Record<string, unknown>): unknown[] {
  const parsed = tryParseJson(output);
  let v: unknown;
  if (iterKey === '.') v = parsed ?? output;
  else if (iterKey.startsWith('/')) v = jsonPointer(parsed, iterKey);
  else if (isPlainObject(parsed) && iterKey in parsed) v = parsed[iterKey];
  else if (Array.isArray(parsed)) v = parsed;
  else v = context[iterKey];
  if (v === undefined || v === null) throw new StateError(`iter_key '${iterKey}' found no list in the state's output`, false);
  return Array.isArray(v) ? v : [v];
}

/** The targets a finished state leads to. */
export function chooseNext(state: StateConfig, output: string, context: Record<string, unknown>): string[] {
  const n = state.next;
  if (n.state_id) return [n.state_id];
  if (n.state_ids) return n.state_ids;
  const parsed = tryParseJson(output);
  const vars = normalizeVars({ ...context, ...(isPlainObject(parsed) ? parsed : {}) });
  if (n.condition) {
    let ok = false;
    try {
      ok = evaluateCondition(n.condition.expression, vars);
    } catch {
      ok = false; // the reference goes to `otherwise` when the expression cannot be evaluated
    }
    return [ok ? n.condition.then : n.condition.otherwise];
  }
  if (n.switch) {
    for (const c of n.switch.cases) {
      try {
        if (evaluateCondition(c.condition, vars)) return [c.state_id];
      } catch {
        /* a failing case counts as false */
      }
    }
    return [n.switch.default];
  }
  return [END];
}

/** Folds a superstep's results (in frontier order) into the next checkpoint. */
export function advance(cfg: WorkflowYaml, cp: Checkpoint, done: Done[]): Checkpoint {
  const states = new Map(cfg.states.map((s) => [s.id, s]));
  let context = cp.context;
  let history = cp.history;
  let lastOutput = cp.lastOutput;
  const joins = new Map<string, { preceding: string[]; outputs: string[]; iterated: boolean }>();
  const mapped: Array<Omit<Task, 'key'>> = [];
  for (const d of done) {
    const state = states.get(d.task.stateId)!;
    const n = state.next;
    context = applyOutput(context, state, d.result.output, d.task.iteration !== undefined);
    if (n.clear_prior_messages) history = [];
    if (n.include_in_llm_history !== false && n.keep_history !== false) {
      history = [
        ...history,
        ...(d.result.message ? [{ role: 'user' as const, content: d.result.message }] : []),
        { role: 'assistant' as const, content: d.result.output },
      ];
    }
    for (const target of d.result.next) {
      if (target === END) {
        lastOutput = d.result.output;
        continue;
      }
      if (d.result.continueIteration && d.task.iteration !== undefined) {
        mapped.push({ stateId: target, input: d.result.output, item: d.task.item, iteration: d.task.iteration, preceding: [d.rowId] });
        continue;
      }
      if (d.result.iterItems) {
        d.result.iterItems.forEach((item, i) => mapped.push({ stateId: target, input: asText(item), item, iteration: i, preceding: [d.rowId] }));
        continue;
      }
      const j = joins.get(target) ?? { preceding: [], outputs: [], iterated: d.task.iteration !== undefined };
      j.preceding.push(d.rowId);
      j.outputs.push(d.result.output);
      joins.set(target, j);
    }
  }
  const step = cp.step + 1;
  const frontier: Task[] = [];
  for (const [stateId, j] of joins) {
    const input =
      j.outputs.length === 1 && !j.iterated ? j.outputs[0] : j.iterated ? JSON.stringify(j.outputs.map((o) => tryParseJson(o) ?? o)) : j.outputs.join('\n\n');
    frontier.push({ key: '', stateId, input, preceding: j.preceding });
  }
  frontier.push(...mapped.map((t) => ({ ...t, key: '' })));
  frontier.forEach((t, i) => (t.key = `${step}:${i}`));
  return {
    step,
    userInput: cp.userInput,
    context,
    history,
    frontier,
    approved: [],
    lastOutput,
    lastRows: done.map((d) => ({
      rowId: d.rowId,
      stateId: d.task.stateId,
      ...(states.get(d.task.stateId)!.next.output_key ? { outputKey: states.get(d.task.stateId)!.next.output_key } : {}),
    })),
  };
}

export class WorkflowEngine {
  private readonly parsed = new Map<string, WorkflowYaml>();

  constructor(private readonly deps: EngineDeps) {}

  /** Usage rows; a failure to write them is logged, never fails the run. */
  private async account(rows: UsageInput[]): Promise<void> {
    if (!this.deps.accounting) return;
    try {
      await this.deps.accounting.record(rows);
    } catch (err) {
      this.deps.log.warn({ err }, 'could not record workflow usage');
    }
  }

  private remember(yaml: string, cfg: WorkflowYaml): WorkflowYaml {
    if (this.parsed.size > 200) this.parsed.delete(this.parsed.keys().next().value!);
    this.parsed.set(yaml, cfg);
    return cfg;
  }

  /**
   * A document's parsed config, parsed on the worker thread unless cached (configs are cached by
   * their text; executions snapshot the YAML they run). `checked`: a document being saved, held
   * to the size and state-count limits; stored ones are read as they are.
   */
  async load(yaml: string, checked = false): Promise<WorkflowYaml> {
    const hit = this.parsed.get(yaml);
    if (hit && !checked) return hit;
    const cfg = await sharedConfigParser.parse(yaml, checked ? (this.deps.limits ?? {}) : {});
    return this.remember(yaml, cfg);
  }

  /** Synchronous: the cached config, else parsed on this thread (callers load() first). */
  config(yaml: string): WorkflowYaml {
    return this.parsed.get(yaml) ?? this.remember(yaml, parseWorkflowYaml(yaml));
  }

  /** Marks an execution Failed when the run queue gave up on it. */
  async giveUp(executionId: string, reason: string): Promise<void> {
    const { store, events } = this.deps;
    await store.markRunningStates(executionId, STATUS.failed, reason);
    if (await store.updateExecution(executionId, { overall_status: STATUS.failed, output: reason }, STATUS.inProgress)) {
      const exec = await store.getExecution(executionId);
      const env: BusEnvelope = {
        seq: exec?.run_seq ?? 0,
        event: { type: 'end', output: reason, timeElapsed: null, error: { code: 'workflow_error', message: reason } },
      };
      await events.publish(channelOf(executionId), env).catch(() => undefined);
      await events.end(channelOf(executionId)).catch(() => undefined);
    }
  }

  /** Runs (or continues) an execution until it ends, is interrupted, aborted or the process stops. */
  async run(executionId: string, signal: AbortSignal): Promise<void> {
    const { store, events, log } = this.deps;
    const exec = await store.getExecution(executionId);
    if (!exec) return;
    if (exec.overall_status !== STATUS.inProgress) return this.republishEnd(exec);
    const started = Date.now();
    const seq = exec.run_seq;
    const channel = channelOf(executionId);
    const publish = (event: RunEvent) => {
      const env: BusEnvelope = { seq, event };
      events.publish(channel, env).catch((err) => log.warn({ err, executionId }, 'could not publish a workflow stream event'));
    };
    const trace = this.deps.tracer().startTrace({
      name: exec.name,
      sessionId: exec.session_id,
      userId: exec.created_by_id,
      tags: fromJson<string[]>(exec.tags, []),
      metadata: { execution_id: executionId, workflow_execution_id: executionId, workflow_id: exec.workflow_id, workflow_name: exec.name, run_segment: seq },
      input: exec.prompt,
    });
    let traceEnded = false;
    const elapsed = () => (Date.now() - started) / 1000;
    /** Ends this run segment: its last event on the stream, and the trace. */
    const finishStream = (ev: { output: unknown; error?: { code: string; message: string } } | { interrupt: StateRef | null; input: string | null }) => {
      if ('interrupt' in ev) {
        publish({ type: 'interrupt', state: ev.interrupt, input: ev.input, timeElapsed: elapsed() });
        trace.end({ output: ev.input });
      } else {
        publish({ type: 'end', output: ev.output, timeElapsed: elapsed(), error: ev.error ?? null });
        trace.end({ output: ev.output, ...(ev.error ? { level: 'ERROR' as const, statusMessage: ev.error.code } : {}) });
      }
      traceEnded = true;
    };
    let cp = fromJson<Checkpoint>(exec.checkpoint, null as unknown as Checkpoint);
    let usage = fromJson<TokenUsage>(exec.tokens_usage, zeroUsage());
    const user: ExecutionUser = { id: exec.created_by_id, ...fromJson<{ username?: string; name?: string }>(exec.created_by, {}) } as ExecutionUser;
    const headers = fromJson<Record<string, string> | null>(exec.propagated_headers, null);
    const usageBase = { user, project: exec.project, workflowId: exec.workflow_id, workflowName: exec.name, executionId };
    /** The execution's own row (no tokens: its states' rows hold them), written again by every segment that ends it. */
    const accountRun = (status: 'success' | 'error' | 'aborted', errorClass: string | null = null) =>
      this.account([{ ...usageBase, key: `workflow:${executionId}`, kind: 'workflow', status, errorClass, latencyMs: Date.now() - Date.parse(exec.date) }]);
    try {
      const cfg = await this.load(exec.yaml_config);
      const states = new Map(cfg.states.map((s) => [s.id, s]));
      const rows = new KnownRows(store, executionId, cp.step);
      for (;;) {
        if (signal.aborted) throw new AbortedError();
        if (!cp.frontier.length) {
          await accountRun('success');
          await store.updateExecution(
            executionId,
            { overall_status: STATUS.succeeded, output: cp.lastOutput, checkpoint: toJson(cp), tokens_usage: toJson(usage) },
            STATUS.inProgress,
          );
          finishStream({ output: cp.lastOutput });
          await events.end(channel);
          return;
        }
        if (cp.step >= cfg.recursion_limit) {
          throw new StateError(
            `Recursion limit of ${cfg.recursion_limit} reached without hitting a stop condition: the workflow took more steps than recursion_limit allows. Raise recursion_limit in the workflow configuration if this is expected.`,
            false,
          );
        }
        const pending = cp.frontier.filter((t) => {
          const s = states.get(t.stateId)!;
          return (s.interrupt_before || s.wait_for_user_confirmation) && !cp.approved.includes(t.key);
        });
        if (pending.length) {
          await this.interrupt(executionId, cp, usage, pending, rows, cfg, finishStream);
          return;
        }
        const done = await mapLimit(cp.frontier, cfg.max_concurrency, (task) =>
          this.runTask({ executionId, cfg, state: states.get(task.stateId)!, task, rows, cp, user, headers, signal, publish, trace, usageBase }),
        );
        for (const d of done) usage = addUsage(usage, d.result.usage);
        cp = advance(cfg, cp, done);
        if (!cp.frontier.length) continue; // the success write below also saves the checkpoint
        // No checkpoint write here: the finished rows hold this step (see the top of this file).
        // Each state's finish read the execution's status: an abort through the API shows there.
        if (done.some((d) => d.executionStatus != null && d.executionStatus !== STATUS.inProgress)) {
          // Aborted (or otherwise ended) through the API while this step ran: keep the usage so far.
          await store.updateExecution(executionId, { tokens_usage: toJson(usage) });
          finishStream({ output: cp.lastOutput });
          await events.end(channel);
          return;
        }
      }
    } catch (err) {
      const reason = abortReason(signal);
      if (reason === 'shutdown') return; // stays In Progress: recovery continues it from the last finished state
      if (err instanceof SupersededError) return;
      if (reason === 'user' || err instanceof AbortedError) {
        await accountRun('aborted');
        await store.markRunningStates(executionId, STATUS.aborted, 'Aborted by the user');
        // The API may have set Aborted already: the usage so far is written either way.
        if (!(await store.updateExecution(executionId, { overall_status: STATUS.aborted, tokens_usage: toJson(usage) }, STATUS.inProgress))) {
          await store.updateExecution(executionId, { tokens_usage: toJson(usage) });
        }
        finishStream({ output: 'Workflow execution has been aborted', error: { code: 'aborted', message: 'Workflow execution has been aborted' } });
        await events.end(channel);
        return;
      }
      const message = err instanceof ApiError ? `${err.message}: ${String(err.details)}` : err instanceof Error ? err.message : String(err);
      if (!(err instanceof StateError)) log.error({ err, executionId }, 'workflow execution failed');
      await accountRun('error', err instanceof StateError ? 'WorkflowError' : ((err as Error)?.name ?? 'Error'));
      await store.markRunningStates(executionId, STATUS.failed, message);
      await store.updateExecution(executionId, { overall_status: STATUS.failed, output: message, tokens_usage: toJson(usage) }, STATUS.inProgress);
      publish({
        type: 'thought-end',
        thought: {
          id: randomUUID(),
          parentId: null,
          author: err instanceof StateError ? 'WorkflowError' : ((err as Error)?.name ?? 'Error'),
          kind: 'system',
          input: '',
        },
        output: message,
        error: true,
      });
      finishStream({ output: message, error: { code: 'workflow_error', message } });
      await events.end(channel);
    } finally {
      if (!traceEnded) trace.end({ metadata: { stopped: abortReason(signal) ?? 'superseded' } });
    }
  }

  /**
   * A run that is already settled: publish its final chunk (and end a finished stream) again. The
   * worker that settled it may have died between its write and its publish; streams keep only
   * the first final chunk, so a repeat is harmless.
   */
  private async republishEnd(exec: ExecutionRow): Promise<void> {
    const event = await segmentFinalEvent(this.deps.store, exec.id, exec.run_seq, exec);
    if (!event) return;
    const channel = channelOf(exec.id);
    await this.deps.events.publish(channel, { seq: exec.run_seq, event } satisfies BusEnvelope).catch(() => undefined);
    if (exec.overall_status !== STATUS.interrupted) await this.deps.events.end(channel).catch(() => undefined);
  }

  private async interrupt(
    executionId: string,
    cp: Checkpoint,
    usage: TokenUsage,
    pending: Task[],
    rows: KnownRows,
    cfg: WorkflowYaml,
    finishStream: (f: { interrupt: StateRef | null; input: string | null }) => void,
  ): Promise<void> {
    const { store } = this.deps;
    const now = nowIso();
    let last: StateRef | null = null;
    for (const t of pending) {
      const state = cfg.states.find((s) => s.id === t.stateId)!;
      let row = rows.get(t.key);
      if (!row) {
        const fresh = newRow(executionId, cp.step, t, state, STATUS.interrupted, now);
        if (await store.insertStateIfAbsent(fresh)) row = fresh;
        else {
          await rows.load(true);
          row = rows.get(t.key);
          if (!row) throw new SupersededError();
        }
      }
      if (row.status !== STATUS.interrupted) await store.updateState(row.id, { status: STATUS.interrupted, update_date: now });
      last = interruptedState(row.id, t.stateId, state.task);
    }
    await store.updateExecution(executionId, { overall_status: STATUS.interrupted, checkpoint: toJson(cp), tokens_usage: toJson(usage) }, STATUS.inProgress);
    finishStream({ interrupt: last, input: pending[0].input });
  }

  private async runTask(a: {
    executionId: string;
    cfg: WorkflowYaml;
    state: StateConfig;
    task: Task;
    rows: KnownRows;
    cp: Checkpoint;
    user: ExecutionUser;
    headers: Record<string, string> | null;
    signal: AbortSignal;
    publish: (ev: RunEvent) => void;
    trace: Observation;
    usageBase?: Omit<UsageInput, 'key' | 'kind' | 'status'>;
  }): Promise<Done> {
    const { store } = this.deps;
    const { task, state, cp, signal } = a;
    const replay = (r: StateRow): Done => {
      // Finished earlier: replayed from its row. Its finish is announced again, as the worker that
      // finished it may have died before publishing it (streams drop a repeated state event).
      a.publish({
        type: 'state-finish',
        state: { rowId: r.id, stateId: state.id, task: r.task, status: STATUS.succeeded, startedAt: r.started_at, completedAt: r.completed_at },
      });
      return { task, rowId: r.id, result: fromJson<Done['result']>(r.result, null as never) };
    };
    let existing = a.rows.get(task.key);
    if (existing?.status === STATUS.succeeded) return replay(existing);
    const base = isPlainObject(task.item) ? { ...cp.context, ...task.item } : cp.context;
    const vars: Record<string, unknown> = { ...base, task: task.input, user_input: cp.userInput };
    const taskText = render(state.task ?? '', vars);
    const startedAt = nowIso();
    let rowId = '';
    if (!existing) {
      const row = newRow(a.executionId, cp.step, task, state, STATUS.inProgress, startedAt);
      row.task = taskText;
      row.started_at = startedAt;
      row.context = toJson(base);
      if (await store.insertStateIfAbsent(row)) rowId = row.id;
      else {
        // The run is being continued: its rows from the checkpoint on say what is done.
        await a.rows.load(true);
        existing = a.rows.get(task.key);
        if (!existing) throw new SupersededError();
        if (existing.status === STATUS.succeeded) return replay(existing);
      }
    }
    if (existing) {
      rowId = existing.id;
      await store.restartState(rowId, {
        status: STATUS.inProgress,
        task: taskText,
        context: toJson(base),
        started_at: startedAt,
        completed_at: null,
        output: null,
        error: null,
        update_date: startedAt,
      });
    }
    const stateRef = (status: string, completedAt: string | null): StateRef => ({ rowId, stateId: state.id, task: taskText, status, startedAt, completedAt });
    a.publish({ type: 'state-start', state: stateRef(STATUS.inProgress, null) });
    const span = a.trace.child(state.id, {
      type: state.tool_id ? 'tool' : 'agent',
      input: taskText,
      metadata: { state_row_id: rowId, ...(task.iteration !== undefined ? { iteration: task.iteration } : {}) },
    });

    const policy = state.retry_policy ?? a.cfg.retry_policy;
    const attempts = policy?.max_attempts ?? 1;
    let delay = (policy?.initial_interval ?? 0.5) * 1000;
    const stateKey = `wf_state:${rowId}`;
    for (let attempt = 1; ; attempt++) {
      const tools = new ToolCallCollector();
      const stateBase = a.usageBase ? { ...a.usageBase, assistantName: state.assistant_id ?? null } : undefined;
      try {
        const stateStarted = performance.now();
        const outcome = await runNode(this.deps, {
          cfg: a.cfg,
          state,
          vars,
          history: cp.history,
          input: task.input,
          item: task.item,
          user: a.user,
          propagatedHeaders: a.headers,
          signal,
          trace: { observation: span },
          emit: (ev) => {
            tools.add(ev);
            a.publish({ ...ev, stateRowId: rowId } as RunEvent);
          },
        });
        // Written before the state is marked finished: a state that is run again (a retry after a
        // crash, a takeover) writes the same row again, so it is never counted twice nor lost.
        if (stateBase)
          await this.account([
            ...tools.rows(stateKey, stateBase),
            {
              ...stateBase,
              key: stateKey,
              kind: 'workflow_state',
              model: outcome.model ?? null,
              usage: outcome.usage,
              latencyMs: performance.now() - stateStarted,
              status: 'success',
            },
          ]);
        if (signal.aborted) throw new AbortedError();
        const ctxAfter = applyOutput(cp.context, state, outcome.output, task.iteration !== undefined);
        const next = chooseNext(state, outcome.output, ctxAfter);
        const result: Done['result'] = { output: outcome.output, next, usage: outcome.usage, ...(outcome.message ? { message: outcome.message } : {}) };
        if (state.next.iter_key && task.iteration !== undefined) result.continueIteration = true;
        else if (state.next.iter_key) result.iterItems = iterItems(state.next.iter_key, outcome.output, ctxAfter);
        const completedAt = nowIso();
        const finished = await store.finishState(
          a.executionId,
          rowId,
          { status: STATUS.succeeded, output: outcome.output, result: toJson(result), completed_at: completedAt, update_date: completedAt },
          a.cfg.verbose ? outcome.thoughts : [],
        );
        if (!finished.finished) {
          // Someone else settled this state meanwhile (another worker finished it, or an abort): never finish it twice.
          const now = (await store.statesOfStep(a.executionId, cp.step)).find((r) => r.id === rowId);
          if (now?.status === STATUS.succeeded) return { task, rowId, result: fromJson<Done['result']>(now.result, null as never) };
          throw new SupersededError();
        }
        a.publish({ type: 'state-finish', state: stateRef(STATUS.succeeded, completedAt) });
        span.end({ output: outcome.output });
        return { task, rowId, result, executionStatus: finished.executionStatus };
      } catch (err) {
        if (signal.aborted || err instanceof SupersededError || err instanceof AbortedError) {
          span.end({ level: 'WARNING', statusMessage: signal.aborted ? `stopped (${abortReason(signal)})` : 'superseded' });
          throw err instanceof SupersededError ? err : new AbortedError();
        }
        const retryable = err instanceof StateError ? err.retryable : true;
        if (retryable && attempt < attempts) {
          await sleep(Math.min(delay, (policy?.max_interval ?? 60) * 1000), signal);
          delay *= policy?.backoff_factor ?? 2;
          continue;
        }
        const message = `State '${state.id}' failed${attempt > 1 ? ` after ${attempt} attempts` : ''}: ${(err as Error).message}`;
        const completedAt = nowIso();
        await store.updateState(rowId, { status: STATUS.failed, error: message, completed_at: completedAt, update_date: completedAt });
        if (stateBase)
          await this.account([
            ...tools.rows(stateKey, stateBase),
            { ...stateBase, key: stateKey, kind: 'workflow_state', status: 'error', errorClass: 'StateError' },
          ]);
        a.publish({ type: 'state-finish', state: stateRef(STATUS.failed, completedAt) });
        span.end({ level: 'ERROR', statusMessage: message });
        throw new StateError(message, false);
      }
    }
  }
}

function newRow(executionId: string, step: number, t: Task, state: StateConfig, status: string, now: string): StateRow {
  return {
    id: newRowId(),
    execution_id: executionId,
    name: state.id,
    task: state.task ?? '',
    status,
    output: null,
    error: null,
    task_key: t.key,
    step,
    iteration_number: t.iteration ?? null,
    preceding_state_ids: toJson(t.preceding),
    context: null,
    result: null,
    started_at: null,
    completed_at: null,
    date: now,
    update_date: now,
  };
}
