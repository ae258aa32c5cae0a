/** Every domain module of the platform, in registration order. */
import type { DomainModule } from './context.js';
import { healthModule } from './health/routes.js';
import { metricsModule } from './metrics/routes.js';
import { auditModule } from './audit/routes.js';
import { llmModule } from './llm/routes.js';
import { identityModule } from './identity/module.js';
import { workflowsModule } from './workflows/module.js';

export const allModules: DomainModule[] = [healthModule, identityModule, metricsModule, auditModule, llmModule, workflowsModule];
