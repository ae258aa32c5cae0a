/**
 * The LLM path's own cost: CPU per model call through the platform's agent loop with its own
 * OpenAI-compatible model, through the same loop with the AI SDK's openai-compatible adapter, and
 * through the AI SDK's streamText with that adapter (what the loop replaced), against the instant
 * scripted test LLM server in this process (its cost is in every figure alike). Paths alternate
 * round by round; medians over the rounds. Plain answers and one tool round trip.
 *
 *   npx tsx bench/llm-path.ts [--rounds 5] [--calls 1000]
 */
import pino from 'pino';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { loadConfig } from '../packages/server/src/config/config.js';
import { createLlmService } from '../packages/server/src/llm/service.js';
import type { AgentTool } from '../packages/server/src/llm/tool.js';
import { startTestLlmServer, writeTestModelsFile } from '../packages/server/test/llm-server.js';
import { tempDir } from '../packages/server/test/helpers.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const ROUNDS = arg('rounds', 5);
const CALLS = arg('calls', 1000);

const server = await startTestLlmServer({ instant: true });
const tmp = tempDir('codemie-llm-path-');
const { env } = writeTestModelsFile(server, tmp.dir);
const log = pino({ level: 'silent' });
const platformModel = createLlmService(loadConfig({ CODEMIE_DATA_DIR: tmp.dir, ...env }), log);
const sdkAdapter = createLlmService(loadConfig({ CODEMIE_DATA_DIR: tmp.dir, ...env, CODEMIE_LLM_DIRECT_CLIENT: 'false' }), log);
const adapter = createOpenAICompatible({ name: 'bench', baseURL: `${server.url}/v1`, apiKey: 'k' }).chatModel('test-model');

const echo: AgentTool = {
  name: 'echo',
  description: 'echo',
  inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
  execute: async (a) => ({ output: String(a.text), isError: false }),
};
// Tool rounds: the first call asks for the tool, the one after the tool result answers.
server.rule((r) => (r.messages.at(-1)?.content === 'use the tool' ? { toolCalls: [{ id: 'c1', name: 'echo', arguments: { text: 'hi' } }] } : null));

const messages = (tools: boolean) => [{ role: 'user' as const, content: tools ? 'use the tool' : 'hello there' }];
const viaLoop = (llm: typeof platformModel, tools: boolean) => async () => {
  for await (const e of llm.runAgent({ model: 'test-model', messages: messages(tools), tools: tools ? [echo] : [], signal: new AbortController().signal })) {
    if (e.type === 'error') throw e.error;
  }
};
const viaStreamText = (tools: boolean) => async () => {
  const r = streamText({
    model: adapter,
    messages: messages(tools),
    ...(tools
      ? {
          tools: { echo: tool({ inputSchema: jsonSchema<{ text: string }>(echo.inputSchema as never), execute: async (a) => a.text }) },
          stopWhen: stepCountIs(3),
        }
      : {}),
    onError: () => {},
  });
  for await (const p of r.fullStream) if (p.type === 'error') throw p.error;
};

async function cpuPerCall(fn: () => Promise<void>): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / CALLS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const tools of [false, true]) {
  const paths: Array<[string, () => Promise<void>]> = [
    ['agent loop + platform model', viaLoop(platformModel, tools)],
    ['agent loop + AI SDK adapter', viaLoop(sdkAdapter, tools)],
    ['streamText + AI SDK adapter', viaStreamText(tools)],
  ];
  for (const [, fn] of paths) for (let i = 0; i < 200; i++) await fn(); // warm-up
  const figures = new Map<string, number[]>(paths.map(([n]) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [name, fn] of paths) figures.get(name)!.push(await cpuPerCall(fn));
  console.log(`\n${tools ? 'one tool round trip (2 model calls)' : 'plain answer (1 model call)'}: CPU ms per call, median of ${ROUNDS} rounds × ${CALLS}`);
  const base = median(figures.get(paths[0][0])!);
  for (const [name] of paths) {
    const m = median(figures.get(name)!);
    console.log(`  ${name.padEnd(30)} ${m.toFixed(3)} ms  (×${(m / base).toFixed(2)})`);
  }
}
await server.close();
tmp.cleanup();
