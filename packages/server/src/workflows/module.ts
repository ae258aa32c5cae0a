/**
 * The workflows module: CRUD, executions API and the engine, run through ctx.runs (kind
 * 'workflow-execution'). On start-up, executions left In Progress by a stop or crash are
 * re-enqueued and continue from their last finished state.
 */
import type { AppContext, DomainModule } from '../context.js';
import { WorkflowEngine } from './engine.js';
import { STATUS } from './model.js';
import { registerWorkflowRoutes } from './routes.js';
import { noAssistants, noMcp, type AssistantLookup, type ToolsetOpener } from './seams.js';
import { RUN_KIND, WorkflowService } from './service.js';
import { WorkflowStore } from './store.js';

export interface WorkflowsModuleOptions {
  /** Existing assistants referenced by `assistant_id` (the assistants domain plugs in here). */
  assistants?: (ctx: AppContext) => AssistantLookup;
  /** MCP servers' tools (the MCP domain plugs in here). */
  openToolset?: (ctx: AppContext) => ToolsetOpener;
}

export function createWorkflowsModule(opts: WorkflowsModuleOptions = {}): DomainModule {
  let svc: WorkflowService | null = null;
  return {
    name: 'workflows',
    init(ctx) {
      const store = new WorkflowStore(ctx.store.db);
      const engine = new WorkflowEngine({
        store,
        events: ctx.events,
        log: ctx.log,
        llm: ctx.llm,
        assistants: opts.assistants?.(ctx) ?? noAssistants,
        openToolset: opts.openToolset?.(ctx) ?? noMcp,
      });
      svc = new WorkflowService(store, engine, ctx.runs);
      ctx.runs.register(RUN_KIND, (job, signal) => engine.run(job.runId, signal));
    },
    apiRoutes(app, ctx) {
      registerWorkflowRoutes(app, ctx, svc!);
    },
    async started(ctx) {
      if (ctx.config.role === 'api') return;
      const rows = await ctx.store.db.selectFrom('workflow_executions').select('id').where('overall_status', '=', STATUS.inProgress).orderBy('date').execute();
      for (const r of rows) await ctx.runs.enqueue(RUN_KIND, r.id);
      if (rows.length) ctx.log.info({ count: rows.length }, 'workflow executions resumed after restart');
    },
  };
}

export const workflowsModule = createWorkflowsModule();
