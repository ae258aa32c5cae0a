/** Tables of the embedded identity provider (migration 0002_identity). */
export interface IdpUsersTable {
  id: string;
  realm: string;
  /** Lower-case, unique per realm. */
  username: string;
  email: string;
  name: string;
  /** scrypt hash (see passwords.ts); null for service-account users. */
  password_hash: string | null;
  /** JSON array of realm roles (for external users: the roles of their last token). */
  roles: string;
  /** Legacy JSON lists, no longer read: memberships live in `project_members` (migration 0010). */
  projects: string;
  admin_projects: string;
  user_type: string;
  enabled: number;
  /** Set on the service-account user of a confidential client. */
  service_account_client: string | null;
  /** Shared projects the user may create; null = the default (CODEMIE_USER_PROJECT_LIMIT), admins are unlimited. */
  project_limit: number | null;
  /** Avatar URL set through the user-admin API. */
  picture: string | null;
  last_login_at: string | null;
  /** Set when an admin deactivated the user (soft delete; `enabled` is 0 then). */
  deactivated_at: string | null;
  /** `local` (embedded IdP user) or `keycloak` (user of a trusted external issuer, recorded on first sight). */
  auth_source: string;
  created_at: string;
  updated_at: string;
}

export interface IdpClientsTable {
  id: string;
  realm: string;
  client_id: string;
  public_client: number;
  /** scrypt hash of the secret; null for public clients. */
  secret_hash: string | null;
  direct_access_grants: number;
  service_accounts: number;
  enabled: number;
  created_at: string;
  updated_at: string;
}

export interface IdpRefreshTokensTable {
  id: string;
  realm: string;
  session_id: string;
  /** sha256 (hex) of the opaque token; the token itself is never stored. */
  token_hash: string;
  user_id: string;
  client_id: string;
  scope: string;
  expires_at: string;
  revoked: number;
  created_at: string;
}

export interface IdpSigningKeysTable {
  kid: string;
  alg: string;
  /** JWK JSON. The private key is stored as is: protect the database like the key itself. */
  private_jwk: string;
  public_jwk: string;
  created_at: string;
  /** When it stopped signing; it stays in the JWKS until tokens it signed have expired. */
  retired_at: string | null;
}

/** UI preferences of a user (`/v1/user/data`). */
export interface UserDataTable {
  id: string;
  user_id: string;
  sidebar_view: string;
  created_at: string;
  updated_at: string;
}

export interface IdentityTables {
  idp_users: IdpUsersTable;
  user_data: UserDataTable;
  idp_clients: IdpClientsTable;
  idp_refresh_tokens: IdpRefreshTokensTable;
  idp_signing_keys: IdpSigningKeysTable;
}

declare module '../store/schema.js' {
  interface Database extends IdentityTables {}
}
