/**
 * The reference's ACL of datasources (core/ability.py, IndexInfo): project members may read AND
 * write a datasource shared with the project; only its owner, the project's admins and platform
 * admins may delete it. Denials are 403 (API contract).
 */
import type { AuthUser } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { DatasourceRow, Visibility } from './store.js';

export type KbAbility = 'read' | 'write' | 'delete';

export const ACCESS_HELP =
  'Please ensure you have the correct role or permissions assigned to your account. If you believe this is an error, contact your system administrator.';
export const CHECK_PERMISSIONS = 'Please check your user permissions or contact an administrator for assistance.';

export function kbAbilities(user: AuthUser, row: Pick<DatasourceRow, 'created_by_id' | 'project_name' | 'project_space_visible' | 'index_type'>): KbAbility[] {
  const owner = row.created_by_id === user.id;
  const manager = user.adminProjects.includes(row.project_name);
  const shared = row.project_space_visible === 1 && (user.projects.includes(row.project_name) || manager);
  const out: KbAbility[] = [];
  if (owner || manager || shared || user.isAdmin) out.push('read');
  if ((owner || manager || shared || user.isAdmin) && !row.index_type.startsWith('platform')) out.push('write');
  if (owner || manager || user.isAdmin) out.push('delete');
  return out;
}

/** `verb` as the reference words it: read, update, delete, search. */
export function requireKb(user: AuthUser, row: DatasourceRow, ability: KbAbility, verb: string = ability): void {
  if (!kbAbilities(user, row).includes(ability)) {
    throw new ApiError(403, 'Access denied', `You do not have the necessary permissions to ${verb} this entity.`, ACCESS_HELP);
  }
}

export function visibilityOf(user: AuthUser): Visibility | null {
  if (user.isAdmin) return null;
  return { userId: user.id, memberProjects: [...new Set([...user.projects, ...user.adminProjects])], adminProjects: user.adminProjects };
}
