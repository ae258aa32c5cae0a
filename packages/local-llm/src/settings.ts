/**
 * The local model's settings from the environment, for whoever wires the provider (the server
 * may instead map the same names through its own config):
 *   CODEMIE_LOCAL_MODEL                 file path or hf:<user>/<repo>/<file> (default DEFAULT_LOCAL_MODEL)
 *   CODEMIE_LOCAL_MODEL_CONTEXT_SIZE    tokens per request, prompt + answer (default 4096)
 *   CODEMIE_LOCAL_MODEL_THREADS         CPU threads (default 0 = half the cores, 1 to 4)
 *   CODEMIE_LOCAL_MODEL_PARALLEL        requests generated at once (default 1)
 *   CODEMIE_LOCAL_MODEL_MAX_QUEUE       requests allowed to wait (default 32)
 *   CODEMIE_LOCAL_MODEL_MAX_TOKENS      answer cap when a call sets none (default 512)
 *   CODEMIE_LOCAL_MODEL_REPEAT_PENALTY  repeat penalty over the last 256 tokens (default 1.3, 1 = off)
 *   CODEMIE_LOCAL_MODEL_FREQUENCY_PENALTY / _PRESENCE_PENALTY   0 to 1 (defaults 0.3 / 0.1)
 * Invalid numbers throw an Error naming the variable.
 */
import { LOCAL_DEFAULTS } from './model.js';
import { DEFAULT_LOCAL_MODEL } from './resolve.js';

export interface LocalModelSettings {
  /** What resolveLocalModelFile takes. */
  model: string;
  contextSize: number;
  threads: number;
  parallel: number;
  maxQueue: number;
  maxOutputTokens: number;
  repeatPenalty: number;
  frequencyPenalty: number;
  presencePenalty: number;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  return n;
}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number from ${min} to ${max} (got "${raw}")`);
  return n;
}

export function localModelSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): LocalModelSettings {
  return {
    model: env.CODEMIE_LOCAL_MODEL?.trim() || DEFAULT_LOCAL_MODEL,
    contextSize: int(env, 'CODEMIE_LOCAL_MODEL_CONTEXT_SIZE', LOCAL_DEFAULTS.contextSize, 256, 1_048_576),
    threads: int(env, 'CODEMIE_LOCAL_MODEL_THREADS', LOCAL_DEFAULTS.threads, 0, 1024),
    parallel: int(env, 'CODEMIE_LOCAL_MODEL_PARALLEL', LOCAL_DEFAULTS.parallel, 1, 64),
    maxQueue: int(env, 'CODEMIE_LOCAL_MODEL_MAX_QUEUE', LOCAL_DEFAULTS.maxQueue, 0, 100_000),
    maxOutputTokens: int(env, 'CODEMIE_LOCAL_MODEL_MAX_TOKENS', LOCAL_DEFAULTS.maxOutputTokens, 1, 1_048_576),
    repeatPenalty: num(env, 'CODEMIE_LOCAL_MODEL_REPEAT_PENALTY', LOCAL_DEFAULTS.repeatPenalty, 1, 2),
    frequencyPenalty: num(env, 'CODEMIE_LOCAL_MODEL_FREQUENCY_PENALTY', LOCAL_DEFAULTS.frequencyPenalty, 0, 1),
    presencePenalty: num(env, 'CODEMIE_LOCAL_MODEL_PRESENCE_PENALTY', LOCAL_DEFAULTS.presencePenalty, 0, 1),
  };
}
