/**
 * Management access to the identity store outside a running server (the `codemie idp` CLI):
 * opens the same database the server uses (migrating it if needed) with the same config.
 */
import type { Config } from '../config/config.js';
import { openStore } from '../store/db.js';
import { createIdentityRuntime } from './runtime.js';
import type { IdentityAdmin } from './admin.js';
import type { SigningKeys } from './keys.js';

export interface IdentityAdminSession {
  admin: IdentityAdmin;
  keys: SigningKeys;
  realm: string;
  /** Where the data lives (for messages). */
  location: string;
  close(): Promise<void>;
}

export async function openIdentityAdmin(config: Config): Promise<IdentityAdminSession> {
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  const rt = createIdentityRuntime(config, store);
  return { admin: rt.admin, keys: rt.keys, realm: config.idpRealm, location: store.location, close: () => store.close() };
}
