/**
 * The one place where a caller's effective identity is computed: the verified token's claims
 * (auth/claims.ts) joined with what the store says about the user.
 *
 * - Users of the embedded IdP: the store is authoritative. Roles, enabled flag, name and e-mail come
 *   from their `idp_users` row and projects from their stored memberships; the project claims in
 *   their tokens are a copy made at issue time and are not read (so a removal takes effect at once,
 *   not when the token expires).
 * - Users of a trusted external issuer (Keycloak): roles come from the token; projects are the
 *   stored memberships **plus** the `applications` / `applications_admin` claims, so realms that
 *   manage projects in Keycloak keep working. The user is recorded on first sight (so it can be
 *   listed and assigned to projects by id) and the projects its claims name get project rows.
 * - A deactivated user is refused (401 "Account is deactivated") whatever its token says.
 *
 * Per-process cache: one entry per user id, filled by two indexed queries (user row, memberships),
 * kept `ttlMs` and dropped at once when this process writes a membership or user (and, with Redis,
 * when any process does: see `RedisInvalidation`). A fill that raced a write is not kept.
 */
import type { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import type { Authenticator, AuthUser } from '../api/auth.js';
import { ApiError, unauthorized } from '../api/errors.js';
import { deepFreeze } from '../deep-freeze.js';
import type { Membership, MembershipStore } from '../projects/memberships.js';
import { EXTERNAL_REALM, type IdentityRepo, type UserRecord } from './repo.js';
import { trackCache } from '../metrics/caches.js';

interface Entry {
  until: number;
  row: UserRecord | undefined;
  memberships: Membership[];
}

export interface EffectiveUsersOptions {
  repo: IdentityRepo;
  memberships: MembershipStore;
  /** Realm of the embedded IdP (rows of other realms are external users). */
  realm: string;
  /** Whether the embedded IdP runs, and the external issuers trusted (they win over the realm-suffix rule, as in the verifier). */
  embedded: boolean;
  trustedIssuers: string[];
  adminRole: string;
  auditorRole: string;
  /** How long an entry is kept without a write (0: no cache). */
  ttlMs: number;
  /** Told about every local invalidation (cross-process fan-out). */
  onInvalidate?: (userIds: string[]) => void;
  onError?: (err: Error) => void;
}

const CACHE_MAX = 20_000;
const LAST_SEEN_EVERY_MS = 60 * 60_000;

export const accountDeactivated = () =>
  new ApiError(401, 'Account is deactivated', 'This account was deactivated by an administrator.', 'Contact your administrator to reactivate it.');

const uniq = (a: string[], b: string[]) => (b.length ? [...new Set([...a, ...b])] : a);

export class EffectiveUsers {
  private readonly cache = new Map<string, Entry>();
  /** Bumped by every invalidation: a fill that started before one is not kept. */
  private version = 0;
  private readonly merged = new WeakMap<AuthUser, { entry: Entry; user: AuthUser }>();
  /** Project names known to have a row (claims of external users). */
  private readonly knownProjects = new Set<string>();

  constructor(private readonly opts: EffectiveUsersOptions) {
    trackCache('effective_users', this, (e) => e.cache.size, CACHE_MAX);
    opts.memberships.onChange((ids) => this.invalidate(ids));
  }

  /** Wraps an authenticator that reads tokens (or test headers) into one that yields the effective user. */
  wrap(inner: Authenticator): Authenticator {
    return {
      authenticate: async (req) => this.resolve(await inner.authenticate(req)),
    };
  }

  /** Drops cached entries (`'*'`: all), here and, through onInvalidate, in the other processes. */
  invalidate(userIds: string[] | '*', fromRemote = false): void {
    this.version++;
    if (userIds === '*') {
      this.cache.clear();
      this.knownProjects.clear();
    } else for (const id of userIds) this.cache.delete(id);
    if (!fromRemote) this.opts.onInvalidate?.(userIds === '*' ? ['*'] : userIds);
  }

  async resolve(claimed: AuthUser): Promise<AuthUser> {
    const entry = await this.entry(claimed);
    const row = entry.row;
    if (row && (!row.enabled || row.deactivatedAt)) throw accountDeactivated();
    const hit = this.merged.get(claimed);
    if (hit && hit.entry === entry) return hit.user;
    const user = deepFreeze(this.merge(claimed, entry));
    this.merged.set(claimed, { entry, user });
    return user;
  }

  private merge(claimed: AuthUser, entry: Entry): AuthUser {
    const stored = entry.memberships.map((m) => m.project);
    const storedAdmin = entry.memberships.filter((m) => m.isProjectAdmin).map((m) => m.project);
    const row = entry.row;
    if (row && row.realm !== EXTERNAL_REALM) {
      // Embedded IdP user: the store is authoritative.
      const isAdmin = row.roles.includes(this.opts.adminRole);
      return {
        ...claimed,
        username: row.username,
        name: row.name,
        email: row.email,
        roles: row.roles,
        userType: row.userType,
        projects: stored,
        adminProjects: storedAdmin,
        isAdmin,
        isMaintainer: isAdmin,
        isAuditor: row.roles.includes(this.opts.auditorRole),
      };
    }
    return {
      ...claimed,
      projects: uniq(claimed.projects, stored),
      adminProjects: uniq(claimed.adminProjects, storedAdmin),
      isMaintainer: claimed.isAdmin,
      isAuditor: claimed.isAuditor ?? claimed.roles.includes(this.opts.auditorRole),
    };
  }

  private async entry(claimed: AuthUser): Promise<Entry> {
    const now = Date.now();
    const hit = this.cache.get(claimed.id);
    if (hit && hit.until > now) return hit;
    const version = this.version;
    let row = await this.opts.repo.userRowById(claimed.id);
    // A token of this server's own IdP whose user was removed since: not an external user.
    if (!row && this.issuedHere(claimed)) throw unauthorized('The user of this token no longer exists.');
    if (!row || row.realm === EXTERNAL_REALM) row = await this.recordExternal(claimed, row);
    const memberships = await this.opts.memberships.of(claimed.id);
    const entry: Entry = { until: now + this.opts.ttlMs, row, memberships };
    if (this.opts.ttlMs > 0 && version === this.version) {
      if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(claimed.id, entry);
    }
    return entry;
  }

  private issuedHere(u: AuthUser): boolean {
    if (!this.opts.embedded || !u.token) return false;
    try {
      const iss = decodeJwt(u.token).iss;
      if (typeof iss !== 'string') return false;
      const clean = iss.replace(/\/+$/, '');
      return !this.opts.trustedIssuers.some((t) => t.replace(/\/+$/, '') === clean) && clean.endsWith(`/auth/realms/${this.opts.realm}`);
    } catch {
      return false;
    }
  }

  /**
   * Records (or refreshes) a user known only from a token: username, e-mail, name, roles and user
   * type as the token says, last seen at most hourly; project rows for the projects its claims
   * name. Failures are logged, never fatal to the request.
   */
  private async recordExternal(u: AuthUser, row: UserRecord | undefined): Promise<UserRecord | undefined> {
    const repo = this.opts.repo;
    try {
      const claimedProjects = uniq(u.projects, u.adminProjects).filter((p) => !this.knownProjects.has(p));
      if (claimedProjects.length) {
        await this.opts.memberships.ensureProjects(claimedProjects);
        for (const p of claimedProjects) if (this.knownProjects.size < 10_000) this.knownProjects.add(p);
      }
      const now = new Date().toISOString();
      if (!row) {
        for (const username of [u.username, `${u.username}#${u.id}`.slice(0, 255)]) {
          const inserted = await repo.db
            .insertInto('idp_users')
            .values({
              id: u.id,
              realm: EXTERNAL_REALM,
              username: username.toLowerCase(),
              email: (u.email ?? '').toLowerCase(),
              name: u.name,
              password_hash: null,
              roles: JSON.stringify(u.roles),
              projects: '[]',
              admin_projects: '[]',
              user_type: u.userType,
              enabled: 1,
              service_account_client: null,
              project_limit: null,
              picture: null,
              last_login_at: now,
              deactivated_at: null,
              auth_source: 'keycloak',
              created_at: now,
              updated_at: now,
            })
            .onConflict((oc) => oc.doNothing())
            .executeTakeFirst();
          if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) break;
          if (await repo.userRowById(u.id)) break; // a concurrent request recorded it
        }
        return repo.userRowById(u.id);
      }
      const changed =
        row.email !== (u.email ?? '').toLowerCase() ||
        row.name !== u.name ||
        row.userType !== u.userType ||
        JSON.stringify(row.roles) !== JSON.stringify(u.roles);
      const stale = !row.lastLoginAt || Date.parse(row.lastLoginAt) < Date.now() - LAST_SEEN_EVERY_MS;
      if (changed || stale) {
        await repo.updateUser(row.id, { email: u.email ?? '', name: u.name, userType: u.userType, roles: u.roles, lastLoginAt: now });
        return repo.userRowById(u.id);
      }
      return row;
    } catch (err) {
      this.opts.onError?.(err as Error);
      return row;
    }
  }
}

/**
 * Cross-process invalidation over Redis pub/sub (scale-out): every process publishes the ids whose
 * memberships or flags it changed and drops the entries others announce.
 */
export class RedisInvalidation {
  private readonly sub: Redis;
  private readonly channel: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly onMessage: (userIds: string[] | '*') => void,
    private readonly onError: (err: Error) => void,
  ) {
    this.channel = `${prefix}:identity:changed`;
    this.sub = redis.duplicate();
    this.sub.on('error', onError);
    this.sub.on('message', (_ch: string, msg: string) => {
      try {
        const ids = JSON.parse(msg) as string[];
        this.onMessage(ids.includes('*') ? '*' : ids);
      } catch (err) {
        onError(err as Error);
      }
    });
    // ioredis subscribes again after a reconnect; what was announced meanwhile is lost, so
    // everything cached is dropped then.
    let connected = false;
    this.sub.on('ready', () => {
      if (connected) this.onMessage('*');
      connected = true;
    });
    this.sub.subscribe(this.channel).catch(onError);
  }

  publish(userIds: string[]): void {
    this.redis.publish(this.channel, JSON.stringify(userIds)).catch(this.onError);
  }

  async close(): Promise<void> {
    await this.sub.quit().catch(() => undefined);
  }
}
