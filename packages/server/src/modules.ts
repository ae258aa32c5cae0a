/** Every domain module of the platform, in registration order. */
import type { DomainModule } from './context.js';
import { healthModule } from './health/routes.js';
import { llmModule } from './llm/routes.js';
import { workflowsModule } from './workflows/module.js';

export const allModules: DomainModule[] = [healthModule, llmModule, workflowsModule];
