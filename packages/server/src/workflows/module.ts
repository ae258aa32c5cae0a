/**
 * The workflows module: CRUD, executions API and the engine, run through the run queue (kind
 * 'workflow-execution'). On start-up, executions left In Progress by a stop or crash are
 * re-enqueued and continue from their last finished state.
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import type { NodeDeps } from './nodes.js';
import type { LlmService } from '../llm/types.js';
import type { MCPServerDetails } from '../mcp/index.js';
import type { FileService } from '../files/service.js';
import type { ToolsetOpener } from '../turn/run-turn.js';
import { WorkflowEngine } from './engine.js';
import { STATUS } from './model.js';
import { workflowRoutes } from './routes.js';
import { noAssistants, type AssistantLookup } from './seams.js';
import { RUN_KIND, WorkflowService } from './service.js';
import { WorkflowStore } from './store.js';

export interface WorkflowsModuleDeps {
  /** Existing assistants referenced by `assistant_id` (the assistants module's lookup). */
  assistants?: AssistantLookup;
  files?: FileService;
  /** The LLM layer (default: the platform's); benchmarks swap in an instant in-process one. */
  llm?: LlmService;
  /** MCP servers' tools (default: the platform's MCP service); tests swap it. */
  openToolset?: ToolsetOpener;
  /** Knowledge-base search tools for `datasource_ids` (knowledge/). */
  datasourceTools?: NodeDeps['datasourceTools'];
}

export function workflowsModule(infra: Infra, deps: WorkflowsModuleDeps = {}): Module<WorkflowService> {
  const store = new WorkflowStore(infra.store.db, infra.store.dialect);
  const engine = new WorkflowEngine({
    store,
    events: infra.events,
    log: infra.log,
    tracer: () => infra.tracer,
    llm: deps.llm ?? infra.llm,
    assistants: deps.assistants ?? noAssistants,
    openToolset: deps.openToolset ?? ((servers, o) => infra.mcp.openToolset(servers as MCPServerDetails[], o)),
    datasourceTools: deps.datasourceTools,
    limits: { maxBytes: infra.config.workflowMaxBytes, maxStates: infra.config.workflowMaxStates },
    accounting: infra.usage,
  });
  const files = deps.files;
  const svc = new WorkflowService(store, engine, infra.runs, infra.llm, files ? (u, h) => files.resolve(u, h) : null, (b) => infra.usage.checkBudget(b));
  return {
    name: 'workflows',
    services: svc,
    routes: workflowRoutes({ config: infra.config, events: infra.events, workflows: svc }),
    init() {
      infra.runs.register(
        RUN_KIND,
        (job, signal) => engine.run(job.runId, signal),
        // The queue gave up on a run (its workers kept crashing or losing the lease): fail it with the reason.
        (job, reason) => engine.giveUp(job.runId, `The execution could not be completed: ${reason}`),
      );
    },
    async started() {
      if (infra.config.role === 'api') return;
      const rows = await infra.store.db
        .selectFrom('workflow_executions')
        .select('id')
        .where('overall_status', '=', STATUS.inProgress)
        .orderBy('date')
        .execute();
      for (const r of rows) await infra.runs.enqueue(RUN_KIND, r.id);
      if (rows.length) infra.log.info({ count: rows.length }, 'workflow executions resumed after restart');
    },
  };
}
