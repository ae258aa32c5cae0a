/**
 * Management access to the identity store outside a running server (the `codemie idp` CLI):
 * opens the same database the server uses (migrating it if needed) with the same config.
 */
import type { Config } from '../config/config.js';
import pino from 'pino';
import { openStore } from '../store/db.js';
import { AuditLog } from '../audit/audit.js';
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
  // A short CLI session: SQLite checkpoints in its own commits, no checkpoint thread.
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, checkpointThread: false });
  // Changes made from the CLI are audited like the server's own (actor: the CLI operator).
  const audit = new AuditLog(store.db, pino({ level: 'silent' }));
  const rt = createIdentityRuntime(config, store, {
    audit: (event, d) => audit.record({ event, outcome: 'success', userId: 'cli', username: d.username ?? null, clientId: d.clientId ?? null, details: { ...d, via: 'cli' } }),
  });
  return {
    admin: rt.admin,
    keys: rt.keys,
    realm: config.idpRealm,
    location: store.location,
    close: async () => {
      await audit.flush();
      await store.close();
    },
  };
}
