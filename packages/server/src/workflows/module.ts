/**
 * The workflows module: CRUD, executions API and the engine, run through ctx.runs (kind
 * 'workflow-execution'). On start-up, executions left In Progress by a stop or crash are
 * re-enqueued and continue from their last finished state.
 */
import type { AppContext, DomainModule } from '../context.js';
import type { LlmService } from '../llm/types.js';
import { WorkflowEngine } from './engine.js';
import { STATUS } from './model.js';
import { registerWorkflowRoutes } from './routes.js';
import { noAssistants, noMcp, type AssistantLookup, type ExecutionUser, type ToolsetOpener } from './seams.js';
import type { AuthUser } from '../api/auth.js';
import type { MCPServerDetails } from '../mcp/index.js';
import { RUN_KIND, WorkflowService } from './service.js';
import { WorkflowStore } from './store.js';
import { fileService } from '../files/module.js';

export interface WorkflowsModuleOptions {
  /** Existing assistants referenced by `assistant_id` (the assistants domain plugs in here). */
  assistants?: (ctx: AppContext) => AssistantLookup;
  /** The LLM layer (default ctx.llm); benchmarks swap in an instant in-process one. */
  llm?: (ctx: AppContext) => LlmService;
  /** MCP servers' tools (the MCP domain plugs in here). */
  openToolset?: (ctx: AppContext) => ToolsetOpener;
}

/**
 * The execution's creator as the MCP layer sees it. Runs execute in the background (maybe after a
 * restart), so the caller's token is not available: `{{user.token}}` placeholders cannot resolve.
 */
function executionAuthUser(u: ExecutionUser): AuthUser {
  return { id: u.id, username: u.username, name: u.name, email: '', roles: [], projects: [], adminProjects: [], isAdmin: false, userType: 'regular' };
}

/** Workflow assistants' mcp_servers and tool nodes go through the MCP module's client layer. */
function mcpToolsetOpener(ctx: AppContext): ToolsetOpener {
  return (servers, o) => ctx.mcp.openToolset(servers as MCPServerDetails[], { propagatedHeaders: o.propagatedHeaders, user: executionAuthUser(o.user), signal: o.signal });
}

const services = new WeakMap<AppContext, WorkflowService>();

/** The workflows service of a running platform (demo seeding, tests). */
export function workflowsOf(ctx: AppContext): WorkflowService {
  const s = services.get(ctx);
  if (!s) throw new Error('The workflows module is not initialised in this platform');
  return s;
}

export function createWorkflowsModule(opts: WorkflowsModuleOptions = {}): DomainModule {
  let svc: WorkflowService | null = null;
  return {
    name: 'workflows',
    init(ctx) {
      const store = new WorkflowStore(ctx.store.db, ctx.store.dialect);
      const engine = new WorkflowEngine({
        store,
        events: ctx.events,
        log: ctx.log,
        tracer: () => ctx.tracer,
        llm: opts.llm?.(ctx) ?? ctx.llm,
        assistants: opts.assistants?.(ctx) ?? noAssistants,
        openToolset: opts.openToolset?.(ctx) ?? (ctx.mcp ? mcpToolsetOpener(ctx) : noMcp),
        limits: { maxBytes: ctx.config.workflowMaxBytes, maxStates: ctx.config.workflowMaxStates },
      });
      svc = new WorkflowService(store, engine, ctx.runs, ctx.llm, (u, h) => fileService(ctx).resolve(u, h));
      services.set(ctx, svc);
      ctx.runs.register(
        RUN_KIND,
        (job, signal) => engine.run(job.runId, signal),
        // The queue gave up on a run (its workers kept crashing or losing the lease): fail it with the reason.
        (job, reason) => engine.giveUp(job.runId, `The execution could not be completed: ${reason}`),
      );
    },
    apiRoutes(app, ctx) {
      registerWorkflowRoutes(app, ctx, workflowsOf(ctx));
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
