#!/usr/bin/env node
// Local model throughput on this machine: time to first token (TTFT) and generation speed
// (tokens/s after the first token) of the default local model, two ways in the same run: through
// the platform's model (@codemie-open/local-llm, called with the AI SDK's streamText as the agent
// loop does) and raw node-llama-cpp (LlamaChatSession) on the same file, threads, context, prompt
// and sampling; runs alternate between the two; medians and the ratios of ours to raw.
// Needs a build (npm run build) and a model file:
//   eval "$(bash scripts/fetch-test-model.sh)" && node bench/local-model.mjs [runs] [maxTokens]
// Env: CODEMIE_LOCAL_MODEL (file), CODEMIE_LOCAL_MODEL_THREADS (default 0 = all cores).
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import { streamText } from 'ai';
import { getLlama, LlamaChatSession } from 'node-llama-cpp';
import { createLocalModel, defaultThreads, disposeAllEngines, LOCAL_DEFAULTS } from '../packages/local-llm/dist/index.js';

const runs = Number(process.argv[2] ?? 5);
const maxTokens = Number(process.argv[3] ?? 64);
const modelPath = process.env.CODEMIE_LOCAL_MODEL;
if (!modelPath) {
  console.error('set CODEMIE_LOCAL_MODEL (eval "$(bash scripts/fetch-test-model.sh)")');
  process.exit(2);
}
const threads = Number(process.env.CODEMIE_LOCAL_MODEL_THREADS ?? 0);
const CONTEXT = 2048;
const model = createLocalModel({ modelPath, contextSize: CONTEXT, threads });

const t0 = performance.now();
await model.preload();
const loadMs = performance.now() - t0;

// The raw side: node-llama-cpp itself, same settings (the platform's default repeat penalties).
const t1 = performance.now();
const llama = await getLlama();
const rawModel = await llama.loadModel({ modelPath });
const rawContext = await rawModel.createContext({ contextSize: CONTEXT, threads: threads || defaultThreads() });
const session = new LlamaChatSession({ contextSequence: rawContext.getSequence() });
const rawLoadMs = performance.now() - t1;
const repeatPenalty = {
  lastTokens: 256,
  penalty: LOCAL_DEFAULTS.repeatPenalty,
  frequencyPenalty: LOCAL_DEFAULTS.frequencyPenalty,
  presencePenalty: LOCAL_DEFAULTS.presencePenalty,
};

async function rawRun(prompt) {
  session.resetChatHistory();
  const start = performance.now();
  let first = 0;
  let tokens = 0;
  await session.prompt(prompt, {
    maxTokens,
    temperature: 0,
    repeatPenalty,
    onToken: (t) => {
      if (!first) first = performance.now();
      tokens += t.length;
    },
  });
  const end = performance.now();
  return { ttft: first - start, tokens, speed: Math.max(0, tokens - 1) / ((end - first) / 1000) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ours = { ttft: [], speed: [], tokens: [] };
const raw = { ttft: [], speed: [], tokens: [] };
async function oursRun(prompt) {
  const start = performance.now();
  let first = 0;
  const res = streamText({ model, prompt, maxOutputTokens: maxTokens, temperature: 0 });
  for await (const _ of res.textStream) if (!first) first = performance.now();
  const end = performance.now();
  const usage = await res.usage;
  const tokens = usage.outputTokens ?? 0;
  return { ttft: first - start, tokens, speed: Math.max(0, tokens - 1) / ((end - first) / 1000) };
}
// one unmeasured run each: the first generation of a context pays one-time set-up
await oursRun('Warm-up: say hello.');
await rawRun('Warm-up: say hello.');
for (let i = 0; i < runs; i++) {
  // a different question each run, so no run reuses the previous one's evaluated prompt; the
  // order alternates so neither side always runs on a warmer machine
  const prompt = `Run ${i + 1}: explain in a few sentences why the sky is blue.`;
  const order =
    i % 2
      ? [
          ['raw', rawRun],
          ['ours', oursRun],
        ]
      : [
          ['ours', oursRun],
          ['raw', rawRun],
        ];
  for (const [name, fn] of order) {
    const r = await fn(prompt);
    const into = name === 'ours' ? ours : raw;
    into.ttft.push(r.ttft);
    into.speed.push(r.speed);
    into.tokens.push(r.tokens);
    console.error(`run ${i + 1} ${name.padEnd(4)}: ttft ${r.ttft.toFixed(0)} ms, ${r.tokens} tokens, ${r.speed.toFixed(1)} tok/s`);
  }
}
await rawContext.dispose();
await rawModel.dispose();
await disposeAllEngines();
const summary = {
  model: model.modelId,
  cpu: os.cpus()[0]?.model,
  cores: os.cpus().length,
  threads: threads || defaultThreads(),
  loadavg1m: os.loadavg()[0].toFixed(2),
  runs,
  load_ms: Math.round(loadMs),
  raw_load_ms: Math.round(rawLoadMs),
  ttft_ms_median: Math.round(median(ours.ttft)),
  raw_ttft_ms_median: Math.round(median(raw.ttft)),
  added_ttft_ms: Math.round(median(ours.ttft) - median(raw.ttft)),
  tokens_per_s_median: Number(median(ours.speed).toFixed(1)),
  raw_tokens_per_s_median: Number(median(raw.speed).toFixed(1)),
  tokens_per_s_ratio: Number((median(ours.speed) / median(raw.speed)).toFixed(3)),
  output_tokens_median: median(ours.tokens),
  raw_output_tokens_median: median(raw.tokens),
};
console.log(JSON.stringify(summary, null, 2));
