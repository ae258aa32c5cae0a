/**
 * Who may do what with workflows and executions (reference §2.4), with 403 for denials
 * (API-CONTRACT overrides the reference's 401). Minimal until the identity module lands.
 */
import type { AuthUser } from '../api/auth.js';
import { forbidden } from '../api/errors.js';

export type Ability = 'read' | 'write' | 'delete';

interface Owned {
  created_by_id: string;
  project: string;
}

export const isManagerOf = (u: AuthUser, project: string) => u.isAdmin || u.adminProjects.includes(project);
export const isProjectMember = (u: AuthUser, project: string) => u.isAdmin || u.projects.includes(project) || u.adminProjects.includes(project);

export function workflowAbilities(u: AuthUser, wf: Owned & { shared: number; is_global?: number }): Ability[] {
  const owner = wf.created_by_id === u.id || isManagerOf(u, wf.project);
  if (owner) return ['read', 'write', 'delete'];
  if (wf.shared && u.projects.includes(wf.project)) return ['read'];
  // Published to the marketplace: every user may see and run it.
  if (wf.is_global) return ['read'];
  return [];
}

export function executionAbilities(u: AuthUser, ex: Owned): Ability[] {
  if (ex.created_by_id === u.id || isManagerOf(u, ex.project)) return ['read', 'write', 'delete'];
  if (u.projects.includes(ex.project)) return ['read'];
  return [];
}

export function denied(action: string) {
  return forbidden(`You do not have the necessary permissions to ${action} this entity.`);
}

export function requireWorkflow(u: AuthUser, wf: Owned & { shared: number; is_global?: number }, ability: Ability): void {
  if (!workflowAbilities(u, wf).includes(ability)) throw denied(ability === 'read' ? 'view' : ability === 'write' ? 'update' : 'delete');
}

export function requireExecution(u: AuthUser, ex: Owned, ability: Ability): void {
  if (!executionAbilities(u, ex).includes(ability)) throw denied(ability === 'read' ? 'view' : ability === 'write' ? 'update' : 'delete');
}

export function requireProject(u: AuthUser, project: string): void {
  if (!isProjectMember(u, project)) throw forbidden(`You do not have permission to access the project '${project}'.`);
}
