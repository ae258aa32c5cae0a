/**
 * Encryption at rest of integration credentials (and other secrets of the installation): AES-256-GCM
 * under a 32-byte key derived from CODEMIE_SECRET_KEY (SHA-256 of the string, as assistants/secret-box
 * does, so one variable serves both). When the variable is unset, a random key is generated once into
 * `<data dir>/secret.key` (mode 0600) and a warning says to back it up: without it, stored credentials
 * cannot be read.
 *
 * Stored form: `cmk1:<key id>:<iv b64url>:<tag b64url>:<data b64url>`; the key id (8 hex digits of the
 * key's SHA-256) tells which key sealed a value, so rotation can find what it must re-encrypt.
 * Rotation: set the new key in CODEMIE_SECRET_KEY and the old one(s) in CODEMIE_SECRET_KEY_PREVIOUS
 * (comma-separated); values sealed under an old key stay readable, and `rotate()` (run at start-up by
 * the integrations module, or by `npm run rotate-secret-key`) re-encrypts them under the current key.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const PREFIX = 'cmk1';
export const KEY_FILE = 'secret.key';

export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

interface Key {
  id: string;
  bytes: Buffer;
}

function deriveKey(secret: string): Key {
  const bytes = createHash('sha256').update(secret).digest();
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 8), bytes };
}

export interface KeyringSource {
  /** CODEMIE_SECRET_KEY. */
  secretKey?: string;
  /** CODEMIE_SECRET_KEY_PREVIOUS: old keys, comma-separated, for reading values not yet re-encrypted. */
  previousKeys?: string;
  dataDir: string;
}

export class Keyring {
  readonly current: Key;
  private readonly byId = new Map<string, Key>();
  /** Where the key came from: the environment or the file in the data directory. */
  readonly source: 'env' | 'file';
  /** The key file was created by this process (the operator must be told to back it up). */
  readonly generated: boolean = false;
  private static readonly cache = new Map<string, Keyring>();

  /** One keyring per data directory and key settings (the identity runtime and the integrations share it). */
  static for(opts: KeyringSource): Keyring {
    const k = `${opts.dataDir}\0${opts.secretKey ?? ''}\0${opts.previousKeys ?? ''}`;
    let r = Keyring.cache.get(k);
    if (!r) {
      r = new Keyring(opts);
      Keyring.cache.set(k, r);
    }
    return r;
  }

  constructor(opts: KeyringSource) {
    if (opts.secretKey) {
      this.current = deriveKey(opts.secretKey);
      this.source = 'env';
    } else {
      const { key, created } = loadOrCreateKeyFile(opts.dataDir);
      this.current = deriveKey(key);
      this.source = 'file';
      this.generated = created;
    }
    this.byId.set(this.current.id, this.current);
    for (const old of (opts.previousKeys ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const k = deriveKey(old);
      if (!this.byId.has(k.id)) this.byId.set(k.id, k);
    }
  }

  static isSealed(v: unknown): v is string {
    return typeof v === 'string' && v.startsWith(`${PREFIX}:`);
  }

  /** The id of the key that sealed `value` (undefined when it is not sealed). */
  static keyIdOf(value: string): string | undefined {
    return Keyring.isSealed(value) ? value.split(':')[1] : undefined;
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.current.bytes, iv);
    const data = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return [PREFIX, this.current.id, iv.toString('base64url'), c.getAuthTag().toString('base64url'), data.toString('base64url')].join(':');
  }

  /** The plain text; throws KeyringError when the value was sealed by an unknown key or was altered. */
  open(value: string): string {
    const parts = value.split(':');
    if (parts.length !== 5 || parts[0] !== PREFIX) throw new KeyringError('not a sealed value');
    const key = this.byId.get(parts[1]);
    if (!key) throw new KeyringError(`sealed by key ${parts[1]}, which is neither CODEMIE_SECRET_KEY nor in CODEMIE_SECRET_KEY_PREVIOUS`);
    try {
      const d = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(parts[2], 'base64url'));
      d.setAuthTag(Buffer.from(parts[3], 'base64url'));
      return Buffer.concat([d.update(Buffer.from(parts[4], 'base64url')), d.final()]).toString('utf8');
    } catch {
      throw new KeyringError('the sealed value does not authenticate (altered, or a different key with the same id)');
    }
  }

  /** Whether a sealed value must be re-encrypted under the current key. */
  isStale(value: string): boolean {
    return Keyring.isSealed(value) && Keyring.keyIdOf(value) !== this.current.id;
  }

  /** The value sealed under the current key (unchanged when it already is). */
  reseal(value: string): string {
    return this.isStale(value) ? this.seal(this.open(value)) : value;
  }
}

/** What to tell the operator when the key file was generated. */
export function generatedKeyWarning(dataDir: string): string {
  return (
    `CODEMIE_SECRET_KEY is not set: generated the encryption key of stored credentials and signing keys in ${path.join(dataDir, KEY_FILE)}. ` +
    'Back this file up (or set CODEMIE_SECRET_KEY to its content, on every process of the installation): without it the stored credentials cannot be decrypted.'
  );
}

function loadOrCreateKeyFile(dataDir: string): { key: string; created: boolean } {
  const file = path.join(dataDir, KEY_FILE);
  const read = () => {
    const text = readFileSync(file, 'utf8').trim();
    if (text.length < 16) throw new KeyringError(`${file} holds no usable key (at least 16 characters expected)`);
    return text;
  };
  if (existsSync(file)) return { key: read(), created: false };
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  try {
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process of this data directory created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { key: read(), created: false };
    throw err;
  }
  try {
    chmodSync(file, 0o600);
  } catch {
    /* best effort on file systems without modes */
  }
  return { key, created: true };
}

/** The installation's keyring from its configuration (CODEMIE_SECRET_KEY, CODEMIE_SECRET_KEY_PREVIOUS, data directory). */
export function keyringOf(config: { secretKey?: string; secretKeyPrevious?: string; dataDir: string }): Keyring {
  return Keyring.for({ secretKey: config.secretKey, previousKeys: config.secretKeyPrevious, dataDir: config.dataDir });
}
