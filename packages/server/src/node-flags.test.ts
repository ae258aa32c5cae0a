import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS, serverNodeFlags } from './node-flags.js';

describe('server Node.js flags', () => {
  it('adds the young-generation size unless the operator set one', () => {
    expect(serverNodeFlags('', [])).toEqual([...SERVER_NODE_FLAGS]);
    expect(serverNodeFlags('--max-semi-space-size=16', [])).toEqual([]);
    expect(serverNodeFlags('', ['--max-semi-space-size=128'])).toEqual([]);
    expect(serverNodeFlags('--enable-source-maps', [])).toEqual(['--max-semi-space-size=64']);
  });
});
