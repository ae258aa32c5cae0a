/**
 * The integrations module: credential sets of users and projects, sealed by the keyring
 * (CODEMIE_SECRET_KEY, or a key generated into the data directory). Its service is how other domains
 * read a decrypted credential: `integrations.resolve({user, project, id | alias, type})`.
 * At start-up, values sealed under a previous key (CODEMIE_SECRET_KEY_PREVIOUS) are re-encrypted.
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import type { MembershipStore } from '../projects/memberships.js';
import { generatedKeyWarning, keyringOf, type Keyring } from './keyring.js';
import { integrationRoutes } from './routes.js';
import { IntegrationService } from './service.js';
import { validateGit, validateLiteLlm } from './validators.js';
import { builtInTesters, type KindTester } from './tester.js';

export interface IntegrationsServices {
  integrations: IntegrationService;
  keyring: Keyring;
  /** Adds the test of a kind (`/v1/settings/test/`). */
  useTester(type: string, t: KindTester): void;
}

export function integrationsModule(infra: Infra, deps: { memberships: MembershipStore }): Module<IntegrationsServices> {
  const keyring = keyringOf(infra.config);
  if (keyring.generated) infra.log.warn(generatedKeyWarning(infra.config.dataDir));
  else if (keyring.source === 'file' && infra.store.dialect !== 'sqlite') {
    infra.log.warn(
      `CODEMIE_SECRET_KEY is not set: credentials are encrypted with the key in ${infra.config.dataDir}/secret.key. With PostgreSQL, set CODEMIE_SECRET_KEY on every process so they can all read them.`,
    );
  }
  const integrations = new IntegrationService({ db: infra.store.db, keyring, memberships: deps.memberships, audit: infra.audit });
  integrations.useValidator('Git', validateGit);
  integrations.useValidator('LiteLLM', validateLiteLlm);
  const testers = new Map<string, KindTester>(Object.entries(builtInTesters));
  return {
    name: 'integrations',
    services: { integrations, keyring, useTester: (t, fn) => testers.set(t, fn) },
    routes: integrationRoutes(integrations, testers),
    async init() {
      const { rotated, unreadable } = await integrations.rotateKeys();
      if (rotated) infra.log.info({ count: rotated }, 'integrations re-encrypted under the current CODEMIE_SECRET_KEY');
      if (unreadable) {
        infra.log.error(
          { count: unreadable },
          'some stored integrations were encrypted with a key this process does not have: set CODEMIE_SECRET_KEY to that key (or add it to CODEMIE_SECRET_KEY_PREVIOUS)',
        );
      }
    },
  };
}
