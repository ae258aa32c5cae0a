/**
 * The assistants module: CRUD, listing scopes, versions, marketplace, reactions, mappings,
 * templates and catalogs, the call (stream, non-stream, background, virtual, resumed after a tool
 * approval), A2A, and background-task recovery. Built on the conversations, tasks, files and
 * categories services it is given; toolkits, datasources and integrations come in through
 * the seams in `deps` (empty until those domains fill them).
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import type { CategoryService } from '../categories/service.js';
import type { ConversationService } from '../conversations/service.js';
import type { FileService } from '../files/service.js';
import type { TaskService } from '../tasks/service.js';
import type { MCPServerDetails } from '../mcp/schemas.js';
import { a2aRoutes } from './a2a/routes.js';
import { ApprovalStore } from './approvals.js';
import { AssistantCalls, type AssistantToolsProvider, type CallDeps } from './call.js';
import { catalogRoutes } from './catalog-routes.js';
import { emptyContextCatalog, emptyToolkitCatalog, type ContextCatalog, type ToolkitCatalog } from './catalogs.js';
import { recoverAssistantTasks, registerAssistantTasks } from './background.js';
import { MappingService, noIntegrations, type IntegrationLookup } from './mappings.js';
import { mappingRoutes } from './mapping-routes.js';
import { MarketplaceService } from './marketplace.js';
import { marketplaceRoutes } from './marketplace-routes.js';
import { assistantRoutes } from './routes.js';
import { chatBody } from './schemas.js';
import { SecretBox } from './secret-box.js';
import { AssistantService } from './service.js';
import { UsageService } from './usage.js';
import { versionRoutes } from './version-routes.js';
import type { AssistantLookup } from '../workflows/seams.js';

export interface AssistantServices {
  assistants: AssistantService;
  calls: AssistantCalls;
  marketplace: MarketplaceService;
  usage: UsageService;
  mappings: MappingService;
  /** How workflows read an existing assistant (`assistant_id` in a workflow's YAML): workflows/seams.ts AssistantLookup. */
  lookup: AssistantLookup;
}

export interface AssistantsModuleDeps {
  conversations: ConversationService;
  tasks: TaskService;
  files: FileService;
  categories: CategoryService;
  /** The toolkit catalog of GET /assistants/tools (the toolkits domain fills it). */
  toolkitCatalog?: ToolkitCatalog;
  /** The datasources of GET /assistants/context (the datasources domain fills it). */
  contextCatalog?: ContextCatalog;
  /** Search tools for an assistant's `context` (the knowledge domain). */
  contextTools?: CallDeps['contextTools'];
  /** Tools of an assistant's toolkits and attached skills (the toolkits and skills domains). */
  assistantTools?: AssistantToolsProvider;
  /** The assistant with its attached skills' MCP servers and built-in subagents merged in. */
  contributions?: CallDeps['contributions'];
  /** Integrations for per-user tool mappings (the integrations domain fills it). */
  integrations?: IntegrationLookup;
}

export function assistantsModule(infra: Infra, deps: AssistantsModuleDeps): Module<AssistantServices> {
  const db = infra.store.db;
  const secrets = new SecretBox(infra.settings, infra.config.secretKey);
  const assistants = new AssistantService(db, infra.llm, deps.categories, secrets, { cacheRecords: infra.store.dialect === 'sqlite' });
  const usage = new UsageService(db, assistants.repo);
  const mappings = new MappingService(db, secrets, deps.integrations ?? noIntegrations);
  const approvals = new ApprovalStore(db);
  const marketplace = new MarketplaceService(assistants, deps.categories);
  const calls = new AssistantCalls({
    llm: infra.llm,
    openToolset: (servers, o) => infra.mcp.openToolset(servers as MCPServerDetails[], o),
    tracer: infra.tracer,
    conversations: deps.conversations,
    files: deps.files,
    assistants,
    mappings,
    usage,
    approvals,
    maxDelegationDepth: infra.config.assistantMaxDelegationDepth,
    log: infra.log,
    contextTools: deps.contextTools,
    accounting: infra.usage,
    assistantTools: deps.assistantTools,
    contributions: deps.contributions,
  });
  const background = { assistants, calls, tasks: deps.tasks, runs: infra.runs, log: infra.log };
  // The creator of a workflow execution must own the assistant, or it must be shared (or published).
  const lookup: AssistantLookup = {
    async get(id, user) {
      const a = await assistants.repo.get(id);
      if (!a || (a.created_by.id !== user.id && !a.shared && !a.is_global)) return null;
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
  const a2a = a2aRoutes({
    db,
    assistants,
    publicUrl: infra.config.publicUrl,
    organization: infra.config.a2aProviderOrganization,
    providerUrl: infra.config.a2aProviderUrl,
    async run(assistant, user, text, history, signal) {
      const body = chatBody.parse({ text, history: history.map((h) => ({ role: h.role, message: h.message })), save_history: false });
      const p = await calls.prepare(assistant, body, user, null, undefined, { uncounted: true });
      const r = await calls.complete(p, signal);
      const answer = typeof r.generated === 'string' ? r.generated : JSON.stringify(r.generated);
      return r.success ? { ok: true, text: answer } : { ok: false, text: `${r.errorCode}: ${r.errorMessage}` };
    },
  });
  return {
    name: 'assistants',
    services: { assistants, calls, marketplace, usage, mappings, lookup },
    routes: [
      ...catalogRoutes(assistants, { toolkits: deps.toolkitCatalog ?? emptyToolkitCatalog, context: deps.contextCatalog ?? emptyContextCatalog }),
      ...assistantRoutes({ ...background, config: infra.config, approvals }),
      ...versionRoutes(assistants),
      ...marketplaceRoutes(assistants, marketplace, usage),
      ...mappingRoutes(assistants, mappings, { teamsBot: infra.config.featureTeamsBot }),
      ...a2a,
    ],
    init() {
      registerAssistantTasks(background);
    },
    async started() {
      // Any role may re-enqueue: the queue dedupes by task id, and whichever process consumes runs it.
      await recoverAssistantTasks(background);
    },
  };
}
