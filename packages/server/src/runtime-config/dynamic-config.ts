/**
 * Dynamic configuration: typed key/value settings that admins change at run time
 * (`/v1/dynamic-config/`), read by other domains with an environment default:
 * `getBool('FEATURE_X', config.featureX)` — a stored row wins; no row, a value that does not
 * parse, or a row of another type gives the default (logged, never thrown). Values are kept as the
 * strings they were given; types are checked on write and applied on read.
 */
import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import { ApiError, badRequest, conflict } from '../api/errors.js';
import type { Database } from '../store/schema.js';
import { newRowId } from '../store/ids.js';
import { escapeLike, like } from '../store/like.js';
import type { DynamicConfigTable } from './tables.js';

export const VALUE_TYPES = ['string', 'int', 'float', 'bool'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

export const KEY_PATTERN = /^[A-Z][A-Z0-9_]*$/;

const TRUE = ['true', 't', 'yes', 'y', 'on', '1'];
const FALSE = ['false', 'f', 'no', 'n', 'off', '0'];

/** Python's repr of a string ('...'), as the reference's error texts quote values. */
const pyRepr = (s: string) => (s.includes("'") && !s.includes('"') ? `"${s}"` : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);

/** Converts a stored string to its type; throws an ApiError 400 with the reference's texts when it does not parse. */
export function convert(value: string, type: ValueType): string | number | boolean {
  switch (type) {
    case 'string':
      return value;
    case 'bool': {
      const v = value.trim().toLowerCase();
      if (TRUE.includes(v)) return true;
      if (FALSE.includes(v)) return false;
      throw badRequest(
        'Invalid boolean value',
        `Value '${value}' is not a valid boolean. Accepted values: true/false, yes/no, on/off, 1/0, t/f, y/n (case-insensitive).`,
      );
    }
    case 'int': {
      const v = value.trim();
      if (/^[+-]?\d+(_\d+)*$/.test(v)) return Number(v.replace(/_/g, ''));
      throw badRequest('Invalid int value', `Cannot convert '${value}' to int. Error: invalid literal for int() with base 10: ${pyRepr(value)}`);
    }
    case 'float': {
      const v = value.trim().toLowerCase().replace(/_/g, '');
      if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(v)) return Number(v);
      if (/^[+-]?(inf|infinity)$/.test(v)) return v.startsWith('-') ? -Infinity : Infinity;
      if (/^[+-]?nan$/.test(v)) return NaN;
      throw badRequest('Invalid float value', `Cannot convert '${value}' to float. Error: could not convert string to float: ${pyRepr(value)}`);
    }
  }
}

export interface DynamicConfigEntry {
  id: string;
  key: string;
  value: string;
  value_type: ValueType;
  description: string | null;
  created_at: string;
  updated_at: string;
  updated_by: string;
}

const toEntry = (r: DynamicConfigTable): DynamicConfigEntry => ({
  id: r.id,
  key: r.key,
  value: r.value,
  value_type: (VALUE_TYPES as readonly string[]).includes(r.value_type) ? (r.value_type as ValueType) : 'string',
  description: r.description,
  created_at: r.created_at,
  updated_at: r.updated_at,
  updated_by: r.updated_by,
});

export const configNotFound = (key: string) => new ApiError(404, 'Config not found', `Configuration key '${key}' does not exist`);

export class DynamicConfigService {
  private readonly listeners: Array<(key: string) => void> = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log?: FastifyBaseLogger,
  ) {}

  /** Told about every write (the customer-config cache listens). */
  onChange(listener: (key: string) => void): void {
    this.listeners.push(listener);
  }

  private changed(key: string): void {
    for (const l of this.listeners) l(key);
  }

  async list(prefix?: string): Promise<DynamicConfigEntry[]> {
    let q = this.db.selectFrom('dynamic_config').selectAll();
    if (prefix) q = q.where((eb) => like(eb.ref('key'), `${escapeLike(prefix)}%`));
    return (await q.orderBy('key').execute()).map(toEntry);
  }

  async find(key: string): Promise<DynamicConfigEntry | undefined> {
    const r = await this.db.selectFrom('dynamic_config').selectAll().where('key', '=', key).executeTakeFirst();
    return r && toEntry(r);
  }

  async get(key: string): Promise<DynamicConfigEntry> {
    const e = await this.find(key);
    if (!e) throw configNotFound(key);
    return e;
  }

  async create(input: { key: string; value: string; value_type: ValueType; description?: string | null }, actorId: string): Promise<DynamicConfigEntry> {
    if (await this.find(input.key)) {
      throw conflict('Config already exists', `Configuration key '${input.key}' already exists. Use PUT to update.`);
    }
    if (!KEY_PATTERN.test(input.key)) {
      throw badRequest(
        'Invalid key format',
        `Key '${input.key}' does not match UPPER_SNAKE_CASE pattern. Must start with uppercase letter and contain only uppercase letters, numbers, and underscores. Examples: MAX_RETRIES, FEATURE_X_ENABLED`,
      );
    }
    convert(input.value, input.value_type);
    const now = new Date().toISOString();
    const row: DynamicConfigTable = {
      id: newRowId(),
      key: input.key,
      value: input.value,
      value_type: input.value_type,
      description: input.description ?? null,
      updated_by: actorId,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.insertInto('dynamic_config').values(row).execute();
    } catch (err) {
      if (await this.find(input.key)) throw conflict('Config already exists', `Configuration key '${input.key}' already exists. Use PUT to update.`);
      throw err;
    }
    this.changed(input.key);
    return toEntry(row);
  }

  async update(
    key: string,
    input: { value: string; value_type?: ValueType | null; description?: string | null },
    actorId: string,
  ): Promise<DynamicConfigEntry> {
    const current = await this.get(key);
    const type = input.value_type ?? current.value_type;
    convert(input.value, type);
    await this.db
      .updateTable('dynamic_config')
      .set({
        value: input.value,
        value_type: type,
        ...(input.description !== undefined && input.description !== null ? { description: input.description } : {}),
        updated_by: actorId,
        updated_at: new Date().toISOString(),
      })
      .where('key', '=', key)
      .execute();
    this.changed(key);
    return this.get(key);
  }

  /** Writes a row whatever its state (the customer-config declarations store their overrides so). */
  async put(key: string, value: string, type: ValueType, description: string | null, actorId: string): Promise<DynamicConfigEntry | undefined> {
    const before = await this.find(key);
    const now = new Date().toISOString();
    await this.db
      .insertInto('dynamic_config')
      .values({ id: newRowId(), key, value, value_type: type, description, updated_by: actorId, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, value_type: type, description, updated_by: actorId, updated_at: now }))
      .execute();
    this.changed(key);
    return before;
  }

  async remove(key: string): Promise<DynamicConfigEntry> {
    const current = await this.get(key);
    await this.db.deleteFrom('dynamic_config').where('key', '=', key).execute();
    this.log?.info({ key, value: current.value }, 'dynamic config deleted');
    this.changed(key);
    return current;
  }

  /** Deletes a row if there is one; returns it. */
  async removeIfPresent(key: string): Promise<DynamicConfigEntry | undefined> {
    const current = await this.find(key);
    if (!current) return undefined;
    await this.db.deleteFrom('dynamic_config').where('key', '=', key).execute();
    this.changed(key);
    return current;
  }

  // ── typed reads for other domains: the stored row wins, anything wrong gives the default ──

  private async typed<T>(key: string, type: ValueType, fallback: T): Promise<T> {
    try {
      const e = await this.find(key);
      if (!e) return fallback;
      if (e.value_type !== type) {
        this.log?.warn({ key, stored: e.value_type, wanted: type }, 'dynamic config: type mismatch, using the default');
        return fallback;
      }
      return convert(e.value, type) as T;
    } catch (err) {
      this.log?.warn({ key, err: (err as Error).message }, 'dynamic config: unreadable value, using the default');
      return fallback;
    }
  }

  getBool(key: string, fallback: boolean): Promise<boolean> {
    return this.typed(key, 'bool', fallback);
  }

  getInt(key: string, fallback: number): Promise<number> {
    return this.typed(key, 'int', fallback);
  }

  getFloat(key: string, fallback: number): Promise<number> {
    return this.typed(key, 'float', fallback);
  }

  getString(key: string, fallback: string): Promise<string> {
    return this.typed(key, 'string', fallback);
  }
}
