#!/usr/bin/env node
// Local model throughput on this machine: time to first token (TTFT) and generation speed
// (tokens/s after the first token) of the default local model, through the AI SDK streamText,
// a few runs, median. Needs a build (npm run build) and a model file:
//   eval "$(bash scripts/fetch-test-model.sh)" && node bench/local-model.mjs [runs] [maxTokens]
// Env: CODEMIE_LOCAL_MODEL (file), CODEMIE_LOCAL_MODEL_THREADS (default 0 = all cores).
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import { streamText } from 'ai';
import { createLocalModel, defaultThreads, disposeAllEngines } from '../packages/local-llm/dist/index.js';

const runs = Number(process.argv[2] ?? 5);
const maxTokens = Number(process.argv[3] ?? 64);
const modelPath = process.env.CODEMIE_LOCAL_MODEL;
if (!modelPath) {
  console.error('set CODEMIE_LOCAL_MODEL (eval "$(bash scripts/fetch-test-model.sh)")');
  process.exit(2);
}
const threads = Number(process.env.CODEMIE_LOCAL_MODEL_THREADS ?? 0);
const model = createLocalModel({ modelPath, contextSize: 2048, threads });

const t0 = performance.now();
await model.preload();
const loadMs = performance.now() - t0;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ttfts = [];
const speeds = [];
const outTokens = [];
for (let i = 0; i < runs; i++) {
  const start = performance.now();
  let first = 0;
  // a different question each run, so no run reuses the previous one's evaluated prompt
  const res = streamText({
    model,
    prompt: `Run ${i + 1}: explain in a few sentences why the sky is blue.`,
    maxOutputTokens: maxTokens,
    temperature: 0,
  });
  for await (const _ of res.textStream) if (!first) first = performance.now();
  const end = performance.now();
  const usage = await res.usage;
  const ttft = first - start;
  const genTokens = Math.max(0, (usage.outputTokens ?? 0) - 1);
  ttfts.push(ttft);
  outTokens.push(usage.outputTokens ?? 0);
  speeds.push(genTokens / ((end - first) / 1000));
  console.error(`run ${i + 1}: ttft ${ttft.toFixed(0)} ms, ${usage.outputTokens} tokens, ${speeds.at(-1).toFixed(1)} tok/s (prompt ${usage.inputTokens} tokens)`);
}
await disposeAllEngines();
const summary = {
  model: model.modelId,
  cpu: os.cpus()[0]?.model,
  cores: os.cpus().length,
  threads: threads || defaultThreads(),
  loadavg1m: os.loadavg()[0].toFixed(2),
  runs,
  load_ms: Math.round(loadMs),
  ttft_ms_median: Math.round(median(ttfts)),
  tokens_per_s_median: Number(median(speeds).toFixed(1)),
  output_tokens_median: median(outTokens),
};
console.log(JSON.stringify(summary, null, 2));
