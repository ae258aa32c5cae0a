/**
 * Group commit for small writes on SQLite. Writes requested in the same event-loop turn share one
 * transaction: on SQLite the commit (WAL append, and now and then a checkpoint) is much of the
 * cost of a small write, and under concurrent load this turns N commits into one. Every caller
 * resolves only after the commit that holds its write.
 *
 * If any write of a batch fails, the whole batch is rolled back and each write runs again alone
 * in its own transaction, so one bad write fails by itself with its own error. That is cheaper
 * on the common path than a savepoint per write (two more statements each), and correct because
 * a write function only touches the database through `trx`: after the rollback nothing it did
 * remains. Write functions must therefore have no side effects outside `trx`.
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

  const alone = (item: Pending<DB>) => db.transaction().execute(item.fn).then(item.resolve, item.reject);

  const runBatch = async (batch: Pending<DB>[]) => {
    const values: unknown[] = [];
    try {
      await db.transaction().execute(async (trx) => {
        for (const item of batch) values.push(await item.fn(trx));
      });
    } catch {
      // Rolled back: nothing of this batch is stored. Each write again, on its own.
      for (const item of batch) await alone(item);
      return;
    }
    batch.forEach((item, i) => item.resolve(values[i]));
  };

  const flush = () => {
    const batch = queue;
    queue = [];
    if (batch.length === 1) void alone(batch[0]!);
    else void runBatch(batch);
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
