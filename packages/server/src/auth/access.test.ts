import { describe, expect, it } from 'vitest';
import type { AuthUser } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import { abilities, canAccessProject, requireAbility, requireAdmin, requireProjectAccess } from './access.js';

const user = (over: Partial<AuthUser> = {}): AuthUser => ({
  id: 'u1',
  username: 'u1',
  name: 'U',
  email: '',
  roles: ['developer'],
  projects: ['demo'],
  adminProjects: ['managed'],
  isAdmin: false,
  userType: 'regular',
  ...over,
});

function thrown(fn: () => void): ApiError {
  try {
    fn();
  } catch (e) {
    return e as ApiError;
  }
  throw new Error('expected a throw');
}

describe('access helpers', () => {
  it('project access: member, project admin or platform admin', () => {
    expect(canAccessProject(user(), 'demo')).toBe(true);
    expect(canAccessProject(user(), 'managed')).toBe(true);
    expect(canAccessProject(user(), 'secret')).toBe(false);
    expect(canAccessProject(user({ isAdmin: true }), 'secret')).toBe(true);
    const err = thrown(() => requireProjectAccess(user(), 'secret'));
    expect(err.status).toBe(403);
    expect(err.toBody().error).toEqual({ message: 'Access denied', details: "You do not have permission to access the project 'secret'.", help: null });
    expect(() => requireProjectAccess(user(), 'demo')).not.toThrow();
  });

  it('requireAdmin → 403 for non-admins', () => {
    expect(thrown(() => requireAdmin(user())).status).toBe(403);
    expect(() => requireAdmin(user({ isAdmin: true }))).not.toThrow();
  });

  it('entity abilities follow the reference rules', () => {
    const all = ['read', 'write', 'delete'];
    expect(abilities(user(), { createdBy: 'u1', project: 'other' })).toEqual(all); // owner
    expect(abilities(user(), { createdBy: 'u2', project: 'managed' })).toEqual(all); // project admin
    expect(abilities(user({ isAdmin: true }), { createdBy: 'u2', project: 'x' })).toEqual(all); // admin
    expect(abilities(user(), { createdBy: 'u2', project: 'demo', shared: true })).toEqual(['read']); // shared + member
    expect(abilities(user(), { createdBy: 'u2', project: 'demo', shared: false })).toEqual([]);
    expect(abilities(user(), { createdBy: 'u2', project: 'other', shared: true })).toEqual([]); // shared, not a member
    expect(abilities(user(), { createdBy: 'u2', project: 'other', isGlobal: true })).toEqual(['read']);
  });

  it('requireAbility → 403 "Access denied" with the action in details', () => {
    const entity = { createdBy: 'u2', project: 'demo', shared: true };
    expect(() => requireAbility(user(), entity, 'read')).not.toThrow();
    const err = thrown(() => requireAbility(user(), entity, 'delete'));
    expect(err.status).toBe(403);
    expect(err.message).toBe('Access denied');
    expect(err.details).toBe('You do not have the necessary permissions to delete this entity.');
    expect(thrown(() => requireAbility(user(), entity, 'write')).details).toBe('You do not have the necessary permissions to update this entity.');
  });
});
