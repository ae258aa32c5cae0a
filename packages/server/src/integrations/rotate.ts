/**
 * `codemie secrets rotate`: re-encrypts, under the current CODEMIE_SECRET_KEY, every stored
 * integration and embedded-IdP signing key sealed under a key listed in CODEMIE_SECRET_KEY_PREVIOUS
 * (and seals signing keys still stored in plaintext). The server does the same at start-up; the
 * command does it without starting one (e.g. before removing the old key from the environment).
 */
import type { Config } from '../config/config.js';
import { SigningKeys } from '../identity/keys.js';
import type { MembershipStore } from '../projects/memberships.js';
import { openStore } from '../store/db.js';
import { keyringOf } from './keyring.js';
import { IntegrationService } from './service.js';

export interface RotationResult {
  keyId: string;
  integrationsRotated: number;
  integrationsUnreadable: number;
  location: string;
}

export async function rotateSecretKey(config: Config): Promise<RotationResult> {
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, checkpointThread: false });
  try {
    const keyring = keyringOf(config);
    const svc = new IntegrationService({ db: store.db, keyring, memberships: null as unknown as MembershipStore });
    const { rotated, unreadable } = await svc.rotateKeys();
    if (config.secretKey || store.dialect === 'sqlite') {
      const keys = new SigningKeys(store.db, 0);
      keys.useSealer(keyring);
      await keys.reload();
    }
    return { keyId: keyring.current.id, integrationsRotated: rotated, integrationsUnreadable: unreadable, location: store.location };
  } finally {
    await store.close();
  }
}
