/** The reference's error texts of the assistants API (spec §2.0), in one place. */
import type { AuthUser } from '../api/auth.js';
import { ApiError, badRequest, forbidden } from '../api/errors.js';
import { abilities, canAccessProject, type Ability, type EntityAccess } from '../auth/access.js';

export const ACL_HELP =
  'Please ensure you have the correct role or permissions assigned to your account. If you believe this is an error, contact your system administrator.';
export const PROJECT_HELP = 'If you believe you should have access to this project, please contact your system administrator or the project owner.';
export const SAVE_HELP =
  'Please check the assistant data for any invalid fields or constraints. If you continue to experience issues, please contact support with the error details.';

export function assistantNotFound(id: string) {
  return new ApiError(404, 'Assistant not found', `No assistant found with the id '${id}'.`, 'Please check the assistant id and ensure it is correct. ');
}

export function slugNotFound(slug: string, project?: string) {
  return new ApiError(
    404,
    'Assistant not found',
    `No assistant found with the slug '${slug}'${project ? ` in project '${project}'` : ''}.`,
    'Please check the assistant slug and ensure it is correct. ',
  );
}

/** 403 (the reference answers 401) "Access denied" for `action` (view, update, delete, write). */
export function accessDenied(action: string) {
  return forbidden(`You do not have the necessary permissions to ${action} this entity.`, 'Access denied', ACL_HELP);
}

const VERB: Record<Ability, string> = { read: 'view', write: 'update', delete: 'delete' };

export function requireAssistantAbility(user: AuthUser, entity: EntityAccess, ability: Ability, action = VERB[ability]): void {
  if (!abilities(user, entity).includes(ability)) throw accessDenied(action);
}

export function requireProject(user: AuthUser, project: string): void {
  if (!canAccessProject(user, project)) throw forbidden(`You do not have permission to access the project '${project}'.`, 'Access denied', PROJECT_HELP);
}

/** 400 "Failed to <op> assistant" with the reference's details sentence. */
export function operationError(op: 'save' | 'update' | 'publish to marketplace' | 'unpublish from marketplace', message: string) {
  return badRequest(`Failed to ${op} assistant`, `An error occurred while trying to ${op} the assistant: ${message}`, SAVE_HELP);
}

export function slugTakenMessage(slug: string) {
  return `Slug '${slug}' is already used by another assistant in this project. Slugs must be unique within a project — please choose a different slug.`;
}
