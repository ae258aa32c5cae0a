/**
 * The projects domain's view of users (projects/service.ts ProjectUsers), over the identity
 * store: embedded-IdP users and users recorded from trusted issuers' tokens.
 */
import type { AuthUser } from '../api/auth.js';
import type { ProjectUser, ProjectUsers } from '../projects/service.js';
import { EXTERNAL_REALM, type IdentityRepo, type UserRecord } from './repo.js';

export class IdentityProjectUsers implements ProjectUsers {
  private readonly realms: string[];

  constructor(
    private readonly repo: IdentityRepo,
    private readonly realm: string,
    private readonly defaultProjectLimit: number,
  ) {
    this.realms = [realm, EXTERNAL_REALM];
  }

  private known(u: UserRecord | undefined): u is UserRecord {
    return !!u && this.realms.includes(u.realm);
  }

  private toProjectUser(u: UserRecord): ProjectUser {
    return { id: u.id, username: u.username, email: u.email, isActive: u.enabled && !u.deactivatedAt };
  }

  async get(id: string): Promise<ProjectUser | undefined> {
    const u = await this.repo.userRowById(id);
    return this.known(u) ? this.toProjectUser(u) : undefined;
  }

  async getMany(ids: string[]): Promise<Map<string, ProjectUser>> {
    const rows = await this.repo.usersByIds([...new Set(ids)]);
    return new Map(rows.filter((u) => this.known(u)).map((u) => [u.id, this.toProjectUser(u)]));
  }

  async byEmails(emails: string[]): Promise<Map<string, ProjectUser>> {
    const rows = await this.repo.usersByEmails(this.realms, emails);
    const out = new Map<string, ProjectUser>();
    // Embedded users first: they win over an external record with the same address.
    rows.sort((a, b) => Number(b.realm === this.realm) - Number(a.realm === this.realm));
    for (const u of rows) if (!out.has(u.email)) out.set(u.email, this.toProjectUser(u));
    return out;
  }

  async projectLimit(user: AuthUser): Promise<{ active: boolean; limit: number | null }> {
    if (user.isAdmin) return { active: true, limit: null };
    const u = await this.repo.userRowById(user.id);
    return { active: !u || (u.enabled && !u.deactivatedAt), limit: u?.projectLimit ?? this.defaultProjectLimit };
  }
}
