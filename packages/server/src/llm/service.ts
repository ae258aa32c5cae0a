/** createLlmService: the configured models behind the LlmService contract. */
import type { FastifyBaseLogger } from 'fastify';
import type { LanguageModel } from 'ai';
import type { Config } from '../config/config.js';
import { badRequest } from '../api/errors.js';
import type { AgentEvent, AgentRequest, LlmModelInfo, LlmService } from './types.js';
import { LlmError } from './types.js';
import { loadEmbeddingModels, loadModels, toModelInfo, type ModelConfig } from './models-config.js';
import { createEmbeddings } from './embeddings.js';
import { createLanguageModel } from './providers.js';
import { DEFAULT_LOCAL_MODEL_NAME, DEFAULT_LOCAL_MODEL_SPEC, LOCAL_PROVIDER, localDeploymentName, localModelAliases, localModelName, localSettingsOf, localSupply, type LazyLocalModel } from './local-provider.js';
import { runAgentLoop, type AgentSettings } from './agent.js';
import { createOpenAICompatibleModel } from './openai-compatible-model.js';
import { deepFreeze } from '../deep-freeze.js';

export const NO_MODELS_HELP =
  'Set CODEMIE_LLM_CONFIG to a YAML file listing the models (see docs/llm.md), e.g. a model with provider openai-compatible and base_url of your vLLM/Ollama/LiteLLM server.';

export interface LlmServiceImpl extends LlmService {
  /** The provider-side config of a model (with its key): for the LLM layer's own use only. */
  modelConfig(name: string): ModelConfig | undefined;
}

/** AI SDK warnings (unsupported settings etc.) go to our structured log instead of the console. */
function routeSdkWarnings(log: FastifyBaseLogger): void {
  (globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS = (o: { warnings: unknown[]; provider?: string; model?: string }) =>
    log.debug({ provider: o.provider, model: o.model, warnings: o.warnings }, 'AI SDK warnings');
}

export function createLlmService(config: Config, log: FastifyBaseLogger, env: NodeJS.ProcessEnv = process.env): LlmServiceImpl {
  routeSdkWarnings(log);
  const models = withLocalModel(loadModels({ file: config.llmConfig, inline: config.llmModels }, env), config);
  const enabled = models.filter((m) => m.enabled);
  const defaultName = (enabled.find((m) => m.default) ?? enabled[0])?.base_name;
  // A local model is listed under its file's name, never the server path it was configured with.
  const infos = models.map((m) => {
    const info = toModelInfo(m, m.base_name === defaultName);
    return m.provider === LOCAL_PROVIDER ? { ...info, deployment_name: localDeploymentName(m.deployment_name) } : info;
  });
  // Aliases select the same model (an older spelling of a local model's name).
  const byName = new Map(models.flatMap((m) => [m.base_name, ...(m.aliases ?? [])].map((n) => [n, m] as const)));
  // resolveModel is on every call's path: hand out one frozen copy instead of cloning each time.
  const infoByName = new Map(
    infos.flatMap((i) => {
      const frozen = deepFreeze(structuredClone(i));
      return [i.base_name, ...(byName.get(i.base_name)?.aliases ?? [])].map((n) => [n, frozen] as const);
    }),
  );
  const languageModels = new Map<string, LanguageModel>();
  const embeddings = createEmbeddings({
    models: loadEmbeddingModels({ file: config.llmConfig, inline: config.llmModels }, env),
    localSpec: config.localEmbeddingModel,
    dataDir: config.dataDir,
    threads: config.localEmbeddingThreads,
    maxRetries: config.llmMaxRetries,
    env,
    onProgress: (line) => log.info(line),
  });
  const settings: AgentSettings = { timeoutMs: config.llmTimeoutMs, maxRetries: config.llmMaxRetries, maxSteps: config.llmMaxSteps };

  log.info({ models: models.map((m) => ({ base_name: m.base_name, provider: m.provider, default: m.base_name === defaultName })) }, `LLM models configured: ${models.length}`);

  // OpenAI-compatible servers get the platform's own model (openai-compatible-model.ts) unless
  // CODEMIE_LLM_DIRECT_CLIENT=false; every other provider its AI SDK adapter. One agent loop for all.
  const languageModel = (m: ModelConfig): LanguageModel => {
    let lm = languageModels.get(m.base_name);
    if (!lm) {
      lm = config.llmDirectClient && m.provider === 'openai-compatible' && m.base_url ? createOpenAICompatibleModel(m) : createLanguageModel(m, env, log);
      languageModels.set(m.base_name, lm);
    }
    return lm;
  };


  return {
    embeddings,
    listModels(): LlmModelInfo[] {
      return infos.map((i) => structuredClone(i));
    },
    resolveModel(name?: string | null): LlmModelInfo {
      if (!enabled.length) throw badRequest('No LLM models are configured', 'This platform has no LLM model to run the request with.', NO_MODELS_HELP);
      const wanted = name?.trim() || defaultName!;
      const info = infoByName.get(wanted);
      if (!info || !info.enabled) {
        const available = enabled.map((m) => m.base_name).join(', ');
        throw badRequest(
          `Unknown LLM model: ${wanted}`,
          `The LLM model "${wanted}" is not available. Available models: ${available}.`,
          'Use GET /v1/llm_models to list the models; send the base_name.',
        );
      }
      return info;
    },
    modelConfig(name: string) {
      return byName.get(name);
    },
    prepare() {
      // The default local model's file is fetched now (in the background) rather than on the first call.
      const def = defaultName ? byName.get(defaultName) : undefined;
      if (def?.provider !== LOCAL_PROVIDER) return;
      const fetched = localSupply(def, log).fetch({ announce: true });
      // ...and loaded into memory (CODEMIE_LOCAL_MODEL_PRELOAD), so the first call does not wait for it either.
      if (!config.localModelPreload) return void fetched.catch(() => undefined);
      fetched
        .then(async () => {
          const started = Date.now();
          await (languageModel(def) as LazyLocalModel).preload();
          log.info({ model: def.base_name, ms: Date.now() - started }, `local model loaded: ${def.base_name}`);
        })
        .catch((err: Error) => log.warn({ model: def.base_name, err: err.message }, 'local model not preloaded (it loads on the first call)'));
    },
    runAgent(req: AgentRequest): AsyncIterable<AgentEvent> {
      const m = byName.get(req.model);
      if (!m || !m.enabled) {
        const error = new LlmError('llm_unavailable', `Unknown or disabled LLM model: ${req.model}`, 400);
        return (async function* () {
          yield { type: 'error', error, usage: { input_tokens: 0, output_tokens: 0, cached_tokens: 0, money_spent: 0 }, text: '' } as AgentEvent;
        })();
      }
      return runAgentLoop(req, m, languageModel(m), settings, log);
    },
  };
}

export { DEFAULT_LOCAL_MODEL_SPEC };

/**
 * Adds the local model (unless CODEMIE_LOCAL_MODEL=off): listed always, the default only when no
 * hosted model is configured. Local models declared in the models file get the data dir too.
 */
function withLocalModel(models: ModelConfig[], config: Config): ModelConfig[] {
  const local = localSettingsOf(config);
  const out = models.map((m) => (m.provider === LOCAL_PROVIDER ? { ...m, data_dir: config.dataDir, local } : m));
  const spec = config.localModel?.trim() || DEFAULT_LOCAL_MODEL_SPEC;
  if (spec === 'off' || out.some((m) => m.provider === LOCAL_PROVIDER)) return out;
  const hosted = out.some((m) => m.enabled);
  const name = localModelName(spec);
  const taken = new Set(out.map((m) => m.base_name));
  if (taken.has(name)) return out;
  out.push({
    base_name: name,
    aliases: localModelAliases(spec).filter((a) => !taken.has(a)),
    deployment_name: spec,
    provider: LOCAL_PROVIDER,
    label: name === DEFAULT_LOCAL_MODEL_NAME ? 'SmolLM2 135M Instruct (local, CPU)' : `${name} (local, CPU)`,
    enabled: true,
    default: !hosted,
    features: { streaming: true, tools: true, temperature: true, parallel_tool_calls: false, system_prompt: true, max_tokens: true, top_p: true },
    data_dir: config.dataDir,
    local,
  } as ModelConfig);
  return out;
}

