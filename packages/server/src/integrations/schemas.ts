/** Request and response schemas of the integrations API (the reference's models/settings.py). */
import { z } from 'zod';
import { pageQuery } from '../api/pagination.js';
import { pageSchema } from '../api/schemas.js';
import { CREDENTIAL_TYPES } from './kinds.js';

const credentialValue = z.object({ key: z.string().min(1).max(200), value: z.unknown() }).meta({ id: 'CredentialValues' });

export const credentialTypeSchema = z.enum(CREDENTIAL_TYPES).meta({ id: 'CredentialTypes' });

export const settingBody = z
  .object({
    project_name: z.string().max(255).nullish(),
    alias: z.string().max(255),
    credential_type: credentialTypeSchema,
    credential_values: z.array(credentialValue).max(200),
    is_global: z.boolean().nullish(),
    oauth_state: z.string().max(4000).nullish(),
    // Sent back by clients that post a whole listed setting (the SDK's Integration model); ignored.
    id: z.string().nullish(),
    date: z.string().nullish(),
    update_date: z.string().nullish(),
    user_id: z.string().nullish(),
    default: z.boolean().nullish(),
    setting_type: z.enum(['user', 'project']).nullish(),
  })
  .meta({ id: 'SettingRequest' });

const createdBy = z.object({ id: z.string(), username: z.string(), name: z.string() }).meta({ id: 'CreatedByUser' });

export const settingSchema = z
  .object({
    id: z.string(),
    date: z.string(),
    update_date: z.string(),
    user_id: z.string(),
    created_by: createdBy,
    project_name: z.string(),
    alias: z.string(),
    default: z.boolean(),
    credential_type: z.string(),
    credential_values: z.array(z.object({ key: z.string(), value: z.unknown() })),
    setting_hash: z.string().nullable(),
    setting_type: z.enum(['user', 'project']),
    is_global: z.boolean(),
  })
  .meta({ id: 'Settings', description: 'An integration; secret values read as "**********".' });

export const settingPageSchema = pageSchema(settingSchema);

export const settingListQuery = pageQuery(10, 100).extend({ filters: z.string().max(4000).optional() });

export const availableQuery = z.object({ scope: z.string().max(50).optional() });

export const settingIdParams = z.object({ setting_id: z.string().min(1).max(100) });

export const testBody = z
  .object({
    credential_type: credentialTypeSchema,
    credential_values: z.array(credentialValue).max(200).nullish(),
    setting_id: z.string().max(100).nullish(),
  })
  .meta({ id: 'TestSettingRequest' });

export const testResultSchema = z.object({ success: z.boolean(), message: z.string() }).meta({ id: 'TestSettingResponse' });

export const transferBody = z
  .object({
    source_project_name: z.string().min(1).max(255),
    target_project_name: z.string().min(1).max(255),
    mode: z.enum(['move', 'copy']),
    type_of_integration: z.object({ user_integrations: z.boolean().optional(), project_integrations: z.boolean().optional() }).nullish(),
    list: z.array(z.string().max(255)).max(1000).nullish(),
  })
  .meta({ id: 'TransferSettingsRequest' });

const transferItem = z.object({ id: z.string(), alias: z.string(), credential_type: z.string() });

export const transferSchema = z
  .object({
    message: z.string(),
    source_project_name: z.string(),
    target_project_name: z.string(),
    mode: z.enum(['move', 'copy']),
    transferred_count: z.number().int(),
    transferred: z.array(transferItem),
    skipped_count: z.number().int(),
    skipped: z.array(transferItem),
  })
  .meta({ id: 'TransferSettingsResponse' });

export const creatorsSchema = z.array(createdBy);
