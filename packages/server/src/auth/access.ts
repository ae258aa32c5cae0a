/**
 * Authorization helpers for every domain: project membership, admin-only routes, and the
 * entity ACL of the reference (owner / project admin / platform admin may write and delete;
 * project members may read shared entities). Denials are 403, as the API contract says.
 */
import type { AuthUser } from '../api/auth.js';
import { forbidden } from '../api/errors.js';

export type Ability = 'read' | 'write' | 'delete';

export interface EntityAccess {
  /** Id of the user who created the entity. */
  createdBy: string | null | undefined;
  project: string | null | undefined;
  /** Shared with the members of its project. */
  shared?: boolean;
  /** Marketplace/global entities are readable by everyone. */
  isGlobal?: boolean;
}

export function canAccessProject(user: AuthUser, project: string): boolean {
  return user.isAdmin || user.projects.includes(project) || user.adminProjects.includes(project);
}

export function requireProjectAccess(user: AuthUser, project: string): void {
  if (!canAccessProject(user, project)) {
    throw forbidden(`You do not have permission to access the project '${project}'.`);
  }
}

export function requireAdmin(user: AuthUser): void {
  if (!user.isAdmin) throw forbidden('This action requires administrator or maintainer privileges.');
}

export function abilities(user: AuthUser, entity: EntityAccess): Ability[] {
  const owner = !!entity.createdBy && entity.createdBy === user.id;
  const manager = !!entity.project && user.adminProjects.includes(entity.project);
  if (owner || manager || user.isAdmin) return ['read', 'write', 'delete'];
  const member = !!entity.project && (user.projects.includes(entity.project) || user.adminProjects.includes(entity.project));
  if (entity.isGlobal || (entity.shared && member)) return ['read'];
  return [];
}

const VERB: Record<Ability, string> = { read: 'view', write: 'update', delete: 'delete' };

export function requireAbility(user: AuthUser, entity: EntityAccess, action: Ability): void {
  if (!abilities(user, entity).includes(action)) {
    throw forbidden(`You do not have the necessary permissions to ${VERB[action]} this entity.`);
  }
}
