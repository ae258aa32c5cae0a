/**
 * The composition root of the domains: each module is built from the infrastructure and the
 * services of the modules it needs, in dependency order. Routes are registered in this order.
 */
import type { Infra } from './infra.js';
import type { Module } from './module.js';
import { assistantsModule } from './assistants/module.js';
import { auditModule } from './audit/routes.js';
import { conversationsModule } from './conversations/module.js';
import { serviceDirectory } from './conversations/directory.js';
import { demoModule } from './demo/module.js';
import { filesModule } from './files/module.js';
import { healthModule } from './health/routes.js';
import { identityModule } from './identity/module.js';
import { knowledgeModule, type KnowledgeModuleOptions } from './knowledge/module.js';
import { assistantsUsing } from './knowledge/assistants-using.js';
import { llmModule } from './llm/routes.js';
import { mcpModule } from './mcp/index.js';
import { metricsModule } from './metrics/routes.js';
import { tasksModule } from './tasks/routes.js';
import { workflowsModule, type WorkflowsModuleDeps } from './workflows/module.js';

/** Replacements of what the modules would build themselves (tests and benchmarks). */
export interface ModuleOverrides {
  workflows?: Pick<WorkflowsModuleDeps, 'assistants' | 'llm' | 'openToolset'>;
  knowledge?: KnowledgeModuleOptions;
}

export function buildModules(infra: Infra, overrides: ModuleOverrides = {}) {
  const identity = identityModule(infra);
  const files = filesModule(infra);
  const conversations = conversationsModule(infra, { files: files.services });
  const tasks = tasksModule(infra);
  const knowledge = knowledgeModule(infra, overrides.knowledge);
  const assistants = assistantsModule(infra, {
    conversations: conversations.services,
    tasks: tasks.services,
    files: files.services,
    contextTools: knowledge.services.contextTools,
  });
  knowledge.services.setAssistantsUsing(assistantsUsing(assistants.services.assistants));
  const workflows = workflowsModule(infra, {
    assistants: assistants.services.lookup,
    files: files.services,
    datasourceTools: knowledge.services.datasourceTools,
    ...overrides.workflows,
  });
  // Conversations show assistants' and workflows' names and icons (those modules are built after it).
  conversations.services.useDirectory(serviceDirectory(assistants.services.assistants, workflows.services));
  const services = {
    identity: identity.services,
    files: files.services,
    conversations: conversations.services,
    tasks: tasks.services,
    assistants: assistants.services,
    workflows: workflows.services,
    knowledge: knowledge.services,
  };
  const modules: Module[] = [
    healthModule(infra),
    metricsModule(infra),
    auditModule(infra),
    llmModule(infra),
    identity,
    mcpModule(infra),
    files,
    knowledge,
    assistants,
    conversations,
    tasks,
    workflows,
    demoModule(infra, { assistants: assistants.services.assistants, workflows: workflows.services, generatedAdminPassword: () => identity.services.generatedAdminPassword }),
  ];
  return { modules, services };
}

export type PlatformServices = ReturnType<typeof buildModules>['services'];
