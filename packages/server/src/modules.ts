/** Every domain module of the platform, in registration order. */
import type { DomainModule } from './context.js';
import { healthModule } from './health/routes.js';
import { identityModule } from './identity/module.js';

export const allModules: DomainModule[] = [healthModule, identityModule];
