/**
 * The projects module: stored projects and memberships (the membership store is the identity
 * runtime's, so the authenticator and this service share one), `/v1/projects...` and the admin
 * "applications" views. Entity counters come from the domains that own the entities.
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import type { MembershipStore } from './memberships.js';
import { csvScope, projectRoutes } from './routes.js';
import { ProjectService, type ProjectResourceCounter, type ProjectUsers } from './service.js';

export interface ProjectsModuleDeps {
  memberships: MembershipStore;
  users: ProjectUsers;
  /** How many entities of each kind every project holds (assistants, workflows, ...). */
  counters: ProjectResourceCounter[];
}

export function projectsModule(infra: Infra, deps: ProjectsModuleDeps): Module<ProjectService> {
  const projects = new ProjectService({ db: infra.store.db, memberships: deps.memberships, users: deps.users, counters: deps.counters, audit: infra.audit });
  return {
    name: 'projects',
    services: projects,
    routes: projectRoutes(projects),
    scopes: [csvScope(projects)],
  };
}
