/** Engine paths as pure functions: context-store operations, routing, map items, supersteps. */
import { describe, expect, it } from 'vitest';
import { advance, applyOutput, chooseNext, iterItems } from './engine.js';
import { initialCheckpoint, zeroUsage } from './model.js';
import { parseWorkflowYaml } from './validate.js';
import type { StateConfig } from './config-schema.js';

const state = (next: Record<string, unknown>): StateConfig =>
  parseWorkflowYaml(
    `assistants: [{id: a, system_prompt: x}]\nstates:\n  - id: s\n    assistant_id: a\n    next: ${JSON.stringify({ state_id: 'end', ...next })}\n`,
  ).states[0];

describe('context store operations', () => {
  it('merges JSON object output and stores output_key', () => {
    expect(applyOutput({ a: 1 }, state({}), '{"b":2}', false)).toEqual({ a: 1, b: 2 });
    expect(applyOutput({}, state({ output_key: 'k' }), 'text', false)).toEqual({ k: 'text' });
    expect(applyOutput({}, state({ output_key: 'k' }), '{"x":1}', false)).toEqual({ x: 1, k: { x: 1 } });
    expect(applyOutput({}, state({ output_key: 'k' }), '```json\n[1,2]\n```', false)).toEqual({ k: [1, 2] });
  });
  it('store_in_context: false keeps the store unchanged', () => {
    expect(applyOutput({ a: 1 }, state({ store_in_context: false, output_key: 'k' }), '{"b":2}', false)).toEqual({ a: 1 });
  });
  it('append_to_context (and map iterations) accumulate a list', () => {
    const s = state({ output_key: 'k', append_to_context: true });
    expect(applyOutput(applyOutput({}, s, 'one', false), s, 'two', false)).toEqual({ k: ['one', 'two'] });
    expect(applyOutput({ k: 'old' }, state({ output_key: 'k' }), 'x', true)).toEqual({ k: ['old', 'x'] });
  });
  it('clear_context_store (true / keep_current) and reset_keys_in_context_store', () => {
    expect(applyOutput({ a: 1 }, state({ clear_context_store: true }), '{"b":2}', false)).toEqual({});
    expect(applyOutput({ a: 1 }, state({ clear_context_store: 'keep_current' }), '{"b":2}', false)).toEqual({ b: 2 });
    expect(applyOutput({ a: 1, c: 3 }, state({ reset_keys_in_context_store: ['a'] }), '{"b":2}', false)).toEqual({ c: 3, b: 2 });
  });
});

describe('routing', () => {
  it('condition reads output keys and the context; failures go to otherwise', () => {
    const s = state({ state_id: undefined, condition: { expression: 'score > 5 and ok', then: 'end', otherwise: 's' } });
    expect(chooseNext(s, '{"score": 9}', { ok: 'true' })).toEqual(['end']);
    expect(chooseNext(s, '{"score": 1}', { ok: true })).toEqual(['s']);
    expect(chooseNext(s, 'not json', {})).toEqual(['s']);
  });
  it('switch takes the first matching case, else default; a failing case counts as false', () => {
    const s = state({
      state_id: undefined,
      switch: {
        cases: [
          { condition: 'missing > 1', state_id: 's' },
          { condition: "kind == 'b'", state_id: 'end' },
        ],
        default: 's',
      },
    });
    expect(chooseNext(s, '{"kind":"b"}', {})).toEqual(['end']);
    expect(chooseNext(s, '{"kind":"z"}', {})).toEqual(['s']);
  });
});

describe('iter_key', () => {
  it('supports ".", a key, a JSON pointer, and wraps a scalar', () => {
    expect(iterItems('.', '["a","b"]', {})).toEqual(['a', 'b']);
    expect(iterItems('items', '{"items":[1,2]}', {})).toEqual([1, 2]);
    expect(iterItems('/data/users', '{"data":{"users":[{"id":1}]}}', {})).toEqual([{ id: 1 }]);
    expect(iterItems('one', '{"one":"x"}', {})).toEqual(['x']);
    expect(iterItems('ctx_list', 'plain text', { ctx_list: ['c'] })).toEqual(['c']);
    expect(() => iterItems('/nope', '{}', {})).toThrow(/found no list/);
  });
});

describe('supersteps', () => {
  const cfg = parseWorkflowYaml(`
assistants: [{id: a, system_prompt: x}]
states:
  - {id: fan, assistant_id: a, next: {state_ids: [l, r]}}
  - {id: l, assistant_id: a, next: {state_id: join, clear_prior_messages: true}}
  - {id: r, assistant_id: a, next: {state_id: join, include_in_llm_history: false}}
  - {id: join, assistant_id: a, next: {state_id: end}}
`);
  const usage = zeroUsage();
  it('fans out, then joins once with both predecessors; history options apply', () => {
    let cp = initialCheckpoint('fan', 'hi', {});
    cp = advance(cfg, cp, [{ task: cp.frontier[0], rowId: 'r0', result: { output: 'F', next: ['l', 'r'], usage, message: 'm0' } }]);
    expect(cp.frontier.map((t) => [t.key, t.stateId, t.input])).toEqual([
      ['1:0', 'l', 'F'],
      ['1:1', 'r', 'F'],
    ]);
    cp = advance(cfg, cp, [
      { task: cp.frontier[0], rowId: 'r1', result: { output: 'L', next: ['join'], usage, message: 'ml' } },
      { task: cp.frontier[1], rowId: 'r2', result: { output: 'R', next: ['join'], usage, message: 'mr' } },
    ]);
    expect(cp.frontier).toEqual([{ key: '2:0', stateId: 'join', input: 'L\n\nR', preceding: ['r1', 'r2'] }]);
    // l cleared prior messages then added its own; r is not in the LLM history.
    expect(cp.history.map((m) => m.content)).toEqual(['ml', 'L']);
    cp = advance(cfg, cp, [{ task: cp.frontier[0], rowId: 'r3', result: { output: 'done', next: ['end'], usage } }]);
    expect(cp.frontier).toEqual([]);
    expect(cp.lastOutput).toBe('done');
    expect(cp.lastRows).toEqual([{ rowId: 'r3', stateId: 'join' }]);
  });
  it('expands a map into one task per item', () => {
    const cp0 = initialCheckpoint('fan', '', {});
    const cp = advance(cfg, cp0, [{ task: cp0.frontier[0], rowId: 'r0', result: { output: '[1,2]', next: ['l'], iterItems: [{ n: 1 }, 'b'], usage } }]);
    expect(cp.frontier).toEqual([
      { key: '1:0', stateId: 'l', input: '{"n":1}', item: { n: 1 }, iteration: 0, preceding: ['r0'] },
      { key: '1:1', stateId: 'l', input: 'b', item: 'b', iteration: 1, preceding: ['r0'] },
    ]);
  });

  it('multi-stage map: an item continues through states that repeat the iter_key, then joins', () => {
    const chain = parseWorkflowYaml(`
assistants: [{id: a, system_prompt: x}]
states:
  - {id: plan, assistant_id: a, next: {state_id: s2, iter_key: items}}
  - {id: s2, assistant_id: a, next: {state_id: s3, iter_key: items}}
  - {id: s3, assistant_id: a, next: {state_id: join}}
  - {id: join, assistant_id: a, next: {state_id: end}}
`);
    let cp = initialCheckpoint('plan', '', {});
    cp = advance(chain, cp, [
      { task: cp.frontier[0], rowId: 'p', result: { output: '{"items":[{"n":1},{"n":2}]}', next: ['s2'], iterItems: [{ n: 1 }, { n: 2 }], usage } },
    ]);
    cp = advance(chain, cp, [
      { task: cp.frontier[0], rowId: 'a1', result: { output: 'A1', next: ['s3'], continueIteration: true, usage } },
      { task: cp.frontier[1], rowId: 'a2', result: { output: 'A2', next: ['s3'], continueIteration: true, usage } },
    ]);
    expect(cp.frontier).toEqual([
      { key: '2:0', stateId: 's3', input: 'A1', item: { n: 1 }, iteration: 0, preceding: ['a1'] },
      { key: '2:1', stateId: 's3', input: 'A2', item: { n: 2 }, iteration: 1, preceding: ['a2'] },
    ]);
    cp = advance(chain, cp, [
      { task: cp.frontier[0], rowId: 'b1', result: { output: 'B1', next: ['join'], usage } },
      { task: cp.frontier[1], rowId: 'b2', result: { output: 'B2', next: ['join'], usage } },
    ]);
    expect(cp.frontier).toEqual([{ key: '3:0', stateId: 'join', input: '["B1","B2"]', preceding: ['b1', 'b2'] }]);
  });
});
