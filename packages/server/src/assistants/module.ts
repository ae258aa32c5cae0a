/**
 * The assistants module: CRUD, the call (stream, non-stream, background) and background-task
 * recovery. Built on the conversations, tasks and files services it is given.
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import type { ConversationService } from '../conversations/service.js';
import type { FileService } from '../files/service.js';
import type { TaskService } from '../tasks/service.js';
import type { MCPServerDetails } from '../mcp/schemas.js';
import { AssistantCalls, type CallDeps } from './call.js';
import { recoverAssistantTasks, registerAssistantTasks } from './background.js';
import { assistantRoutes } from './routes.js';
import { AssistantService } from './service.js';
import type { AssistantLookup } from '../workflows/seams.js';
import type { AuthUser } from '../api/auth.js';

export interface AssistantServices {
  assistants: AssistantService;
  calls: AssistantCalls;
  /** How workflows read an existing assistant (`assistant_id` in a workflow's YAML): workflows/seams.ts AssistantLookup. */
  lookup: AssistantLookup;
}

export function assistantsModule(
  infra: Infra,
  deps: { conversations: ConversationService; tasks: TaskService; files: FileService; contextTools?: CallDeps['contextTools'] },
): Module<AssistantServices> {
  const assistants = new AssistantService(infra.store.db, infra.llm, { cacheRecords: infra.store.dialect === 'sqlite' });
  const calls = new AssistantCalls({
    llm: infra.llm,
    openToolset: (servers, o) => infra.mcp.openToolset(servers as MCPServerDetails[], o),
    tracer: infra.tracer,
    conversations: deps.conversations,
    files: deps.files,
    contextTools: deps.contextTools,
  });
  const background = { assistants, calls, tasks: deps.tasks, runs: infra.runs, log: infra.log };
  // The creator of a workflow execution must own the assistant, or it must be shared.
  const lookup: AssistantLookup = {
    async get(id, user) {
      const a = await assistants.repo.get(id);
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
  return {
    name: 'assistants',
    services: { assistants, calls, lookup },
    routes: assistantRoutes({ ...background, config: infra.config }),
    init() {
      registerAssistantTasks(background);
    },
    async started() {
      // Any role may re-enqueue: the queue dedupes by task id, and whichever process consumes runs it.
      await recoverAssistantTasks(background);
    },
  };
}
