/**
 * Workflow documents an attacker would save: each is refused with 400 in the error envelope (not
 * 500, not a stack message), and none holds up the event loop: a health check sent while the
 * largest accepted document is being validated is answered first (ordering, not a clock).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkflowEnv, type WorkflowEnv } from '../../test/workflows-harness.js';

/** A chain of `n` states, s0 → s1 → … → end (≈ 80 bytes a state). */
function chain(n: number): string {
  let y = 'assistants:\n  - id: a\n    system_prompt: x\nstates:\n';
  for (let i = 0; i < n; i++) y += `  - id: s${i}\n    assistant_id: a\n    task: "t"\n    next:\n      state_id: ${i + 1 < n ? `s${i + 1}` : 'end'}\n`;
  return y;
}

const withCondition = (expression: string) => `
assistants:
  - id: a
    system_prompt: x
states:
  - id: s
    assistant_id: a
    next:
      condition:
        expression: ${JSON.stringify(expression)}
        then: end
        otherwise: end
`;

/** Ten levels of nine aliases each: 9^10 nodes once expanded. */
function aliasBomb(): string {
  const names = 'abcdefghij'.split('');
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < names.length; i++)
    lines.push(
      `${names[i]}: &${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(',')}]`,
    );
  return `${lines.join('\n')}\nstates:\n  - id: s\n    assistant_id: a\n    next:\n      state_id: end\n`;
}

describe('hostile workflow documents', () => {
  let env: WorkflowEnv;
  beforeAll(async () => {
    // limits raised so the 20 000-state document of the issue is parsed all the way
    env = await startWorkflowEnv({ env: { CODEMIE_WORKFLOW_MAX_BYTES: String(4 * 1024 * 1024), CODEMIE_WORKFLOW_MAX_STATES: '50000' } });
  });
  afterAll(() => env?.close());

  const save = (yaml_config: string) => env.api('POST', '/v1/workflows', { name: 'h', description: '', project: 'demo', yaml_config });
  async function refused(yaml: string, details: RegExp) {
    const res = await save(yaml);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('Workflow Configuration error');
    expect(String(res.body.error.details)).toMatch(details);
    expect(res.text).not.toMatch(/call stack|ReferenceError|at .*\.ts:/);
  }

  it('a YAML alias bomb → 400 (was 500)', async () => {
    await refused(aliasBomb(), /YAML aliases refused: Excessive alias count/);
  });

  it('a condition with 20 000 nested parentheses → 400 naming the nesting (was 500 "Maximum call stack size exceeded")', async () => {
    await refused(
      withCondition(`${'('.repeat(20_000)}x${')'.repeat(20_000)}`),
      /bad condition expression .*…": the expression is (nested more than 100 levels deep|\d+ characters long)/,
    );
    await refused(withCondition(`${'('.repeat(101)}x${')'.repeat(101)}`), /the expression is nested more than 100 levels deep/);
    await refused(withCondition(`x${' and x'.repeat(1001)}`), /chains more than 1000 operands/);
  });

  it('YAML nested thousands of levels deep → 400', async () => {
    await refused(
      `${chain(1)}    tool_args: {x: ${'['.repeat(50_000)}${']'.repeat(50_000)}}\n`,
      /yaml_config is nested too deeply to be a workflow configuration\./,
    );
  });

  it("a state's output_schema nested 20 000 levels deep → 400 saying so (it reached the schema compiler at run time before)", async () => {
    const deep = `${'{"type":"object","properties":{"x":'.repeat(20_000)}{"type":"string"}${'}}'.repeat(20_000)}`;
    await refused(
      chain(1).replace('    task: "t"\n', `    task: "t"\n    output_schema: '${deep}'\n`),
      /output_schema cannot be used: the schema is nested more than 64 levels deep/,
    );
  });

  it('a document larger than CODEMIE_WORKFLOW_MAX_BYTES, or with more states than CODEMIE_WORKFLOW_MAX_STATES → 400', async () => {
    const small = await startWorkflowEnv({ env: { CODEMIE_WORKFLOW_MAX_BYTES: '4096', CODEMIE_WORKFLOW_MAX_STATES: '20' } });
    try {
      const big = await small.api('POST', '/v1/workflows', { name: 'h', description: '', project: 'demo', yaml_config: chain(60) });
      expect(big.status).toBe(400);
      expect(big.body.error.details).toMatch(/^yaml_config is \d+ bytes; the largest accepted is 4096 bytes \(CODEMIE_WORKFLOW_MAX_BYTES\)\.$/);
      const many = await small.api('POST', '/v1/workflows', { name: 'h', description: '', project: 'demo', yaml_config: chain(21) });
      expect(many.status).toBe(400);
      expect(many.body.error.details).toBe('yaml_config has 21 states; at most 20 are accepted (CODEMIE_WORKFLOW_MAX_STATES).');
      expect((await small.api('POST', '/v1/workflows', { name: 'h', description: '', project: 'demo', yaml_config: chain(20) })).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('a document the validation thread cannot finish in time → 400', async () => {
    const { WorkflowConfigParser } = await import('./config-parser.js');
    const parser = new WorkflowConfigParser({ timeoutMs: 1 });
    try {
      const err = await parser.parse(chain(3000)).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 400, details: 'yaml_config took longer than 0 s to validate; make it smaller or simpler.' });
    } finally {
      await parser.close();
    }
  });

  it('the default limits: 1 MiB, 500 states', async () => {
    const { loadConfig } = await import('../config/config.js');
    expect(loadConfig({})).toMatchObject({ workflowMaxBytes: 1024 * 1024, workflowMaxStates: 500 });
  });

  it('saving a 1.6 MB, 20 000-state document does not hold up other requests: health checks go on being answered while it is validated', async () => {
    const doc = chain(20_000);
    expect(doc.length).toBeGreaterThan(1_600_000);
    let saved = false;
    const saving = save(doc).finally(() => (saved = true));
    // Health checks one after the other while the save is outstanding. Validating on the event
    // loop answers none until the document is done (only the few that slip in before validation
    // starts); off the loop they keep coming, one per round trip, for as long as validation takes.
    let answered = 0;
    while (!saved) {
      // over a socket, like a load balancer's probe
      const h = await fetch(`${env.platform.url}/v1/healthcheck`);
      expect(h.status).toBe(200);
      await h.arrayBuffer();
      if (!saved) answered++;
    }
    const res = await saving;
    expect(res.status).toBe(200);
    expect(res.body.data.states).toHaveLength(20_000);
    // measured: 0 before (the first check waited ~50 s behind the save), ~450 here on 2 shared cores
    expect(answered).toBeGreaterThan(20);
    // the saved document reads like any other (its parse is cached, else done on the worker thread)
    const got = await env.api('GET', `/v1/workflows/id/${res.body.data.id}`);
    expect(got.body.states).toHaveLength(20_000);
  }, 120_000);
});
