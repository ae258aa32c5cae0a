/** An assistant as the entity ACL (auth/access.ts) sees it: owner, project, shared, published. */
import type { EntityAccess } from '../auth/access.js';
import type { AssistantRecord } from './repo.js';

export function access(a: AssistantRecord): EntityAccess {
  return { createdBy: a.created_by.id, project: a.project, shared: a.shared, isGlobal: a.is_global };
}
