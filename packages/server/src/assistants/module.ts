/**
 * The assistants, conversations and tasks modules. They share services built once per
 * process (in the assistants module's init), so a call, its conversation and its task agree.
 */
import type { AppContext, DomainModule } from '../context.js';
import { ConversationService } from '../conversations/service.js';
import { conversationRoutes } from '../conversations/routes.js';
import { TaskService } from '../tasks/service.js';
import { taskRoutes } from '../tasks/routes.js';
import { recoverAssistantTasks, registerAssistantTasks } from './background.js';
import { assistantRoutes, type AssistantDeps } from './routes.js';
import { AssistantService } from './service.js';

const services = new WeakMap<AppContext, AssistantDeps>();

/** The per-process services of this domain (created on first use). */
export function assistantServices(ctx: AppContext): AssistantDeps {
  let deps = services.get(ctx);
  if (!deps) {
    deps = {
      assistants: new AssistantService(ctx.store.db, ctx.llm, { cacheRecords: ctx.store.dialect === 'sqlite' }),
      conversations: new ConversationService(ctx.store.db, ctx.store.dialect),
      tasks: new TaskService(ctx.store.db),
    };
    services.set(ctx, deps);
  }
  return deps;
}

export const assistantsModule: DomainModule = {
  name: 'assistants',
  init(ctx) {
    registerAssistantTasks(ctx, assistantServices(ctx));
  },
  apiRoutes(app, ctx) {
    assistantRoutes(app, ctx, assistantServices(ctx));
  },
  async started(ctx) {
    // Any role may re-enqueue: the queue dedupes by task id, and whichever process consumes runs it.
    await recoverAssistantTasks(ctx, assistantServices(ctx));
  },
};

export const conversationsModule: DomainModule = {
  name: 'conversations',
  apiRoutes(app, ctx) {
    conversationRoutes(app, assistantServices(ctx).conversations);
  },
};

export const tasksModule: DomainModule = {
  name: 'tasks',
  apiRoutes(app, ctx) {
    taskRoutes(app, assistantServices(ctx).tasks);
  },
};

/** The assistants services of a running platform (demo seeding, other domains, tests). */
export function assistantsOf(ctx: AppContext): AssistantDeps {
  return assistantServices(ctx);
}

/**
 * How workflows read an existing assistant (`assistant_id` in a workflow's YAML): the creator of
 * the execution must own it or it must be shared with its project.
 */
export function assistantLookup(ctx: AppContext) {
  return {
    async get(id: string, user: { id: string }) {
      const a = await assistantServices(ctx).assistants.repo.get(id);
      if (!a || (a.created_by.id !== user.id && !a.shared)) return null;
      return {
        id: a.id,
        name: a.name,
        system_prompt: a.system_prompt,
        llm_model_type: a.llm_model_type,
        temperature: a.temperature,
        top_p: a.top_p,
        mcp_servers: (a.data.mcp_servers as unknown[]) ?? [],
      };
    },
  };
}
