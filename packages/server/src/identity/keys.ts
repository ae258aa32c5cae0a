/**
 * RS256 signing keys of the embedded IdP, persisted in the database so every process and
 * every restart signs and verifies with the same keys. Rotation adds a key and retires the
 * previous one; a retired key stays in the JWKS (and keeps verifying) until every token it
 * signed has expired. Processes reload the key set periodically and on an unknown `kid`,
 * so a rotation done by another process (or the CLI) is picked up without a restart.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { fromJson } from '../store/json.js';

export const SIGNING_ALG = 'RS256';

export interface KeyInfo {
  kid: string;
  alg: string;
  createdAt: string;
  retiredAt: string | null;
  /** Still published in the JWKS. */
  published: boolean;
  active: boolean;
}

interface LoadedKey {
  info: KeyInfo;
  publicJwk: JWK;
  publicKey: CryptoKey;
  privateKey?: CryptoKey;
}

export async function newSigningKeyRow(): Promise<Database['idp_signing_keys']> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { modulusLength: 2048, extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  const priv = await exportJWK(privateKey);
  return {
    kid,
    alg: SIGNING_ALG,
    private_jwk: JSON.stringify({ ...priv, kid, alg: SIGNING_ALG }),
    public_jwk: JSON.stringify({ ...pub, kid, alg: SIGNING_ALG, use: 'sig' }),
    created_at: new Date().toISOString(),
    retired_at: null,
  };
}

/** Encryption of the private keys at rest (integrations/keyring.ts: CODEMIE_SECRET_KEY). */
export interface KeySealer {
  seal(plain: string): string;
  open(sealed: string): string;
  /** Sealed under an earlier key (re-encrypted at the next reload). */
  isStale?(sealed: string): boolean;
}

/** Sealed private keys start with the keyring's prefix; plaintext ones are JWK JSON. */
const isPlainJwk = (v: string) => v.trimStart().startsWith('{');

export class SigningKeys {
  private keys = new Map<string, LoadedKey>();
  private sealer: KeySealer | undefined;
  private activeKid: string | undefined;
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    /** How long a retired key stays published: the longest token lifetime plus clock leeway. */
    private readonly retentionSeconds: number,
    private readonly reloadEveryMs = 60_000,
    private readonly unknownKidCooldownMs = 5_000,
  ) {}

  /**
   * Private keys are stored sealed from now on; keys stored in plaintext by earlier versions are
   * sealed at the next reload (the migration path).
   */
  useSealer(sealer: KeySealer): void {
    this.sealer = sealer;
  }

  private privateText(stored: string): string {
    if (isPlainJwk(stored)) return stored;
    if (!this.sealer) throw new Error('The signing key is encrypted but no CODEMIE_SECRET_KEY keyring is configured');
    return this.sealer.open(stored);
  }

  private async sealPlaintextKeys(): Promise<void> {
    if (!this.sealer) return;
    const rows = await this.db.selectFrom('idp_signing_keys').select(['kid', 'private_jwk']).execute();
    for (const r of rows) {
      const plain = isPlainJwk(r.private_jwk);
      if (!plain && !this.sealer.isStale?.(r.private_jwk)) continue;
      let text: string;
      try {
        text = plain ? r.private_jwk : this.sealer.open(r.private_jwk);
      } catch {
        continue; // sealed by a key this process does not have: left for one that has it
      }
      await this.db
        .updateTable('idp_signing_keys')
        .set({ private_jwk: this.sealer.seal(text) })
        .where('kid', '=', r.kid)
        .where('private_jwk', '=', r.private_jwk)
        .execute();
    }
  }

  /** Reloads the key set from the database (single-flight). */
  reload(): Promise<void> {
    this.loading ??= this.doReload().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async doReload(): Promise<void> {
    await this.sealPlaintextKeys();
    const rows = await this.db.selectFrom('idp_signing_keys').selectAll().orderBy('created_at', 'desc').execute();
    const now = Date.now();
    const next = new Map<string, LoadedKey>();
    let active: string | undefined;
    for (const r of rows) {
      const published = !r.retired_at || Date.parse(r.retired_at) + this.retentionSeconds * 1000 > now;
      if (!published) continue;
      const isActive = !r.retired_at && active === undefined;
      if (isActive) active = r.kid;
      const old = this.keys.get(r.kid);
      const publicJwk = fromJson<JWK>(r.public_jwk, {});
      next.set(r.kid, {
        info: { kid: r.kid, alg: r.alg, createdAt: r.created_at, retiredAt: r.retired_at, published, active: isActive },
        publicJwk,
        publicKey: old?.publicKey ?? ((await importJWK(publicJwk, r.alg)) as CryptoKey),
        privateKey: isActive ? (old?.privateKey ?? ((await importJWK(fromJson<JWK>(this.privateText(r.private_jwk), {}), r.alg)) as CryptoKey)) : undefined,
      });
    }
    this.keys = next;
    this.activeKid = active;
    this.loadedAt = Date.now();
  }

  private async fresh(): Promise<void> {
    if (Date.now() - this.loadedAt > this.reloadEveryMs) await this.reload();
  }

  /** The key to sign new tokens with. */
  async signingKey(): Promise<{ kid: string; alg: string; key: CryptoKey }> {
    await this.fresh();
    if (!this.activeKid) await this.reload();
    const k = this.activeKid ? this.keys.get(this.activeKid) : undefined;
    if (!k?.privateKey) throw new Error('The embedded identity provider has no active signing key');
    return { kid: k.info.kid, alg: k.info.alg, key: k.privateKey };
  }

  /** A published key by id, reloading once (rate-limited) when it is not known yet. */
  async verificationKey(kid: string | undefined): Promise<{ alg: string; key: CryptoKey } | undefined> {
    await this.fresh();
    if (kid && !this.keys.has(kid) && Date.now() - this.loadedAt > this.unknownKidCooldownMs) await this.reload();
    const k = kid ? this.keys.get(kid) : undefined;
    return k && { alg: k.info.alg, key: k.publicKey };
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    await this.fresh();
    return { keys: [...this.keys.values()].map((k) => k.publicJwk) };
  }

  /** Every stored key, newest first, with its state (for `codemie idp key list`). */
  async list(): Promise<KeyInfo[]> {
    await this.reload();
    const rows = await this.db.selectFrom('idp_signing_keys').select(['kid', 'alg', 'created_at', 'retired_at']).orderBy('created_at', 'desc').execute();
    return rows.map((r) => ({
      kid: r.kid,
      alg: r.alg,
      createdAt: r.created_at,
      retiredAt: r.retired_at,
      published: this.keys.has(r.kid),
      active: r.kid === this.activeKid,
    }));
  }

  /** Creates a new active key and retires the others; returns the new kid. */
  async rotate(): Promise<string> {
    const row = await newSigningKeyRow();
    if (this.sealer) row.private_jwk = this.sealer.seal(row.private_jwk);
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('idp_signing_keys').set({ retired_at: row.created_at }).where('retired_at', 'is', null).execute();
      await trx.insertInto('idp_signing_keys').values(row).execute();
    });
    await this.reload();
    return row.kid;
  }

  /** Makes sure an active key exists (creates one if not). */
  async ensureActive(): Promise<void> {
    await this.reload();
    if (!this.activeKid) await this.rotate();
  }
}
