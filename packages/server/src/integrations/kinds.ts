/**
 * The kinds of integrations (the reference's CredentialTypes) and what this server knows of their
 * values: which keys are secret (masked in every answer, as the reference's LIST_OF_SENSITIVE_FIELDS,
 * plus the webhook and MCP secrets), and which kinds hide every value.
 */
export const CREDENTIAL_TYPES = [
  'Jira',
  'Confluence',
  'Git',
  'Kubernetes',
  'AWS',
  'GCP',
  'Keycloak',
  'Azure',
  'Elastic',
  'OpenAPI',
  'Plugin',
  'FileSystem',
  'Scheduler',
  'Webhook',
  'Email',
  'AzureDevOps',
  'Sonar',
  'SQL',
  'Telegram',
  'ZephyrScale',
  'ZephyrSquad',
  'ServiceNow',
  'DIAL',
  'A2A',
  'MCP',
  'LiteLLM',
  'ReportPortal',
  'Xray',
  'SharePoint',
  'GoogleOAuth',
  'XWiki',
  'MSTeams',
  'MSExchange',
  'SVN',
  'EnvironmentVars',
] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

/** What a masked value reads as (the reference's MASKED_VALUE); sent back unchanged, it keeps the stored value. */
export const MASKED_VALUE = '**********';

/** Values kept as they are even under a secret key (placeholders of prebuilt integrations). */
const PASSTHROUGH = new Set(['!!!changeme!!!']);

export const SENSITIVE_KEYS = new Set([
  // the reference's list
  'token',
  'kubernetes_token',
  'aws_secret_access_key',
  'aws_access_key_id',
  'aws_session_token',
  'gcp_api_key',
  'client_secret',
  'azure_client_secret',
  'api_key_id',
  'api_key',
  'plugin_key',
  'smtp_password',
  'oauth_client_secret',
  'openapi_api_key',
  'password',
  'secure_header_value',
  'access_key',
  'secret_key',
  'env_vars',
  'auth_value',
  'private_key',
  'access_token',
  'refresh_token',
  'ssh_key',
  'ssh_passphrase',
  // webhook secrets (GitHub HMAC, GitLab token, this server's signed scheme)
  'github_webhook_secret',
  'gitlab_webhook_token',
  'webhook_secret',
  // MCP server credentials and provider keys under other names
  'headers',
  'bearer_token',
  'secret',
]);

/** Kinds whose every value is secret (the reference forces this for environment variables; MCP credentials are env vars and headers too). */
const ALL_SECRET = new Set<string>(['EnvironmentVars', 'MCP']);

export interface CredentialValue {
  key: string;
  value: unknown;
}

export function isSecretKey(type: string, key: string): boolean {
  return ALL_SECRET.has(type) || SENSITIVE_KEYS.has(key);
}

/** The values as an answer shows them: secrets masked (empty ones stay empty). */
export function maskValues(type: string, values: CredentialValue[]): CredentialValue[] {
  return values.map((v) => {
    if (!isSecretKey(type, v.key) || v.value === null || v.value === undefined || v.value === '') return v;
    if (typeof v.value === 'string' && PASSTHROUGH.has(v.value)) return v;
    return { key: v.key, value: MASKED_VALUE };
  });
}

export const valueOf = (values: CredentialValue[], key: string): unknown => values.find((v) => v.key === key)?.value;

export function stringValue(values: CredentialValue[], key: string): string | undefined {
  const v = valueOf(values, key);
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** Truthy as the reference reads `is_enabled` (a bool, or the strings UIs send). */
export function truthy(v: unknown): boolean {
  if (typeof v === 'string') return ['true', '1', 'yes', 'on'].includes(v.trim().toLowerCase());
  return v === true || v === 1;
}

/** Trigger kinds: copying one would duplicate its firing, so a copy-transfer skips them. */
export const TRIGGER_TYPES = new Set<string>(['Webhook', 'Scheduler']);
