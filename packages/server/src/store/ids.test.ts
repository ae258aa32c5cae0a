import { describe, expect, it } from 'vitest';
import { newRowId } from './ids.js';

describe('newRowId', () => {
  it('is a version 7, variant 1 UUID carrying the creation time', () => {
    const t = Date.UTC(2026, 10, 28, 12, 0, 0, 123);
    const id = newRowId(t);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(t);
  });

  it('sorts by creation time and does not repeat', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => newRowId(1_700_000_000_000 + Math.floor(i / 10)));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 10; i < ids.length; i += 10) expect(ids[i - 1]! < ids[i]!).toBe(true);
  });
});
