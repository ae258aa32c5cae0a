/**
 * The LLM models file (CODEMIE_LLM_CONFIG, YAML) or inline JSON (CODEMIE_LLM_MODELS): which
 * models this platform offers and how to reach them. Validated once at start-up; every problem
 * names the model and the field. Provider keys stay in this module's objects and are never
 * part of what is listed, returned or logged.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { LlmModelInfo } from './types.js';
import { ConfigError } from '../config/config.js';
import type { LocalSettings } from './local-provider.js';

/** `local`: the embedded GGUF model (deployment_name = file path or hf:<user>/<repo>/<file>). */
export const PROVIDERS = ['openai', 'azure', 'anthropic', 'bedrock', 'openai-compatible', 'local'] as const;
export type ProviderKind = (typeof PROVIDERS)[number];

/** Accepted spellings (the reference's provider names) → our provider kind. */
const PROVIDER_ALIASES: Record<string, ProviderKind> = {
  azure_openai: 'azure',
  'azure-openai': 'azure',
  aws_bedrock: 'bedrock',
  'amazon-bedrock': 'bedrock',
  openai_compatible: 'openai-compatible',
};

/** How each provider kind is named on the wire (GET /v1/llm_models), as the reference names them. */
export const WIRE_PROVIDER: Record<ProviderKind, string> = {
  openai: 'openai',
  azure: 'azure_openai',
  anthropic: 'anthropic',
  bedrock: 'aws_bedrock',
  'openai-compatible': 'openai_compatible',
  local: 'local',
};

const featuresSchema = z
  .object({
    streaming: z.boolean().default(true),
    tools: z.boolean().default(true),
    temperature: z.boolean().default(true),
    parallel_tool_calls: z.boolean().default(true),
    system_prompt: z.boolean().default(true),
    max_tokens: z.boolean().default(true),
    top_p: z.boolean().default(true),
  })
  .strict();

const nonNegative = z.number().min(0);

/** USD per token, as the reference lists it (e.g. 0.0000025 = $2.50 per 1M tokens). */
const costSchema = z
  .object({ input: nonNegative, output: nonNegative, cache_read_input_token_cost: nonNegative.optional() })
  .strict();

/** Convenience: USD per 1M tokens; converted to per-token `cost`. */
const costPerMillionSchema = z
  .object({ input: nonNegative, output: nonNegative, cached_input: nonNegative.optional() })
  .strict();

export const modelEntrySchema = z
  .object({
    base_name: z.string().min(1).max(200),
    provider: z
      .string()
      .transform((p) => PROVIDER_ALIASES[p] ?? p)
      .pipe(z.enum(PROVIDERS, { error: `must be one of ${PROVIDERS.join(', ')}` })),
    /** The provider's model id or deployment name (defaults to base_name). */
    deployment_name: z.string().min(1).optional(),
    label: z.string().optional(),
    base_url: z.string().url().optional(),
    /** Name of the environment variable holding the key (preferred over api_key). */
    api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
    api_key: z.string().min(1).optional(),
    enabled: z.boolean().default(true),
    default: z.boolean().default(false),
    default_for_categories: z.array(z.string()).optional(),
    multimodal: z.boolean().optional(),
    react_agent: z.boolean().optional(),
    supports_image_generation: z.boolean().optional(),
    forbidden_for_web: z.boolean().optional(),
    features: featuresSchema.default(featuresSchema.parse({})),
    cost: costSchema.optional(),
    cost_per_million: costPerMillionSchema.optional(),
    max_output_tokens: z.number().int().positive().optional(),
    /** Embeddings models (`embeddings:` list): the vector size, when the provider lets you choose it. */
    dimensions: z.number().int().positive().max(16_384).optional(),
    /** openai / azure: `chat` (Chat Completions, default) or `responses` (Responses API). */
    api: z.enum(['chat', 'responses']).default('chat'),
    /** azure */
    resource_name: z.string().min(1).optional(),
    api_version: z.string().min(1).optional(),
    use_deployment_based_urls: z.boolean().optional(),
    /** bedrock (credentials from the standard AWS_* variables unless given by env names here) */
    region: z.string().min(1).optional(),
    access_key_id_env: z.string().optional(),
    secret_access_key_env: z.string().optional(),
    session_token_env: z.string().optional(),
    /** openai-compatible: the server honours `response_format: json_schema`. */
    supports_structured_outputs: z.boolean().optional(),
    /** Extra static headers sent to the provider (e.g. an API gateway's routing header). */
    headers: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.api_key && m.api_key_env) ctx.addIssue({ code: 'custom', path: ['api_key'], message: 'give either api_key or api_key_env, not both' });
    if (m.cost && m.cost_per_million) ctx.addIssue({ code: 'custom', path: ['cost_per_million'], message: 'give either cost or cost_per_million, not both' });
    if (m.provider === 'openai-compatible' && !m.base_url) ctx.addIssue({ code: 'custom', path: ['base_url'], message: 'is required for provider openai-compatible' });
    if (m.provider === 'azure' && !m.base_url && !m.resource_name) ctx.addIssue({ code: 'custom', path: ['resource_name'], message: 'azure needs resource_name or base_url' });
  });

export type ModelEntry = z.infer<typeof modelEntrySchema>;

/** A configured model, resolved: key looked up, cost per token. */
export interface ModelConfig extends Omit<ModelEntry, 'cost' | 'cost_per_million' | 'deployment_name'> {
  deployment_name: string;
  cost?: { input: number; output: number; cache_read_input_token_cost?: number };
  /** Resolved key (from api_key or the api_key_env variable); never listed or logged. */
  apiKey?: string;
  /** For provider `local`: where hf: models are downloaded (CODEMIE_DATA_DIR). */
  data_dir?: string;
  /** For provider `local`: the CODEMIE_LOCAL_MODEL_* settings. */
  local?: LocalSettings;
  /** Other names that select this model (resolveModel); never listed. */
  aliases?: string[];
}

const fileSchema = z.union([z.array(z.unknown()), z.object({ models: z.array(z.unknown()) }).passthrough()]);

/** A ConfigError, so entry points report it the same way (message, exit code 2). */
export class LlmConfigError extends ConfigError {
  constructor(problems: string[]) {
    super(problems);
    this.message = `Invalid LLM models configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`;
    this.name = 'LlmConfigError';
  }
}

export interface ModelsSource {
  /** Path of the YAML (or JSON) models file. */
  file?: string;
  /** Inline JSON: an array of models or {models: [...]}. */
  inline?: string;
}

function readSource(src: ModelsSource): { doc: unknown; where: string } | null {
  if (src.inline && src.inline.trim()) {
    try {
      return { doc: JSON.parse(src.inline), where: 'CODEMIE_LLM_MODELS' };
    } catch (err) {
      throw new LlmConfigError([`CODEMIE_LLM_MODELS is not valid JSON: ${(err as Error).message}`]);
    }
  }
  if (!src.file) return null;
  const where = `CODEMIE_LLM_CONFIG (${src.file})`;
  if (!existsSync(src.file)) throw new LlmConfigError([`${where}: file not found`]);
  try {
    return { doc: parseYaml(readFileSync(src.file, 'utf8')), where };
  } catch (err) {
    throw new LlmConfigError([`${where}: not valid YAML: ${(err as Error).message}`]);
  }
}

/** Loads and validates the models; [] when nothing is configured. Throws LlmConfigError listing every problem. */
export function loadModels(src: ModelsSource, env: NodeJS.ProcessEnv = process.env): ModelConfig[] {
  const read = readSource(src);
  if (!read || read.doc == null) return [];
  const { doc, where } = read;
  const top = fileSchema.safeParse(doc);
  if (!top.success) throw new LlmConfigError([`${where}: must be a list of models or a mapping with a "models" list`]);
  const entries = Array.isArray(top.data) ? top.data : top.data.models;
  return parseEntries(entries, where, env, 'model');
}

/** Providers that serve embeddings through the AI SDK (plus `local`, the embedded ONNX model). */
export const EMBEDDING_PROVIDERS: ReadonlySet<ProviderKind> = new Set(['openai', 'azure', 'bedrock', 'openai-compatible', 'local']);

/**
 * The `embeddings:` list of the models file (same fields as models; listed at
 * GET /v1/embeddings_models and used by knowledge bases). [] when absent.
 */
export function loadEmbeddingModels(src: ModelsSource, env: NodeJS.ProcessEnv = process.env): ModelConfig[] {
  const read = readSource(src);
  if (!read || read.doc == null || Array.isArray(read.doc) || typeof read.doc !== 'object') return [];
  const list = (read.doc as { embeddings?: unknown }).embeddings;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new LlmConfigError([`${read.where}: embeddings: must be a list of models`]);
  const models = parseEntries(list, read.where, env, 'embeddings model');
  const problems = models
    .filter((m) => !EMBEDDING_PROVIDERS.has(m.provider))
    .map((m) => `${read.where}: embeddings model "${m.base_name}": provider: ${m.provider} serves no embeddings (use ${[...EMBEDDING_PROVIDERS].join(', ')})`);
  if (problems.length) throw new LlmConfigError(problems);
  return models;
}

function parseEntries(entries: unknown[], where: string, env: NodeJS.ProcessEnv, kind: string): ModelConfig[] {
  const problems: string[] = [];
  const models: ModelConfig[] = [];
  entries.forEach((raw, i) => {
    const name =
      raw && typeof raw === 'object' && typeof (raw as { base_name?: unknown }).base_name === 'string'
        ? `${kind} "${(raw as { base_name: string }).base_name}"`
        : `${kind} #${i + 1}`;
    const parsed = modelEntrySchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = issue.path.join('.');
        if (issue.code === 'unrecognized_keys') problems.push(`${where}: ${name}: unknown field(s) ${issue.keys.map((k) => (field ? `${field}.${k}` : k)).join(', ')}`);
        else problems.push(`${where}: ${name}: ${field || 'entry'}: ${issue.message}`);
      }
      return;
    }
    const m = parsed.data;
    let apiKey = m.api_key;
    if (m.api_key_env) {
      apiKey = env[m.api_key_env];
      if (!apiKey) problems.push(`${where}: ${name}: api_key_env: environment variable ${m.api_key_env} is not set`);
    }
    const { cost, cost_per_million, api_key: _k, ...rest } = m;
    void _k;
    const perToken = cost_per_million
      ? {
          input: cost_per_million.input / 1e6,
          output: cost_per_million.output / 1e6,
          ...(cost_per_million.cached_input !== undefined ? { cache_read_input_token_cost: cost_per_million.cached_input / 1e6 } : {}),
        }
      : cost;
    models.push({ ...rest, deployment_name: m.deployment_name ?? m.base_name, ...(perToken ? { cost: perToken } : {}), ...(apiKey ? { apiKey } : {}) });
  });
  const seen = new Set<string>();
  for (const m of models) {
    if (seen.has(m.base_name)) problems.push(`${where}: ${kind} "${m.base_name}": base_name: duplicated`);
    seen.add(m.base_name);
  }
  const defaults = models.filter((m) => m.default);
  if (defaults.length > 1) problems.push(`${where}: default: only one ${kind} may be the default (got ${defaults.map((m) => m.base_name).join(', ')})`);
  if (problems.length) throw new LlmConfigError(problems);
  return models;
}

/** The public view of a model (reference LLMModel shape); holds no key, URL or credentials. */
export function toModelInfo(m: ModelConfig, isDefault: boolean): LlmModelInfo {
  const info: LlmModelInfo = {
    base_name: m.base_name,
    deployment_name: m.deployment_name,
    provider: WIRE_PROVIDER[m.provider],
    enabled: m.enabled,
    default: isDefault,
    supports_image_generation: m.supports_image_generation ?? false,
    default_for_categories: m.default_for_categories ?? [],
    features: { ...m.features },
  };
  if (m.label !== undefined) info.label = m.label;
  if (m.multimodal !== undefined) info.multimodal = m.multimodal;
  if (m.react_agent !== undefined) info.react_agent = m.react_agent;
  if (m.max_output_tokens !== undefined) info.max_output_tokens = m.max_output_tokens;
  if (m.cost) info.cost = { ...m.cost };
  if (m.forbidden_for_web !== undefined) info.forbidden_for_web = m.forbidden_for_web;
  if (m.provider === 'azure' && m.api_version) info.api_version = m.api_version;
  return info;
}
