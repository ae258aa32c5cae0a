/**
 * Row ids: UUID version 7 (RFC 9562), a 48-bit millisecond timestamp followed by 74 random bits.
 * Ids made close in time sort close together, so inserts land on the right-hand pages of the
 * primary-key and foreign-key B-trees instead of a random page each; with random (v4) ids every
 * conversation turn dirtied several scattered index pages, which on SQLite doubled the cost of a
 * small write once the tables grew (bench/README.md). They are still ordinary UUID strings, so
 * clients see no difference; ids a client chooses (a new conversation_id) are stored as given.
 */
import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const pool = Buffer.alloc(16 * 256);
let offset = pool.length;

export function newRowId(now = Date.now()): string {
  if (offset + 10 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const r = offset;
  offset += 10;
  const b = pool;
  // 48-bit big-endian milliseconds: the high 16 bits, then the low 32.
  const hi = Math.floor(now / 0x1_0000_0000);
  const lo = now >>> 0;
  return (
    HEX[(hi >>> 8) & 0xff]! + HEX[hi & 0xff]! + HEX[lo >>> 24]! + HEX[(lo >>> 16) & 0xff]! + '-' +
    HEX[(lo >>> 8) & 0xff]! + HEX[lo & 0xff]! + '-' +
    HEX[0x70 | (b[r]! & 0x0f)]! + HEX[b[r + 1]!]! + '-' +
    HEX[0x80 | (b[r + 2]! & 0x3f)]! + HEX[b[r + 3]!]! + '-' +
    HEX[b[r + 4]!]! + HEX[b[r + 5]!]! + HEX[b[r + 6]!]! + HEX[b[r + 7]!]! + HEX[b[r + 8]!]! + HEX[b[r + 9]!]!
  );
}
