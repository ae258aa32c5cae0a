import { describe, expect, it } from 'vitest';
import type { FastifyRequest } from 'fastify';
import type { JWTPayload } from 'jose';
import { bearerAuthenticator } from './authenticator.js';
import { loadConfig } from '../config/config.js';
import type { TokenVerifier } from './verifier.js';

/** A verifier that, like the real one's cache, returns the same payload object for a token. */
function fakeVerifier(payloads: Record<string, JWTPayload>) {
  let calls = 0;
  const verifier = {
    async verify(token: string) {
      calls++;
      return payloads[token];
    },
  } as unknown as TokenVerifier;
  return { verifier, calls: () => calls };
}

const req = (token: string) => ({ headers: { authorization: `Bearer ${token}` } }) as unknown as FastifyRequest;

describe('bearerAuthenticator', () => {
  const names = loadConfig({ CODEMIE_LOCAL_MODEL: 'off' });
  const hints = { howToAuthenticate: () => '' };

  it('reads the user once per verified payload and shares it, frozen', async () => {
    const alice = { sub: 'u-alice', preferred_username: 'alice', realm_access: { roles: ['developer'] } };
    const bob = { sub: 'u-bob', preferred_username: 'bob' };
    const { verifier, calls } = fakeVerifier({ ta: alice, tb: bob });
    const auth = bearerAuthenticator(verifier, names, hints);
    const a1 = await auth.authenticate(req('ta'));
    const a2 = await auth.authenticate(req('ta'));
    const b = await auth.authenticate(req('tb'));
    expect(calls()).toBe(3); // the signature cache is the verifier's business; it is asked every time
    expect(a2).toBe(a1);
    expect(a1).toMatchObject({ id: 'u-alice', username: 'alice', token: 'ta' });
    expect(b).toMatchObject({ id: 'u-bob', username: 'bob', token: 'tb' });
    expect(Object.isFrozen(a1)).toBe(true);
    expect(Object.isFrozen(a1.roles)).toBe(true);
  });

  it('a new payload for the same subject (a refreshed token) is read again', async () => {
    const { verifier } = fakeVerifier({ t1: { sub: 'u', preferred_username: 'old' }, t2: { sub: 'u', preferred_username: 'new' } });
    const auth = bearerAuthenticator(verifier, names, hints);
    expect((await auth.authenticate(req('t1'))).username).toBe('old');
    expect((await auth.authenticate(req('t2'))).username).toBe('new');
  });
});
