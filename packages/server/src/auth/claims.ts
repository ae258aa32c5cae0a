/** Maps verified token claims to the platform's AuthUser; claim names come from configuration. */
import type { JWTPayload } from 'jose';
import type { AuthUser } from '../api/auth.js';
import type { Config } from '../config/config.js';
import { TokenRejected } from './verifier.js';

export type ClaimNames = Pick<
  Config,
  'claimUsername' | 'claimEmail' | 'claimName' | 'claimRoles' | 'claimProjects' | 'claimAdminProjects' | 'claimUserType' | 'adminRole'
>;

/** Reads a dotted path (`realm_access.roles`); a key containing dots also matches as a whole. */
export function claimAt(payload: Record<string, unknown>, path: string): unknown {
  if (path in payload) return payload[path];
  let cur: unknown = payload;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** A string with commas, or an array of such strings → a clean list (Keycloak attributes come both ways). */
export function claimList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
  const out = new Set<string>();
  for (const item of items) {
    if (typeof item !== 'string') continue;
    for (const part of item.split(',')) if (part.trim()) out.add(part.trim());
  }
  return [...out];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

export function claimsToUser(payload: JWTPayload, names: ClaimNames, token: string): AuthUser {
  const p = payload as Record<string, unknown>;
  const id = str(p.sub);
  if (!id) throw new TokenRejected('Token has no subject (sub).');
  const username = str(claimAt(p, names.claimUsername)) ?? id;
  const userType = str(claimAt(p, names.claimUserType)) ?? 'regular';
  if (userType !== 'regular' && userType !== 'external') {
    throw new TokenRejected(`Invalid user_type attribute from IDP: '${userType}' (expected 'regular' or 'external').`);
  }
  const roles = claimList(claimAt(p, names.claimRoles));
  return {
    id,
    username,
    name: str(claimAt(p, names.claimName)) ?? username,
    email: str(claimAt(p, names.claimEmail)) ?? '',
    roles,
    projects: claimList(claimAt(p, names.claimProjects)),
    adminProjects: claimList(claimAt(p, names.claimAdminProjects)),
    isAdmin: roles.includes(names.adminRole),
    userType,
    token,
  };
}
