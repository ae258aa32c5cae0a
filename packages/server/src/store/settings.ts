/** A small key/value table for instance-wide facts (bootstrap markers, key material ids). */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { fromJson, toJson } from './json.js';

export class SettingsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async get<T>(key: string): Promise<T | undefined> {
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return row ? fromJson<T>(row.value, undefined as T) : undefined;
  }

  async set(key: string, value: unknown): Promise<void> {
    const now = new Date().toISOString();
    await this.db
      .insertInto('settings')
      .values({ key, value: toJson(value), update_date: now })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: toJson(value), update_date: now }))
      .execute();
  }

  /** Sets the key only if absent; returns true when this call created it (a once-only guard). */
  async setIfAbsent(key: string, value: unknown): Promise<boolean> {
    const res = await this.db
      .insertInto('settings')
      .values({ key, value: toJson(value), update_date: new Date().toISOString() })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async delete(key: string): Promise<void> {
    await this.db.deleteFrom('settings').where('key', '=', key).execute();
  }
}
