/**
 * Streams survive a lost publish: the engine writes a state's or the run's end before publishing it,
 * so a worker dying between the two leaves the event unpublished. The API's stream loop re-reads an
 * idle execution and sends the final chunk from the database; a worker taking a finished run over
 * publishes it again; either way the client gets exactly one `last` chunk and each state_finish once.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DB_KINDS, testAuthHeaders } from '../../test/helpers.js';
import { parseSse } from '../../test/sse.js';
import { alice, startWorkflowEnv, type WorkflowEnv } from '../../test/workflows-harness.js';
import type { EventBus } from '../events/bus.js';
import type { BusEnvelope } from './model.js';
import { RUN_KIND } from './service.js';

const TWO = `
assistants:
  - id: a
    system_prompt: "ROLE two"
states:
  - id: s1
    assistant_id: a
    task: "first"
    next:
      state_id: s2
  - id: s2
    assistant_id: a
    task: "second"
    next:
      state_id: end
`;

const CHECK_MS = 150;

type Filter = (channel: string, env: BusEnvelope) => 'pass' | 'drop' | { delayMs: number } | 'twice';

describe.each(DB_KINDS)('workflow streams after a lost publish (%s)', (db) => {
  let env: WorkflowEnv;
  let workflowId = '';
  let filter: Filter = () => 'pass';
  let dropEnds = false;

  beforeAll(async () => {
    env = await startWorkflowEnv({ db, env: { CODEMIE_WORKFLOW_STREAM_CHECK_MS: String(CHECK_MS) } });
    // A test seam on the event bus: the engine and the stream loop share ctx.events.
    const bus = env.platform.infra.events as EventBus;
    const publish = bus.publish.bind(bus);
    const end = bus.end.bind(bus);
    bus.publish = async (channel, data) => {
      const verdict = filter(channel, data as BusEnvelope);
      if (verdict === 'drop') return '0';
      if (verdict === 'twice') {
        await publish(channel, data);
        return publish(channel, data);
      }
      if (verdict !== 'pass') {
        setTimeout(() => void publish(channel, data), verdict.delayMs);
        return '0';
      }
      return publish(channel, data);
    };
    bus.end = async (channel) => (dropEnds ? undefined : end(channel));
    workflowId = await env.createWorkflow(TWO);
  });
  afterAll(() => env?.close());
  beforeEach(() => {
    filter = () => 'pass';
    dropEnds = false;
    env.platform.infra.config.workflowStreamCheckMs = CHECK_MS;
  });

  /** Starts a streaming execution; resolves with its chunks and how long the stream took (15 s at most). */
  async function stream(): Promise<{ chunks: any[]; ms: number }> {
    const t0 = Date.now();
    const res = await fetch(`${env.platform.url}/v1/workflows/${workflowId}/executions`, {
      method: 'POST',
      headers: { ...testAuthHeaders(alice), 'content-type': 'application/json' },
      body: JSON.stringify({ user_input: 'hi', stream: true }),
      signal: AbortSignal.timeout(15_000),
    });
    expect(res.status).toBe(200);
    const chunks = parseSse(await res.text()).map((e) => JSON.parse(e.data));
    return { chunks, ms: Date.now() - t0 };
  }
  /** The event that ends a run segment (the stream's `last` chunk). */
  const isEnd = (e: BusEnvelope) => e.event.type === 'end' || e.event.type === 'interrupt';
  const lasts = (chunks: any[]) => chunks.filter((c) => c.last === true);
  const finishes = (chunks: any[], name: string) => chunks.filter((c) => c.workflow_state?.event_type === 'state_finish' && c.workflow_state.name === name);

  it('the run’s final event is never published (worker died): the stream sends the final chunk from the database, once', async () => {
    filter = (_ch, e) => (isEnd(e) ? 'drop' : 'pass');
    dropEnds = true; // nothing at all after the run's end write
    const { chunks, ms } = await stream();
    expect(lasts(chunks)).toHaveLength(1);
    expect(chunks.at(-1)).toMatchObject({ last: true, generated: 'Echo: second', generated_chunk: '' });
    expect(chunks.at(-1).workflow_execution_id).toBe(chunks[0].workflow_execution_id);
    expect(finishes(chunks, 's1')).toHaveLength(1);
    expect(finishes(chunks, 's2')).toHaveLength(1);
    // It took the idle check (the stream's own 15 s abort bounds it from above).
    expect(ms).toBeGreaterThanOrEqual(CHECK_MS);
  });

  it('the final event is lost but the channel ends: the final chunk comes from the database at once', async () => {
    // The idle check is 60 s away and the stream gives up after 15 s: ending at all means "at once".
    env.platform.infra.config.workflowStreamCheckMs = 60_000;
    filter = (_ch, e) => (isEnd(e) ? 'drop' : 'pass');
    const { chunks } = await stream();
    expect(lasts(chunks)).toHaveLength(1);
    expect(chunks.at(-1)).toMatchObject({ last: true, generated: 'Echo: second' });
  });

  it('the final event arrives late (after the database check): still exactly one final chunk', async () => {
    filter = (_ch, e) => (isEnd(e) ? { delayMs: CHECK_MS * 4 } : 'pass');
    dropEnds = true;
    const { chunks } = await stream();
    expect(lasts(chunks)).toHaveLength(1);
    expect(chunks.at(-1)).toMatchObject({ last: true, generated: 'Echo: second' });
    // ...and one arriving within the grace period is the one sent (it carries its bus event id).
    filter = (_ch, e) => (isEnd(e) ? { delayMs: CHECK_MS + 40 } : 'pass');
    const again = await stream();
    expect(lasts(again.chunks)).toHaveLength(1);
  });

  it('repeated events (a take-over publishing again) reach the client once', async () => {
    filter = (_ch, e) => (e.event.type === 'state-finish' || isEnd(e) ? 'twice' : 'pass');
    const { chunks } = await stream();
    expect(finishes(chunks, 's1')).toHaveLength(1);
    expect(finishes(chunks, 's2')).toHaveLength(1);
    expect(lasts(chunks)).toHaveLength(1);
  });

  it('a failed run whose final event is lost: the final chunk carries the error from the record', async () => {
    env.llm.rule((r) => (String(r.messages.at(-1)?.content).includes('second') ? { status: 400, error: 'bad request from model' } : null));
    try {
      filter = (_ch, e) => (isEnd(e) ? 'drop' : 'pass');
      dropEnds = true;
      const { chunks } = await stream();
      expect(lasts(chunks)).toHaveLength(1);
      expect(chunks.at(-1)).toMatchObject({ last: true, execution_error: 'workflow_error' });
      expect(chunks.at(-1).generated).toMatch(/State 's2' failed/);
    } finally {
      env.llm.reset();
    }
  });

  it('a worker taking over an already finished run publishes its final chunk again', async () => {
    // No database fallback within this test: only the take-over can end the stream.
    env.platform.infra.config.workflowStreamCheckMs = 60_000;
    let lost = '';
    filter = (ch, e) => (isEnd(e) && !lost ? ((lost = ch), 'drop') : 'pass');
    dropEnds = true;
    const pending = stream();
    const execId = await (async () => {
      for (let i = 0; i < 500 && !lost; i++) await new Promise((r) => setTimeout(r, 10));
      return lost.replace(/^execution:/, '');
    })();
    expect(execId).not.toBe('');
    await env.waitFor(workflowId, execId, ['Succeeded']);
    dropEnds = false;
    // The run queue hands the (finished) run to a worker again, as after its first worker died.
    await env.platform.infra.runs.enqueue(RUN_KIND, execId);
    const { chunks } = await pending;
    expect(lasts(chunks)).toHaveLength(1);
    expect(chunks.at(-1)).toMatchObject({ last: true, generated: 'Echo: second', workflow_execution_id: execId });
  });
});
