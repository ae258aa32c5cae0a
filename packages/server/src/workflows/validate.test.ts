import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors.js';
import { parseWorkflowYaml } from './validate.js';

const base = `
assistants:
  - id: a
    model: test-model
    system_prompt: You help.
states:
  - id: first
    assistant_id: a
    task: Say hi
    next:
      state_id: second
  - id: second
    assistant_id: a
    next:
      state_id: end
`;

function problem(yaml: string): string {
  try {
    parseWorkflowYaml(yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.status).toBe(400);
    expect(e.message).toBe('Workflow Configuration error');
    expect(e.help).toBeTruthy();
    return String(e.details);
  }
  throw new Error('expected a configuration error');
}

describe('yaml_config validation', () => {
  it('accepts a valid config and applies defaults', () => {
    const cfg = parseWorkflowYaml(base);
    expect(cfg.states.map((s) => s.id)).toEqual(['first', 'second']);
    expect(cfg.recursion_limit).toBe(50);
    expect(cfg.states[0].next.store_in_context).toBe(true);
  });

  it('reports YAML syntax errors with the line', () => {
    expect(problem('states:\n  - id: a\n    next: [unclosed\n')).toMatch(/YAML syntax error at line \d+/);
    expect(problem('states:\n  - id: a\n   bad: indent\n')).toMatch(/YAML syntax error at line 3/);
  });

  it('accepts and drops keys it does not know, as the reference (its schema allows additional properties)', () => {
    const cfg = parseWorkflowYaml(base.replace('    task: Say hi', '    task: Say hi\n    taks: typo\n    mcp_servers: []'));
    expect(cfg.states[0]).not.toHaveProperty('taks');
    expect(cfg.states[0].task).toBe('Say hi');
  });

  it('reports a value of the wrong type with the state and line', () => {
    const d = problem(base.replace('    task: Say hi', '    task: [1, 2]'));
    expect(d).toContain("state 'first'");
    expect(d).toContain('line 9');
  });

  it('reports a missing next', () => {
    const d = problem(base.replace('    next:\n      state_id: end\n', ''));
    expect(d).toContain("Missing required key 'next'");
    expect(d).toContain("state 'second'");
  });

  it('reports transitions to undefined states', () => {
    expect(problem(base.replace('state_id: second', 'state_id: nowhere'))).toMatch(/State 'first' \(line \d+\) transitions to undefined state 'nowhere'/);
  });

  it('reports unreachable states', () => {
    const yaml = base + `  - id: orphan\n    assistant_id: a\n    next:\n      state_id: end\n`;
    expect(problem(yaml)).toMatch(/State 'orphan' \(line 16\) is unreachable/);
  });

  it('reports cycles without a way out', () => {
    const yaml = base.replace('      state_id: end', '      state_id: first');
    expect(problem(yaml)).toMatch(/cycle with no way out/);
    // A cycle with a conditional exit is fine.
    parseWorkflowYaml(base.replace('      state_id: end', '      condition:\n        expression: "done == True"\n        then: end\n        otherwise: first'));
  });

  it('reports bad iter_key', () => {
    expect(problem(base.replace('      state_id: second', '      state_id: second\n      iter_key: "a b"'))).toMatch(/bad iter_key 'a b'/);
    expect(problem(base.replace('      state_id: second', '      state_ids: [second]\n      iter_key: items'))).toMatch(
      /'state_ids' and 'iter_key' cannot be set at the same time/,
    );
    expect(problem(base.replace('      state_id: second', '      iter_key: items\n      state_ids: [second]'))).toMatch(/In 'states\[0\]\.next'/);
  });

  it('reports bad condition expressions, including unsafe ones', () => {
    const cond = (e: string) =>
      base.replace('      state_id: second', `      condition:\n        expression: ${JSON.stringify(e)}\n        then: second\n        otherwise: end`);
    expect(problem(cond('count >'))).toMatch(/bad condition expression "count >"/);
    expect(problem(cond('x.__class__'))).toMatch(/not allowed/);
    expect(problem(cond('__import__("os").system("x")'))).toMatch(/not allowed/);
    const sw = base.replace(
      '      state_id: second',
      `      switch:\n        cases:\n          - condition: "a =="\n            state_id: second\n        default: end`,
    );
    expect(problem(sw)).toMatch(/bad condition expression/);
  });

  it('reports other structural problems', () => {
    expect(problem(base.replace('    assistant_id: a\n    task', '    tool_id: t\n    task'))).toMatch(/references tool 't'/);
    expect(problem(base.replace('assistant_id: a\n    next:\n      state_id: end', 'assistant_id: zz\n    next:\n      state_id: end'))).toMatch(
      /references assistant 'zz'/,
    );
    expect(problem(base.replace('    system_prompt: You help.\n', ''))).toMatch(/at least one of 'assistant_id' or 'system_prompt' must be set/);
    expect(problem(base.replace('      state_id: second', '      state_id: second\n      state_ids: [second]'))).toMatch(
      /'state_id' and 'state_ids' cannot be set at the same time/,
    );
    expect(problem(base.replace('    task: Say hi', "    task: Say hi\n    output_schema: '{not json'"))).toMatch(/output_schema is not valid JSON/);
    expect(problem('')).toMatch(/empty/);
    expect(problem('- a\n- b')).toMatch(/mapping/);
    expect(problem(base.replace('states:', 'recursion_limit: 0\nstates:'))).toMatch(/Invalid value at recursion_limit/);
  });
});
