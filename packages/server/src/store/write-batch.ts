/**
 * Group commit for small writes on SQLite. Writes requested in the same event-loop turn share one
 * transaction, each in its own savepoint so that one failing write is rolled back alone and
 * reports its own error. On SQLite the commit (WAL append, and now and then a checkpoint) is
 * most of the cost of a small write; under concurrent load this turns N commits into one.
 * Every caller still resolves only after the commit that holds its write.
 * PostgreSQL runs each write in its own transaction (its connections work in parallel).
 */
import type { Kysely, Transaction } from 'kysely';
import type { Dialect } from './db.js';

export interface WriteBatcher<DB> {
  /** Runs `fn` in a transaction (possibly shared with other writes of this tick); resolves after commit. */
  run<T>(fn: (trx: Transaction<DB>) => Promise<T>): Promise<T>;
}

interface Pending<DB> {
  fn: (trx: Transaction<DB>) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export function createWriteBatcher<DB>(db: Kysely<DB>, dialect: Dialect): WriteBatcher<DB> {
  if (dialect !== 'sqlite') return { run: (fn) => db.transaction().execute(fn) };
  let queue: Pending<DB>[] = [];

  const runBatch = async (batch: Pending<DB>[]) => {
    const trx = await db.startTransaction().execute();
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      for (const [i, item] of batch.entries()) {
        const name = `w${i}`;
        const sp = await trx.savepoint(name).execute();
        try {
          outcomes.push({ ok: true, value: await item.fn(sp) });
          await sp.releaseSavepoint(name).execute();
        } catch (error) {
          await sp.rollbackToSavepoint(name).execute();
          outcomes.push({ ok: false, error });
        }
      }
      await trx.commit().execute();
    } catch (error) {
      await trx.rollback().execute().catch(() => undefined);
      throw error;
    }
    return outcomes;
  };

  const flush = () => {
    const batch = queue;
    queue = [];
    if (batch.length === 1) {
      const [only] = batch;
      db.transaction().execute(only.fn).then(only.resolve, only.reject);
      return;
    }
    runBatch(batch).then(
      (outcomes) => outcomes.forEach((o, i) => (o.ok ? batch[i].resolve(o.value) : batch[i].reject(o.error))),
      (error) => batch.forEach((b) => b.reject(error)),
    );
  };

  return {
    run<T>(fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
        // setImmediate: after this turn's I/O callbacks, so answers that arrived together commit together.
        if (queue.length === 1) setImmediate(flush);
      });
    },
  };
}
