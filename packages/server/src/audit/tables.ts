export interface AuditLogTable {
  id: string;
  date: string;
  /** e.g. login.succeeded, login.failed, client.created, client.secret_rotated, access.denied */
  event: string;
  outcome: string;
  user_id: string | null;
  username: string | null;
  client_id: string | null;
  ip: string | null;
  request_id: string | null;
  /** JSON object with event-specific, non-secret details. */
  details: string;
}

declare module '../store/schema.js' {
  interface Database {
    audit_log: AuditLogTable;
  }
}
