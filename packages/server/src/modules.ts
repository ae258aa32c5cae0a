/**
 * The composition root of the domains: each module is built from the infrastructure and the
 * services of the modules it needs, in dependency order. Routes are registered in this order.
 */
import type { Infra } from './infra.js';
import type { Module } from './module.js';
import { analyticsModule } from './analytics/module.js';
import { assistantsModule } from './assistants/module.js';
import { auditModule } from './audit/routes.js';
import { categoriesModule } from './categories/module.js';
import { conversationsModule } from './conversations/module.js';
import { serviceDirectory } from './conversations/directory.js';
import { consoleModule } from './console/module.js';
import { demoModule } from './demo/module.js';
import { filesModule } from './files/module.js';
import { healthModule } from './health/routes.js';
import { identityModule } from './identity/module.js';
import { integrationsModule } from './integrations/module.js';
import { toolCredentials } from './integrations/tool-credentials.js';
import { knowledgeModule, type KnowledgeModuleOptions } from './knowledge/module.js';
import { assistantsUsing } from './knowledge/assistants-using.js';
import { llmModule } from './llm/routes.js';
import { mcpModule } from './mcp/index.js';
import { metricsModule } from './metrics/routes.js';
import { projectsModule } from './projects/module.js';
import { runtimeConfigModule } from './runtime-config/module.js';
import { userAdminModule } from './identity/user-admin-module.js';
import { tasksModule } from './tasks/routes.js';
import { skillsModule } from './skills/module.js';
import { skillAssistants } from './skills/assistant-link.js';
import { toolkitsModule } from './toolkits/module.js';
import { providersModule } from './providers/module.js';
import { triggersModule } from './triggers/module.js';
import { workflowsModule, type WorkflowsModuleDeps } from './workflows/module.js';

/** Replacements of what the modules would build themselves (tests and benchmarks). */
export interface ModuleOverrides {
  workflows?: Pick<WorkflowsModuleDeps, 'assistants' | 'llm' | 'openToolset'>;
  knowledge?: KnowledgeModuleOptions;
}

export function buildModules(infra: Infra, overrides: ModuleOverrides = {}) {
  const identity = identityModule(infra);
  const files = filesModule(infra);
  const integrations = integrationsModule(infra, { memberships: identity.services.memberships });
  const conversations = conversationsModule(infra, { files: files.services });
  const tasks = tasksModule(infra);
  const categories = categoriesModule(infra);
  const knowledge = knowledgeModule(infra, overrides.knowledge);
  const skills = skillsModule(infra);
  const toolkits = toolkitsModule(infra);
  // Toolkit credentials come from the integrations store (besides those given inline).
  toolkits.services.useCredentials(toolCredentials(integrations.services.integrations));
  const assistants = assistantsModule(infra, {
    conversations: conversations.services,
    tasks: tasks.services,
    files: files.services,
    categories: categories.services,
    toolkitCatalog: () => toolkits.services.catalog(),
    contextCatalog: (project, user) => knowledge.services.service.contextFor(user, project),
    contextTools: knowledge.services.contextTools,
    // Toolkit tools (the assistant's and those its attached skills require) and the skill tools.
    assistantTools: async (a, ctx) => {
      const skillIds = Array.isArray(a.data.skill_ids) ? (a.data.skill_ids as string[]) : [];
      const attached = skillIds.length ? await skills.services.service.readableMany(skillIds, ctx.user) : [];
      const kits = [...((a.data.toolkits as unknown[]) ?? []), ...attached.flatMap((s) => s.toolkits)];
      return [
        ...toolkits.services.toolsFor(kits, { user: ctx.user, project: a.project, workspace: ctx.conversationId }),
        ...(await skills.services.tools(skillIds, { user: ctx.user, assistantId: a.id, project: a.project, conversationId: ctx.conversationId })),
      ];
    },
    contributions: (a, user) => skills.services.contributions(a, user),
    integrations: { get: (id) => integrations.services.integrations.ref(id) },
  });
  skills.services.useAssistants(skillAssistants(assistants.services.assistants));
  assistants.services.assistants.skillInfo = async (ids, user) =>
    (await skills.services.service.readableMany(ids, user)).map((s) => ({ id: s.id, name: s.name, description: s.description }));
  knowledge.services.setAssistantsUsing(assistantsUsing(assistants.services.assistants));
  const workflows = workflowsModule(infra, {
    assistants: assistants.services.lookup,
    files: files.services,
    datasourceTools: knowledge.services.datasourceTools,
    ...overrides.workflows,
  });
  // Conversations show assistants' and workflows' names and icons (those modules are built after it).
  conversations.services.useDirectory(serviceDirectory(assistants.services.assistants, workflows.services));
  // Projects count the entities other domains hold in them, through those domains' services.
  const projects = projectsModule(infra, {
    memberships: identity.services.memberships,
    users: identity.services.projectUsers,
    counters: [
      { counter: 'assistants_count', count: (names) => assistants.services.assistants.repo.countByProject(names) },
      { counter: 'workflows_count', count: (names) => workflows.services.countByProject(names) },
    ],
  });
  const users = userAdminModule(infra, { identity: identity.services, projects: projects.services });
  const runtimeConfig = runtimeConfigModule(infra);
  const triggers = triggersModule(infra, {
    integrations: integrations.services,
    workflows: workflows.services,
    assistants: assistants.services,
    tasks: tasks.services,
    identity: identity.services.repo,
  });
  const analytics = analyticsModule(infra, {
    members: async (project) => (await identity.services.memberships.members(project)).map((m) => m.userId),
    canonicalProject: (name) => identity.services.memberships.canonicalName(name),
  });
  const services = {
    identity: identity.services,
    files: files.services,
    conversations: conversations.services,
    tasks: tasks.services,
    categories: categories.services,
    assistants: assistants.services,
    workflows: workflows.services,
    projects: projects.services,
    users: users.services,
    runtimeConfig: runtimeConfig.services,
    knowledge: knowledge.services,
    analytics: analytics.services,
    skills: skills.services,
    toolkits: toolkits.services,
    integrations: integrations.services,
    triggers: triggers.services,
  };
  const modules: Module[] = [
    healthModule(infra),
    metricsModule(infra),
    auditModule(infra),
    llmModule(infra),
    identity,
    projects,
    users,
    runtimeConfig,
    integrations,
    mcpModule(infra),
    files,
    categories,
    knowledge,
    skills,
    toolkits,
    providersModule(infra),
    assistants,
    conversations,
    tasks,
    workflows,
    triggers,
    analytics,
    demoModule(infra, {
      assistants: assistants.services.assistants,
      workflows: workflows.services,
      generatedAdminPassword: () => identity.services.generatedAdminPassword,
    }),
    consoleModule(infra),
  ];
  return { modules, services };
}

export type PlatformServices = ReturnType<typeof buildModules>['services'];
