/**
 * Builds the AI SDK language model for a configured model. Only what the models file says is
 * sent to the provider: its key, base URL and static headers. Request headers of platform
 * callers (propagated headers, user tokens) never reach this code.
 */
import type { FastifyBaseLogger } from 'fastify';
import { createLazyLocalModel, LOCAL_DEFAULT_SETTINGS } from './local-provider.js';
import { simulateStreamingMiddleware, wrapLanguageModel, type LanguageModel } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { createAzure } from '@ai-sdk/azure';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { ModelConfig } from './models-config.js';

/** The model for the agent loop; models without streaming (features.streaming: false) are called once and replayed as a stream. */
export function createLanguageModel(m: ModelConfig, env: NodeJS.ProcessEnv = process.env, log?: FastifyBaseLogger): LanguageModel {
  const lm = createProviderModel(m, env, log);
  if (m.features.streaming || typeof lm === 'string') return lm;
  return wrapLanguageModel({ model: lm as Parameters<typeof wrapLanguageModel>[0]['model'], middleware: simulateStreamingMiddleware() });
}

function createProviderModel(m: ModelConfig, env: NodeJS.ProcessEnv, log?: FastifyBaseLogger): LanguageModel {
  const common = {
    ...(m.apiKey ? { apiKey: m.apiKey } : {}),
    ...(m.base_url ? { baseURL: m.base_url } : {}),
    ...(m.headers ? { headers: m.headers } : {}),
  };
  switch (m.provider) {
    case 'openai': {
      const p = createOpenAI(common);
      return m.api === 'responses' ? p.responses(m.deployment_name) : p.chat(m.deployment_name);
    }
    case 'azure': {
      const p = createAzure({
        ...common,
        ...(m.resource_name ? { resourceName: m.resource_name } : {}),
        ...(m.api_version ? { apiVersion: m.api_version } : {}),
        ...(m.use_deployment_based_urls !== undefined ? { useDeploymentBasedUrls: m.use_deployment_based_urls } : {}),
      });
      return m.api === 'responses' ? p.responses(m.deployment_name) : p.chat(m.deployment_name);
    }
    case 'anthropic':
      return createAnthropic(common)(m.deployment_name);
    case 'bedrock': {
      const fromEnv = (name?: string) => (name ? env[name] : undefined);
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
      return createLazyLocalModel(m, m.local ?? LOCAL_DEFAULT_SETTINGS, log);
    case 'openai-compatible': {
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
