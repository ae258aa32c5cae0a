/**
 * Encryption at rest of sensitive prompt-variable values (AES-256-GCM). The key comes from
 * CODEMIE_SECRET_KEY (any string; hashed to 32 bytes) or, when unset, from a random key kept in
 * the settings table on first use (fine for one machine; set the variable when the database is
 * shared or backed up elsewhere). Stored form: `enc:v1:<iv b64url>.<tag b64url>.<data b64url>`.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SettingsRepo } from '../store/settings.js';

const PREFIX = 'enc:v1:';
const SETTINGS_KEY = 'assistants.secret_key';

export class SecretBox {
  private key: Promise<Buffer> | undefined;

  constructor(
    private readonly settings: SettingsRepo,
    private readonly configured?: string,
  ) {}

  private getKey(): Promise<Buffer> {
    this.key ??= (async () => {
      if (this.configured) return createHash('sha256').update(this.configured).digest();
      const fresh = randomBytes(32).toString('base64url');
      await this.settings.setIfAbsent(SETTINGS_KEY, fresh);
      const stored = (await this.settings.get<string>(SETTINGS_KEY)) ?? fresh;
      return Buffer.from(stored, 'base64url');
    })();
    return this.key;
  }

  static isSealed(v: unknown): v is string {
    return typeof v === 'string' && v.startsWith(PREFIX);
  }

  async seal(plain: string): Promise<string> {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', await this.getKey(), iv);
    const data = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return `${PREFIX}${iv.toString('base64url')}.${c.getAuthTag().toString('base64url')}.${data.toString('base64url')}`;
  }

  /** The plain text; a value that is not sealed is returned as it is; an undecryptable one as ''. */
  async open(value: string): Promise<string> {
    if (!SecretBox.isSealed(value)) return value;
    const [iv, tag, data] = value.slice(PREFIX.length).split('.');
    try {
      const d = createDecipheriv('aes-256-gcm', await this.getKey(), Buffer.from(iv ?? '', 'base64url'));
      d.setAuthTag(Buffer.from(tag ?? '', 'base64url'));
      return Buffer.concat([d.update(Buffer.from(data ?? '', 'base64url')), d.final()]).toString('utf8');
    } catch {
      return '';
    }
  }
}
