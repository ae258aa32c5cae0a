/**
 * The assistants domain: CRUD, the call endpoint (stream / non-stream / background), and the
 * conversations and background tasks it produces.
 */
import type { AppContext, DomainModule } from '../context.js';
import { ConversationService } from '../conversations/service.js';
import { conversationRoutes } from '../conversations/routes.js';
import { TaskService } from '../tasks/service.js';
import { taskRoutes } from '../tasks/routes.js';
import { AssistantService } from './service.js';
import { assistantRoutes } from './routes.js';
import { recoverAssistantTasks, registerAssistantTasks } from './task-runner.js';

interface AssistantDomain {
  assistants: AssistantService;
  conversations: ConversationService;
  tasks: TaskService;
}

const domains = new WeakMap<AppContext, AssistantDomain>();

/** The assistants services of a running platform (for other domains' wiring and tests). */
export function assistantsOf(ctx: AppContext): AssistantDomain {
  const d = domains.get(ctx);
  if (!d) throw new Error('The assistants module is not initialised in this platform');
  return d;
}

export const assistantsModule: DomainModule = {
  name: 'assistants',
  init(ctx) {
    const d: AssistantDomain = {
      assistants: new AssistantService(ctx.store.db, ctx.llm),
      conversations: new ConversationService(ctx.store.db),
      tasks: new TaskService(ctx.store.db),
    };
    domains.set(ctx, d);
    registerAssistantTasks(ctx, d.assistants, d.conversations, d.tasks);
  },
  apiRoutes(app, ctx) {
    const d = assistantsOf(ctx);
    assistantRoutes(app, { ctx, ...d });
    conversationRoutes(app, d.conversations);
    taskRoutes(app, d.tasks);
  },
  async started(ctx) {
    if (ctx.config.role !== 'api') await recoverAssistantTasks(ctx, assistantsOf(ctx).tasks);
  },
};
