/** GET /v1/llm_models: the configured models in the reference LLMModel shape (nulls omitted). */
import { z } from 'zod';
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { defineRoute } from '../api/route.js';
import { boolQuery } from '../api/schemas.js';
import type { LlmModelInfo } from './types.js';

/**
 * Provider names the reference's LLMProvider enum knows (the Python SDK validates `provider` against
 * it and rejects the whole list on any other value). Others (openai, openai_compatible) are omitted:
 * the field is optional on the wire.
 */
const REFERENCE_PROVIDERS = new Set(['azure_openai', 'aws_bedrock', 'google_vertexai', 'vertex_ai-anthropic_models', 'anthropic']);

function toWire(m: LlmModelInfo): Omit<LlmModelInfo, 'provider'> & { provider?: string } {
  if (REFERENCE_PROVIDERS.has(m.provider)) return m;
  const { provider: _omitted, ...rest } = m;
  return rest;
}

export const llmModelSchema = z
  .object({
    base_name: z.string(),
    deployment_name: z.string(),
    label: z.string().optional(),
    multimodal: z.boolean().optional(),
    react_agent: z.boolean().optional(),
    enabled: z.boolean(),
    supports_image_generation: z.boolean().optional(),
    provider: z.string().optional(),
    default: z.boolean(),
    default_for_categories: z.array(z.string()).optional(),
    cost: z.object({ input: z.number(), output: z.number(), cache_read_input_token_cost: z.number().optional() }).optional(),
    max_output_tokens: z.number().int().optional(),
    features: z.object({
      streaming: z.boolean(),
      tools: z.boolean(),
      temperature: z.boolean(),
      parallel_tool_calls: z.boolean(),
      system_prompt: z.boolean(),
      max_tokens: z.boolean(),
      top_p: z.boolean(),
    }),
    forbidden_for_web: z.boolean().optional(),
    api_version: z.string().optional(),
  })
  .meta({ id: 'LLMModel' });

const querySchema = z.object({ include_all: boolQuery(false) });

export function llmModule(infra: Infra): Module<null> {
  const { llm } = infra;
  return {
    name: 'llm',
    services: null,
    /**
     * When the default model is the embedded local one, its file is fetched now in the background
     * (llm/local-provider.ts). Never blocks start-up and never fails it: until the file is there,
     * calls on that model answer 503 saying what is happening and what to do.
     */
    started() {
      llm.prepare?.();
    },
    routes: [
      defineRoute({
        method: 'GET',
        path: '/llm_models',
        tags: ['llm'],
        summary: 'LLM models available on this platform (send base_name as llmModel)',
        query: querySchema,
        responses: { 200: z.array(llmModelSchema) },
        handler: ({ query }) =>
          llm
            .listModels()
            .filter((m) => m.enabled && (query.include_all || !m.forbidden_for_web))
            .map(toWire),
      }),
    ],
  };
}
