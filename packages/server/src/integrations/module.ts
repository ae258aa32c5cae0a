/**
 * The integrations module: credential sets of users and projects, sealed by the keyring
 * (CODEMIE_SECRET_KEY, or a key generated into the data directory). Its service is how other domains
 * read a decrypted credential: `integrations.resolve({user, project, id | alias, type})`.
 * At start-up, values sealed under a previous key (CODEMIE_SECRET_KEY_PREVIOUS) are re-encrypted.
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import type { MembershipStore } from '../projects/memberships.js';
import { Keyring } from './keyring.js';
import { integrationRoutes } from './routes.js';
import { IntegrationService } from './service.js';
import { builtInTesters, type KindTester } from './tester.js';

export interface IntegrationsServices {
  integrations: IntegrationService;
  keyring: Keyring;
  /** Adds the test of a kind (`/v1/settings/test/`). */
  useTester(type: string, t: KindTester): void;
}

export function keyringOf(infra: Infra): Keyring {
  return new Keyring({
    secretKey: infra.config.secretKey,
    previousKeys: infra.config.secretKeyPrevious,
    dataDir: infra.config.dataDir,
    warn: (m) => infra.log.warn(m),
  });
}

export function integrationsModule(infra: Infra, deps: { memberships: MembershipStore }): Module<IntegrationsServices> {
  const keyring = keyringOf(infra);
  const integrations = new IntegrationService({ db: infra.store.db, keyring, memberships: deps.memberships, audit: infra.audit });
  const testers = new Map<string, KindTester>(Object.entries(builtInTesters));
  return {
    name: 'integrations',
    services: { integrations, keyring, useTester: (t, fn) => testers.set(t, fn) },
    routes: integrationRoutes(integrations, testers),
    async init() {
      const n = await integrations.rotateKeys();
      if (n) infra.log.info({ count: n }, 'integrations re-encrypted under the current CODEMIE_SECRET_KEY');
    },
  };
}
