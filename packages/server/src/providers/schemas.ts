/** Wire schemas of the providers API (reference models/provider.py). */
import { z } from 'zod';

const PARAMETER_TYPES = ['Number', 'String', 'Boolean', 'Secret', 'URL', 'UUID', 'Text'] as const;
const ARG_TYPES = ['String', 'List', 'Number', 'Boolean', 'Integer', 'Text'] as const;
const RESULT_TYPES = ['Any', 'Integer', 'Float', 'String', 'Bytes', 'Bool', 'Json', 'Yaml', 'Text'] as const;
export const PURPOSES = ['life_cycle_management', 'data_retrieval', 'catalog'] as const;
export const ACTION_TYPES = ['create', 'modify', 'remove', 'read', 'data_retrieval'] as const;

const optText = z.string().max(10_000).nullish();

const configParameter = z
  .object({
    description: z.string().max(10_000).default(''),
    type: z.enum(PARAMETER_TYPES),
    required: z.boolean().default(false),
    enum: z.array(z.string().max(1000)).max(1000).nullish(),
    example: optText,
    title: optText,
    default_value: optText,
  })
  .transform((p) => ({ ...p, enum: p.enum ?? null, example: p.example ?? null, title: p.title ?? null, default_value: p.default_value ?? null }));

const toolArgument = z
  .object({
    type: z.enum(ARG_TYPES),
    required: z.boolean().default(true),
    description: z
      .string()
      .max(10_000)
      .nullish()
      .transform((v) => v ?? ''),
    enum: z.array(z.string().max(1000)).max(1000).nullish(),
    title: optText,
    example: optText,
    default_value: optText,
  })
  .transform((p) => ({ ...p, enum: p.enum ?? null, title: p.title ?? null, example: p.example ?? null, default_value: p.default_value ?? null }));

const toolMetadata = z
  .object({
    tool_type: z.string().max(500).nullish(),
    tool_purpose: z.enum(PURPOSES).nullish(),
    tool_action_type: z.enum(ACTION_TYPES).nullish(),
  })
  .passthrough()
  .transform((m) => ({ ...m, tool_type: m.tool_type ?? null, tool_purpose: m.tool_purpose ?? null, tool_action_type: m.tool_action_type ?? null }));

const providerTool = z.object({
  name: z.string().min(1).max(500),
  description: z
    .string()
    .max(20_000)
    .nullish()
    .transform((v) => v ?? ''),
  args_schema: z.record(z.string().max(500), toolArgument),
  tool_metadata: toolMetadata,
  tool_result_type: z.enum(RESULT_TYPES).default('String'),
  sync_invocation_supported: z.boolean().default(true),
  async_invocation_supported: z.boolean().default(false),
});

export const providerToolkitSchema = z.object({
  toolkit_id: z.string().min(1).max(100).optional(),
  name: z.string().min(1).max(500),
  description: z
    .string()
    .max(20_000)
    .nullish()
    .transform((v) => v ?? ''),
  toolkit_config: z.object({
    type: z
      .string()
      .max(500)
      .nullish()
      .transform((v) => v ?? null),
    description: z
      .string()
      .max(20_000)
      .nullish()
      .transform((v) => v ?? ''),
    parameters: z.record(z.string().max(500), configParameter).default({}),
  }),
  provided_tools: z.array(providerTool).max(500),
  toolkit_metadata: z
    .object({
      life_cycle_id: z
        .string()
        .max(500)
        .nullish()
        .transform((v) => v ?? ''),
      managed_fields: z
        .record(z.string(), z.string())
        .nullish()
        .transform((v) => v ?? null),
    })
    .nullish()
    .transform((v) => v ?? null),
});
export type ProviderToolkit = z.output<typeof providerToolkitSchema> & { toolkit_id: string };

const httpUrl = z
  .string()
  .max(2000)
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'http:' || u.protocol === 'https:') && !!u.hostname;
    } catch {
      return false;
    }
  }, 'Input should be a valid URL')
  .transform((v) => new URL(v).toString());

const configuration = z.object({ auth_type: z.enum(['Bearer']).default('Bearer') });

/** Create, with the reference's texts for the four required fields. */
export const createProviderBody = z
  .object({
    name: z.string({ error: 'Provider name is required and cannot be empty' }).min(1, 'Provider name is required and cannot be empty').max(500),
    service_location_url: z.string({ error: 'Service location URL is required' }).min(1, 'Service location URL is required').pipe(httpUrl),
    configuration: configuration
      .nullish()
      .refine((v) => !!v, 'Provider configuration is required')
      .transform((v) => v!),
    provided_toolkits: z
      .array(providerToolkitSchema, { error: 'At least one toolkit must be provided' })
      .min(1, 'At least one toolkit must be provided')
      .max(100),
  })
  .meta({ id: 'CreateProviderRequest' });

export const updateProviderBody = z
  .object({
    name: z.string().max(500).nullish(),
    service_location_url: httpUrl.nullish(),
    configuration: configuration.nullish(),
    provided_toolkits: z.array(providerToolkitSchema).max(100).nullish(),
  })
  .meta({ id: 'UpdateProviderRequest' });

export const providerSchema = z
  .object({
    id: z.string(),
    date: z.string(),
    update_date: z.string(),
    name: z.string(),
    service_location_url: z.string(),
    configuration: z.object({ auth_type: z.string() }),
    provided_toolkits: z.array(z.record(z.string(), z.unknown())),
  })
  .meta({ id: 'Provider' });

const schemaParameter = z.object({
  name: z.string(),
  description: z.string(),
  required: z.boolean(),
  parameter_type: z.string(),
  enum: z.array(z.string()).nullable(),
  multiselect_options: z.array(z.record(z.string(), z.unknown())).nullable(),
  title: z.string().nullable(),
  example: z.string().nullable(),
  default_value: z.string().nullable(),
});
const typeSchema = z.object({ description: z.string(), parameters: z.array(schemaParameter) });
export const datasourceSchemasSchema = z.object({
  id: z.string(),
  toolkit_id: z.string(),
  provider_name: z.string(),
  name: z.string(),
  base_schema: typeSchema,
  create_schema: typeSchema,
});
