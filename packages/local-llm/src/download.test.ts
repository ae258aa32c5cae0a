import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeStaleDownloads } from './download.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'local-llm-stale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('removeStaleDownloads', () => {
  it("removes what dead processes' interrupted downloads left, and nothing else", async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited: its pid is free
    const target = path.join(dir, 'model.gguf');
    const files = {
      [`model.gguf.${dead}-0a1b2c3d.part`]: true,
      [`model.gguf.${dead}-0a1b2c3d.whl.part`]: true,
      [`model.gguf.${dead}.whl`]: true,
      [`model.gguf.${process.pid}-deadbeef.part`]: false, // our own download in progress
      'model.gguf': false,
      'other.gguf.123.part': false,
      'model.gguf.notes': false,
    };
    for (const f of Object.keys(files)) writeFileSync(path.join(dir, f), 'x');
    const removed = await removeStaleDownloads(target);
    expect(removed.sort()).toEqual(
      Object.keys(files)
        .filter((f) => files[f])
        .sort(),
    );
    for (const [f, gone] of Object.entries(files)) expect(existsSync(path.join(dir, f)), f).toBe(!gone);
    expect(readdirSync(dir)).toHaveLength(4);
    expect(await removeStaleDownloads(path.join(dir, 'missing-dir', 'x.gguf'))).toEqual([]);
  });
});
