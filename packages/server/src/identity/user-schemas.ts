/** Wire schemas of "me" (/v1/user, /v1/user/data) and the user-admin API (/v1/admin/users...). */
import { z } from 'zod';
import { intQuery } from '../api/schemas.js';

const msg = (required: string, invalid: string) => ({ error: (i: { input: unknown }) => (i.input === undefined ? required : invalid) });

export const projectInfoSchema = z
  .object({ name: z.string(), display_name: z.string().nullable(), is_project_admin: z.boolean(), is_default: z.boolean() })
  .meta({ id: 'ProjectInfo' });

export const userResponseSchema = z
  .object({
    user_id: z.string(),
    name: z.string(),
    username: z.string(),
    email: z.string(),
    roles: z.array(z.string()),
    projects: z.array(projectInfoSchema),
    project_limit: z.number().int().nullable(),
    picture: z.string(),
    knowledge_bases: z.array(z.string()),
    user_type: z.string(),
    applications: z.array(z.string()),
    applications_admin: z.array(z.string()),
    is_admin: z.boolean(),
    is_maintainer: z.boolean(),
    is_auditor: z.boolean(),
  })
  .meta({ id: 'User' });

export const userDataSchema = z
  .object({
    id: z.string(),
    date: z.string(),
    update_date: z.string(),
    user_id: z.string(),
    sidebar_view: z.enum(['flat', 'folders']),
    stt_support: z.boolean(),
  })
  .meta({ id: 'UserData' });
export const userDataUpdateSchema = userDataSchema.omit({ stt_support: true }).meta({ id: 'UserDataUpdated' });
export const userDataBody = z.object({ sidebar_view: z.enum(['flat', 'folders'], { error: "Input should be 'flat' or 'folders'" }).default('flat') });

export const adminUserListItemSchema = z
  .object({
    id: z.string(),
    username: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    user_type: z.string(),
    is_active: z.boolean(),
    is_admin: z.boolean(),
    is_maintainer: z.boolean(),
    is_auditor: z.boolean(),
    auth_source: z.string(),
    last_login_at: z.string().nullable(),
    projects: z.array(projectInfoSchema),
    budget_assignments: z.array(z.unknown()),
    date: z.string().nullable(),
  })
  .meta({ id: 'AdminUserListItem' });

export const adminUserListSchema = z
  .object({
    data: z.array(adminUserListItemSchema),
    pagination: z.object({ total: z.number().int(), page: z.number().int(), per_page: z.number().int(), pages: z.number().int() }),
  })
  .meta({ id: 'AdminUserList' });

export const userDetailSchema = z
  .object({
    id: z.string(),
    username: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    picture: z.string().nullable(),
    user_type: z.string(),
    is_active: z.boolean(),
    is_admin: z.boolean(),
    is_maintainer: z.boolean(),
    is_auditor: z.boolean(),
    auth_source: z.string(),
    email_verified: z.boolean(),
    last_login_at: z.string().nullable(),
    projects: z.array(projectInfoSchema),
    project_limit: z.number().int().nullable(),
    knowledge_bases: z.array(z.string()),
    date: z.string().nullable(),
    update_date: z.string().nullable(),
    deleted_at: z.string().nullable(),
  })
  .meta({ id: 'CodeMieUserDetail' });

export const adminUsersQuery = z.object({
  page: intQuery({ min: 0 }).default(0),
  per_page: intQuery({ min: 1, max: 100 }).default(20),
  search: z.string().max(500).optional(),
  filters: z.string().max(10_000).optional(),
});

/** The JSON of `filters` (anything else → 400 "Invalid filters"). */
export const adminUsersFilters = z
  .object({
    projects: z.array(z.string()).optional(),
    budgets: z.array(z.string()).optional(),
    user_type: z.string().optional(),
    is_active: z.boolean().optional(),
    platform_role: z.enum(['user', 'platform_admin', 'admin']).optional(),
    is_auditor: z.boolean().optional(),
  })
  .strict();

export const userIdParams = z.object({ user_id: z.string().min(1).max(255) });
export const userProjectParams = z.object({ user_id: z.string().min(1).max(255), project_name: z.string().min(1).max(255) });

export const userCreateBody = z.object({
  email: z.email({ error: (i) => (i.input === undefined ? 'Field required' : 'value is not a valid email address') }).max(254),
  username: z
    .string(msg('Field required', 'Input should be a valid string'))
    .min(3, 'String should have at least 3 characters')
    .max(50, 'String should have at most 50 characters'),
  password: z.string(msg('Field required', 'Input should be a valid string')).min(12, 'String should have at least 12 characters').max(1024),
  name: z.string().max(255).nullish(),
  is_admin: z.boolean().default(false),
  is_maintainer: z.boolean().default(false),
  is_auditor: z.boolean().default(false),
});

export const userUpdateBody = z.object({
  name: z.string().max(255).nullish(),
  picture: z.string().max(2000).nullish(),
  email: z.email({ error: 'value is not a valid email address' }).max(254).nullish(),
  username: z.string().max(255).nullish(),
  user_type: z.string().max(40).nullish(),
  is_admin: z.boolean().nullish(),
  is_maintainer: z.boolean().nullish(),
  is_auditor: z.boolean().nullish(),
  is_active: z.boolean().nullish(),
  /** Presence matters: an explicit null asks for "unlimited". */
  project_limit: z.number().int('Input should be a valid integer').max(1_000_000, 'Input should be less than or equal to 1000000').nullish(),
});

export const passwordBody = z.object({ new_password: z.string(msg('Field required', 'Input should be a valid string')).max(1024) });

export const userProjectsSchema = z
  .object({ projects: z.array(z.object({ project_name: z.string(), is_project_admin: z.boolean(), is_default: z.boolean(), date: z.string().nullable() })) })
  .meta({ id: 'UserProjectsResponse' });

export const grantBody = z.object({
  project_name: z.string(msg('Field required', 'Input should be a valid string')).min(1).max(255),
  is_project_admin: z.boolean().default(false),
});
export const grantUpdateBody = z.object({ is_project_admin: z.boolean(msg('Field required', 'Input should be a valid boolean')) });

export type UserResponse = z.output<typeof userResponseSchema>;
export type UserDetail = z.output<typeof userDetailSchema>;
export type AdminUserListItem = z.output<typeof adminUserListItemSchema>;
export type ProjectInfo = z.output<typeof projectInfoSchema>;
