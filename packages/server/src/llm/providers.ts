/**
 * Builds the AI SDK language model for a configured model. Only what the models file says is
 * sent to the provider: its key, base URL and static headers. Request headers of platform
 * callers (propagated headers, user tokens) never reach this code.
 *
 * A provider's package (and the AI SDK itself) is loaded on the model's first call, not at
 * start-up: a process that never calls an Anthropic model never loads Anthropic's adapter.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { LanguageModel } from 'ai';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { createLazyLocalModel, LOCAL_DEFAULT_SETTINGS } from './local-provider.js';
import type { ModelConfig } from './models-config.js';

/** The model for the agent loop; models without streaming (features.streaming: false) are called once and replayed as a stream. */
export function createLanguageModel(m: ModelConfig, env: NodeJS.ProcessEnv = process.env, log?: FastifyBaseLogger): LanguageModel {
  if (m.provider === 'local') return createLazyLocalModel(m, m.local ?? LOCAL_DEFAULT_SETTINGS, log);
  return lazyModel(m, async () => {
    const lm = (await createProviderModel(m, env)) as LanguageModelV3;
    if (m.features.streaming) return lm;
    const { wrapLanguageModel, simulateStreamingMiddleware } = await import('ai');
    return wrapLanguageModel({ model: lm, middleware: simulateStreamingMiddleware() }) as LanguageModelV3;
  });
}

/** A LanguageModelV3 whose implementation is built on first use (a failed load is tried again next call). */
function lazyModel(m: ModelConfig, load: () => Promise<LanguageModelV3>): LanguageModelV3 {
  let model: Promise<LanguageModelV3> | undefined;
  const get = () =>
    (model ??= load().catch((err: unknown) => {
      model = undefined;
      throw err;
    }));
  return {
    specificationVersion: 'v3',
    provider: m.provider,
    modelId: m.deployment_name,
    supportedUrls: {},
    doGenerate: async (o) => (await get()).doGenerate(o),
    doStream: async (o) => (await get()).doStream(o),
  };
}

/** The provider's own AI SDK model (what a lazy model loads on its first call). */
export async function createProviderModel(m: ModelConfig, env: NodeJS.ProcessEnv): Promise<LanguageModel> {
  const common = {
    ...(m.apiKey ? { apiKey: m.apiKey } : {}),
    ...(m.base_url ? { baseURL: m.base_url } : {}),
    ...(m.headers ? { headers: m.headers } : {}),
  };
  switch (m.provider) {
    case 'openai': {
      const { createOpenAI } = await import('@ai-sdk/openai');
      const p = createOpenAI(common);
      return m.api === 'responses' ? p.responses(m.deployment_name) : p.chat(m.deployment_name);
    }
    case 'azure': {
      const { createAzure } = await import('@ai-sdk/azure');
      const p = createAzure({
        ...common,
        ...(m.resource_name ? { resourceName: m.resource_name } : {}),
        ...(m.api_version ? { apiVersion: m.api_version } : {}),
        ...(m.use_deployment_based_urls !== undefined ? { useDeploymentBasedUrls: m.use_deployment_based_urls } : {}),
      });
      return m.api === 'responses' ? p.responses(m.deployment_name) : p.chat(m.deployment_name);
    }
    case 'anthropic': {
      const { createAnthropic } = await import('@ai-sdk/anthropic');
      return createAnthropic(common)(m.deployment_name);
    }
    case 'bedrock': {
      const fromEnv = (name?: string) => (name ? env[name] : undefined);
      const { createAmazonBedrock } = await import('@ai-sdk/amazon-bedrock');
      const p = createAmazonBedrock({
        ...(m.region ? { region: m.region } : {}),
        ...(m.apiKey ? { apiKey: m.apiKey } : {}),
        ...(m.base_url ? { baseURL: m.base_url } : {}),
        ...(m.headers ? { headers: m.headers } : {}),
        ...(m.access_key_id_env ? { accessKeyId: fromEnv(m.access_key_id_env) } : {}),
        ...(m.secret_access_key_env ? { secretAccessKey: fromEnv(m.secret_access_key_env) } : {}),
        ...(m.session_token_env ? { sessionToken: fromEnv(m.session_token_env) } : {}),
      });
      return p(m.deployment_name);
    }
    case 'local':
      throw new Error('local models are built by createLazyLocalModel');
    case 'openai-compatible': {
      const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
      const p = createOpenAICompatible({
        name: 'openai-compatible',
        baseURL: m.base_url!,
        ...(m.apiKey ? { apiKey: m.apiKey } : {}),
        ...(m.headers ? { headers: m.headers } : {}),
        includeUsage: true,
        supportsStructuredOutputs: m.supports_structured_outputs ?? false,
      });
      return p.chatModel(m.deployment_name);
    }
  }
}
