/**
 * The embedded local model (optional package @codemie-open/local-llm, node-llama-cpp) as one
 * more AI SDK model. Loaded lazily: the package is imported and the GGUF file resolved on the
 * first call, so a missing package or file never stops the server; calls then fail with a
 * 503-class error that says how to provide the model.
 */
import path from 'node:path';
import type { LanguageModel } from 'ai';
import { APICallError } from '@ai-sdk/provider';
import type { ModelConfig } from './models-config.js';

export const LOCAL_PROVIDER = 'local';
export const DEFAULT_LOCAL_MODEL_NAME = 'smollm2-135m-instruct';

type LocalPkg = typeof import('@codemie-open/local-llm');

let pkg: Promise<LocalPkg> | null = null;
function loadPackage(): Promise<LocalPkg> {
  pkg ??= import('@codemie-open/local-llm').catch((err: unknown) => {
    pkg = null;
    throw unavailable(`the optional package @codemie-open/local-llm is not installed (${(err as Error).message}); run npm ci without --omit=optional`);
  });
  return pkg;
}

function unavailable(message: string): APICallError {
  return new APICallError({ message: `Local model unavailable: ${message}`, url: 'local://model', requestBodyValues: {}, statusCode: 503, isRetryable: false });
}

/** The model's base_name as listed: the default's fixed name, else derived from the file name. */
export function localModelName(spec: string, isDefaultSpec: boolean): string {
  if (isDefaultSpec) return DEFAULT_LOCAL_MODEL_NAME;
  const base = path.basename(spec.replace(/^hf:/, '')).replace(/\.gguf$/i, '');
  return `local-${base.toLowerCase().replace(/[^a-z0-9.]+/g, '-').replace(/^-+|-+$/g, '')}`;
}

/** Resolves (downloads when it is an hf: URI and missing) the model file; used at start-up too. */
export async function resolveLocalFile(spec: string, dataDir: string, quiet: boolean): Promise<string> {
  const mod = await loadPackage();
  return mod.resolveLocalModelFile(spec, { dataDir, quiet });
}

export function createLazyLocalModel(m: ModelConfig & { data_dir?: string }): LanguageModel {
  type V3 = Extract<LanguageModel, { specificationVersion: 'v3' }>;
  let model: Promise<V3> | null = null;
  const get = (): Promise<V3> => {
    model ??= (async () => {
      const mod = await loadPackage();
      const settings = mod.localModelSettingsFromEnv(process.env);
      let file: string;
      try {
        file = await mod.resolveLocalModelFile(m.deployment_name, { dataDir: m.data_dir ?? 'data', quiet: true });
      } catch (err) {
        throw unavailable((err as Error).message.replace(/^Local model unavailable:\s*/i, ''));
      }
      return mod.createLocalModel({ modelPath: file, contextSize: settings.contextSize, threads: settings.threads, parallel: settings.parallel, maxQueue: settings.maxQueue, modelId: m.base_name }) as unknown as V3;
    })().catch((err) => {
      model = null; // the file may be provided later: try again on the next call
      throw err;
    });
    return model;
  };
  const lazy: V3 = {
    specificationVersion: 'v3',
    provider: LOCAL_PROVIDER,
    modelId: m.base_name,
    supportedUrls: {},
    doGenerate: async (o) => (await get()).doGenerate(o),
    doStream: async (o) => (await get()).doStream(o),
  };
  return lazy;
}
