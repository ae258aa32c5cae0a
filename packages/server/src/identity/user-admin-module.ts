/**
 * "Me" (/v1/user, /v1/user/data), local login and the user-admin API (/v1/admin/users...): built
 * after the projects module, on the identity runtime and the projects service.
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import type { ProjectService } from '../projects/service.js';
import type { IdentityServices } from './module.js';
import { KeycloakAdmin } from './keycloak-admin.js';
import { UserAdminService } from './user-admin.js';
import { userAdminRoutes } from './user-admin-routes.js';
import { userRoutes } from './user-routes.js';

export function userAdminModule(infra: Infra, deps: { identity: IdentityServices; projects: ProjectService }): Module<UserAdminService> {
  const { config } = infra;
  const { identity } = deps;
  const users = new UserAdminService({
    db: infra.store.db,
    repo: identity.repo,
    admin: identity.admin,
    memberships: identity.memberships,
    projects: deps.projects,
    realm: config.idpRealm,
    embedded: identity.embedded,
    adminRole: config.adminRole,
    auditorRole: config.auditorRole,
    defaultProjectLimit: config.userProjectLimit,
    keycloak: identity.embedded ? undefined : KeycloakAdmin.fromConfig(config),
    audit: infra.audit,
  });
  return {
    name: 'users',
    services: users,
    routes: [...userRoutes({ config, rt: identity, effective: identity.effective, users, audit: infra.audit }), ...userAdminRoutes(users)],
  };
}
