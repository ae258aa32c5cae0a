/** Every domain module of the platform, in registration order. */
import type { DomainModule } from './context.js';
import { assistantLookup, assistantsModule, conversationsModule, tasksModule } from './assistants/module.js';
import { auditModule } from './audit/routes.js';
import { demoModule } from './demo/module.js';
import { filesModule } from './files/module.js';
import { healthModule } from './health/routes.js';
import { identityModule } from './identity/module.js';
import { llmModule } from './llm/routes.js';
import { mcpModule } from './mcp/index.js';
import { metricsModule } from './metrics/routes.js';
import { createWorkflowsModule } from './workflows/module.js';

export const allModules: DomainModule[] = [
  healthModule,
  metricsModule,
  auditModule,
  llmModule,
  identityModule,
  mcpModule,
  filesModule,
  assistantsModule,
  conversationsModule,
  tasksModule,
  createWorkflowsModule({ assistants: assistantLookup }),
  demoModule,
];
