/** Every domain module of the platform, in registration order. */
import type { DomainModule } from './context.js';
import { auditModule } from './audit/routes.js';
import { assistantsModule } from './assistants/module.js';
import { healthModule } from './health/routes.js';
import { identityModule } from './identity/module.js';
import { llmModule } from './llm/routes.js';
import { mcpModule } from './mcp/index.js';
import { metricsModule } from './metrics/routes.js';
import { workflowsModule } from './workflows/module.js';

export const allModules: DomainModule[] = [
  healthModule,
  metricsModule,
  auditModule,
  llmModule,
  identityModule,
  mcpModule,
  assistantsModule,
  workflowsModule,
];
