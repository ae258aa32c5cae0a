/** Tables of the integrations and triggers domains (migration 0060_integrations). */
export interface IntegrationsTable {
  id: string;
  /** The owner (creator) of the integration: USER settings are visible to them only. */
  user_id: string;
  project_name: string;
  alias: string;
  credential_type: string;
  /** `user` or `project`. */
  setting_type: string;
  is_global: number;
  is_default: number;
  /** JSON {id, username, name}: shown as the reference's `created_by`. */
  created_by: string;
  /** JSON snapshot of the owner's identity at the last save (who a webhook or a schedule runs as). */
  owner: string;
  /** The credential values, `[{key, value}]` as JSON, sealed by the keyring (integrations/keyring.ts). */
  credentials: string;
  /** Webhook integrations: their id in `/v1/webhooks/{webhook_id}` (unique; not a secret). */
  webhook_id: string | null;
  date: string;
  update_date: string;
}

/** One call of `POST /v1/webhooks/{id}`, accepted or refused (analytics read it). */
export interface WebhookInvocationsTable {
  id: string;
  webhook_id: string;
  /** Null when the id is unknown. */
  integration_id: string | null;
  project_name: string | null;
  user_id: string | null;
  status_code: number;
  success: number;
  /** e.g. webhook_not_found, webhook_disabled, invalid_signature, rate_limited, target_not_found. */
  error_cause: string | null;
  verification_method: string | null;
  resource_type: string | null;
  resource_id: string | null;
  /** The workflow execution or assistant task started. */
  run_id: string | null;
  created_at: string;
}

/**
 * One fired tick of a schedule. The primary key (integration, tick time) makes each tick run once
 * even when several processes fire it (the claim is the insert).
 */
export interface ScheduleTicksTable {
  integration_id: string;
  /** The tick's scheduled time (ISO, UTC, whole minute). */
  tick_at: string;
  fired_at: string;
  /** Which process fired it (host:pid). */
  node: string;
  resource_type: string;
  resource_id: string;
  run_id: string | null;
  /** started | failed */
  outcome: string;
  error: string | null;
}

export interface IntegrationTables {
  integrations: IntegrationsTable;
  webhook_invocations: WebhookInvocationsTable;
  schedule_ticks: ScheduleTicksTable;
}

declare module '../store/schema.js' {
  interface Database extends IntegrationTables {}
}
