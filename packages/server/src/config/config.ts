/**
 * Central, typed configuration. Values come from (lowest to highest precedence):
 * built-in defaults < optional YAML file (CODEMIE_CONFIG) < environment variables.
 * Everything is validated once at start-up; a bad value stops the process with a
 * message naming the variable, never a half-configured server.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_ALLOWED_COMMANDS } from '../mcp/allowed-commands.js';

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => (typeof v === 'boolean' ? v : ['true', '1', 'yes'].includes(v)));
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const csv = z.union([z.array(z.string()), z.string()]).transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

export const configSchema = z.object({
  port: int(0, 65535).default(8080),
  host: z.string().min(1).default('127.0.0.1'),
  dataDir: z.string().min(1).default('./data'),
  /** SQLite: checkpoint the WAL on a worker thread instead of in the commit that fills it (store/checkpointer.ts). */
  sqliteCheckpointThread: bool.default(true),
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  /** Prefix of every Redis key (run queue and event streams), so deployments can share one Redis. */
  redisPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, _ . : - only')
    .default('codemie'),
  /** Lease of a run on a worker: a dead worker's runs move to another worker after this long. */
  runLeaseMs: int(1000, 3_600_000).default(30_000),
  // ── fair use (see docs/deployment.md#fair-use-limits); 0 turns a limit off ──
  /** Workflow executions + assistant background tasks one user may have running (or queued) at once. */
  limitUserConcurrentRuns: int(0, 1_000_000).default(50),
  /** The same, for all users of one project together. */
  limitProjectConcurrentRuns: int(0, 1_000_000).default(200),
  /** Authenticated requests per minute per user. */
  limitUserRequestsPerMinute: int(0, 100_000_000).default(6000),
  /** Run-starting requests (workflow execution start/resume, assistant calls) per minute per project. */
  limitProjectRequestsPerMinute: int(0, 100_000_000).default(6000),
  /** Platform admins are neither limited nor counted. */
  limitExemptAdmins: bool.default(true),
  /** Load shedding (limits/shedding.ts): run-starting calls one process works on at once; beyond → 503 (0 = off). */
  maxInflightCalls: int(0, 1_000_000).default(1000),
  /** The same bound for one user's calls in one process. */
  maxInflightCallsPerUser: int(0, 1_000_000).default(0),
  /** Shed new calls while the event loop lags more than this (ms, p99 over the last half second; 0 = off). */
  maxEventLoopDelayMs: int(0, 60_000).default(250),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Maximum accepted request body, in bytes. */
  bodyLimit: int(1024, 1024 * 1024 * 1024).default(10 * 1024 * 1024),
  /** Time allowed for in-flight requests to finish after SIGTERM/SIGINT. */
  shutdownTimeoutMs: int(0, 600_000).default(10_000),
  /** Public base URL (used in OpenAPI servers and printed hints); derived from host/port when unset. */
  publicUrl: z.string().url().optional(),
  corsOrigins: csv.default([]),
  /** Web console (docs/console.md): the OIDC issuer it signs in with (default: the embedded IdP of this server). */
  consoleIssuer: z.string().url().optional(),
  /** The console's public OAuth client (authorization code + PKCE). */
  consoleClientId: z.string().min(1).max(200).default('codemie-console'),
  /** Extra redirect URIs the embedded IdP accepts for the console client (besides `<base>/`). */
  consoleRedirectUris: csv.default([]),
  /** Where the built console is (default: packages/web/dist of this checkout). */
  consoleDir: z.string().min(1).optional(),
  /** Runs (workflow executions, background tasks) executed at once by this process. */
  workerConcurrency: int(1, 1000).default(20),
  /**
   * A workflow execution's stream that saw no event for this long re-reads the execution: when it has
   * ended (its final event was lost, e.g. the worker died between its write and its publish), the API
   * sends the final chunk from the database record.
   */
  workflowStreamCheckMs: int(50, 600_000).default(3000),
  /**
   * Largest workflow document (yaml_config) accepted on save, in bytes. Reference configs are a
   * few KiB; 1 MiB leaves room for long prompts while bounding the parse (≈ 2-3 s of one core,
   * on the validation thread, not the event loop).
   */
  workflowMaxBytes: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  /** Most states (and assistants, tools, custom nodes, each) a workflow document may have on save. */
  workflowMaxStates: int(1, 100_000).default(500),
  /** Serve /metrics on this separate port instead of the API port. */
  metricsPort: int(0, 65535).optional(),
  langfusePublicKey: z.string().min(1).optional(),
  langfuseSecretKey: z.string().min(1).optional(),
  langfuseHost: z.string().url().default('https://cloud.langfuse.com'),
  langfuseEnvironment: z.string().min(1).optional(),
  /** Plain OTLP/HTTP trace export (e.g. http://collector:4318). */
  otlpEndpoint: z.string().url().optional(),
  /** Replace prompts/outputs with "[masked]" in exported traces. */
  traceMaskContent: bool.default(false),
  /** The embedded local model: a GGUF file path, an hf:<user>/<repo>/<file> URI, or `off`. */
  localModel: z.string().min(1).optional(),
  /** Embedded local embeddings model: an ONNX file path, `pypi:<name>==<version>`, or `off` (see docs/knowledge.md). */
  localEmbeddingModel: z.string().min(1).optional(),
  /** CPU threads of the local embeddings model (default: all cores). */
  localEmbeddingThreads: int(1, 256).optional(),
  // ── knowledge bases (see docs/knowledge.md) ──
  /** Characters per chunk of an indexed document. */
  kbChunkChars: int(200, 20_000).default(1000),
  /** Characters shared by consecutive chunks. */
  kbChunkOverlap: int(0, 5000).default(100),
  /** Chunks a knowledge-base search returns (to the model and to POST /v1/index/{id}/search). */
  kbSearchTopK: int(1, 100).default(10),
  /** Chunks embedded per call to the embeddings model while indexing (also the unit of progress: files are stored in groups of about this many chunks). */
  kbEmbedBatch: int(1, 2048).default(256),
  // ── the local model (docs/local-model.md); defaults as @codemie-open/local-llm's LOCAL_DEFAULTS ──
  /** Tokens per request, prompt + answer. */
  localModelContextSize: int(256, 1_048_576).default(4096),
  /** CPU threads (0 = half the cores, 1 to 4). */
  localModelThreads: int(0, 1024).default(0),
  /** Requests generated at the same time. */
  localModelParallel: int(1, 64).default(1),
  /** Requests allowed to wait for the model; more → 503 at once. */
  localModelMaxQueue: int(0, 100_000).default(32),
  /** Answer cap (tokens) when a call sets none: small models otherwise ramble until the context is full. */
  localModelMaxTokens: int(1, 1_048_576).default(512),
  /** Repeat penalty over the last 256 tokens (1 = off). */
  localModelRepeatPenalty: z.coerce.number().min(1).max(2).default(1.3),
  /** Frequency and presence penalties over the last 256 tokens, 0 to 1 (a call's own values win). */
  localModelFrequencyPenalty: z.coerce.number().min(0).max(1).default(0.3),
  localModelPresencePenalty: z.coerce.number().min(0).max(1).default(0.1),
  /** Load the default local model into memory in the background at start, so the first call does not wait for it. */
  localModelPreload: bool.default(true),
  /** Seed the demo assistant (and workflow) on first start and print ready-to-paste curls. */
  seedDemo: bool.default(true),
  /** `all` runs API and run workers in one process; `api` runs no workers; `worker` executes runs (its HTTP port serves health checks and metrics; keep it out of the load balancer). */
  role: z.enum(['all', 'api', 'worker']).default('all'),
  /** LLM models file (YAML); see docs/llm.md. No file and no inline models: no hosted models. */
  llmConfig: z.string().min(1).optional(),
  /** Inline JSON list of models (same fields as the file); takes precedence over llmConfig. */
  llmModels: z.string().optional(),
  /** Upstream LLM inactivity timeout: no response/chunk for this long fails the call (504). */
  llmTimeoutMs: int(0, 3_600_000).default(120_000),
  /** Provider retries on 429/5xx/network errors before the first token. */
  llmMaxRetries: int(0, 10).default(2),
  /** Plain answers from openai-compatible models go through the platform's direct HTTP client (false: always the AI SDK adapter). */
  llmDirectClient: bool.default(true),
  /** Default bound of model↔tool round trips per agent call. */
  llmMaxSteps: int(1, 1000).default(10),

  // ── identity (see docs/identity.md) ──
  /** `embedded`: this server is also a Keycloak-compatible IdP; `external`: only trusted issuers. */
  idp: z.enum(['embedded', 'external']).default('embedded'),
  /** Realm served by the embedded IdP (`/auth/realms/<realm>/...`). */
  idpRealm: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
    .default('codemie'),
  /** External OIDC issuers whose tokens are accepted (JWKS found by discovery). */
  trustedIssuers: csv.default([]),
  /** When set, a token's `aud` or `azp` must be one of these. */
  jwtAudience: csv.default([]),
  /** Password of the bootstrap `admin` user; generated and printed once when unset. */
  adminPassword: z.string().min(8, 'at least 8 characters').optional(),
  /** Realm role that makes a user a platform admin. */
  adminRole: z.string().min(1).default('admin'),
  /** Realm role of read-only auditors: analytics and audit data across projects, no writes. */
  auditorRole: z.string().min(1).default('auditor'),
  claimUsername: z.string().min(1).default('preferred_username'),
  claimEmail: z.string().min(1).default('email'),
  claimName: z.string().min(1).default('name'),
  /** Dotted path to the roles array. */
  claimRoles: z.string().min(1).default('realm_access.roles'),
  claimProjects: z.string().min(1).default('applications'),
  claimAdminProjects: z.string().min(1).default('applications_admin'),
  claimUserType: z.string().min(1).default('user_type'),
  /** Lifetimes of embedded-IdP tokens, in seconds (Keycloak's defaults). */
  accessTokenTtl: int(30, 86_400).default(300),
  refreshTokenTtl: int(60, 30 * 86_400).default(1800),
  /** scrypt cost (N, a power of two) for new password and client-secret hashes. */
  scryptN: int(2, 1 << 20)
    .refine((n) => (n & (n - 1)) === 0, 'must be a power of two')
    .default(16384),
  // ── projects, users, runtime configuration (see docs/identity.md) ──
  /** Shared projects a non-admin user may create unless an admin set another limit. */
  userProjectLimit: int(0, 1_000_000).default(3),
  /** How long a process keeps a user's memberships and flags without a write (ms; 0: read them on every request). */
  membershipCacheMs: int(0, 600_000).default(10_000),
  /**
   * External mode: Keycloak admin REST API for user creation and password changes through
   * /v1/admin/users. Base URL of Keycloak (e.g. https://kc.example.com or .../auth), the users'
   * realm, and a confidential client of that realm whose service account has realm-management's
   * manage-users (and view-realm, for role grants) roles.
   */
  keycloakAdminUrl: z.string().url().optional(),
  keycloakAdminRealm: z.string().min(1).optional(),
  keycloakAdminClientId: z.string().min(1).optional(),
  keycloakAdminClientSecret: z.string().min(1).optional(),
  /** YAML of the components served by GET /v1/config (the reference's customer-config.yaml); default: the built-in one. */
  customerConfig: z.string().min(1).optional(),
  /** Failed logins allowed per user or client before a lock-out, and the lock-out length. */
  loginMaxFailures: int(1, 1000).default(5),
  loginLockoutSeconds: int(1, 86_400).default(60),
  /** Commands an MCP server config may run over stdio (bare names, or exact absolute paths); see docs/mcp.md. */
  mcpAllowedCommands: csv.default([...DEFAULT_ALLOWED_COMMANDS]),
  /** One MCP tool call may take this long before it fails (as a tool error result). */
  mcpToolTimeoutMs: int(100, 3_600_000).default(60_000),
  /** Connecting to an MCP server and listing its tools may take this long before the server is skipped with a warning. */
  mcpConnectTimeoutMs: int(100, 600_000).default(20_000),
  /** A pooled MCP connection (and its stdio process) unused for this long is closed. */
  mcpIdleTimeoutMs: int(1_000, 86_400_000).default(300_000),
  /** MCP tool output longer than this (characters) is truncated with a note before it reaches the model. */
  mcpMaxOutputChars: int(100, 10_000_000).default(100_000),
  /** Request headers never propagated to MCP servers (names; a trailing * matches a prefix). */
  forwardedHeadersBlocklist: csv.default([
    'authorization',
    'cookie',
    'set-cookie',
    'x-api-key',
    'x-auth-token',
    'x-auth-request-access-token',
    'x-internal-*',
    'x-forwarded-*',
    'x-real-ip',
  ]),
  // ── built-in toolkits (see docs/toolkits.md) ──
  /** One built-in tool call may take this long before it fails (as a tool error result). */
  toolTimeoutMs: int(100, 3_600_000).default(60_000),
  /** Built-in tool output longer than this (characters) is truncated with a note before it reaches the model. */
  toolMaxOutputChars: int(100, 10_000_000).default(100_000),
  /** Tools that POST /v1/tools/{name}/invoke refuses (403). */
  httpBlockedTools: csv.default(['code_executor']),
  /** Hosts the OpenAPI toolkit may call (`host`, `host:port`, `*.domain`); empty: none. */
  openapiAllowedHosts: csv.default([]),
  /** Largest OpenAPI response body read, bytes (larger: cut, with a note). */
  openapiMaxResponseBytes: int(1024, 100 * 1024 * 1024).default(1024 * 1024),
  /** Largest OpenAPI spec accepted, bytes. */
  openapiMaxSpecBytes: int(1024, 50 * 1024 * 1024).default(2 * 1024 * 1024),
  /** Rows the SQL toolkit returns at most per query. */
  sqlMaxRows: int(1, 100_000).default(1000),
  /** How long one SQL toolkit query may run. */
  sqlTimeoutMs: int(100, 600_000).default(30_000),
  /** Directories whose SQLite files the SQL toolkit may open (read-only); empty: SQLite is refused. */
  sqlSqliteDirs: csv.default([]),
  /** The code executor: the Python interpreter, wall-clock limit, memory (MiB) and output limit. */
  codeExecPython: z.string().min(1).default('python3'),
  codeExecTimeoutMs: int(100, 600_000).default(30_000),
  codeExecMemoryMb: int(16, 65_536).default(512),
  // ── files (see docs/workflows.md#files) ──
  /** Largest accepted upload (POST /v1/files/), bytes; larger → 413. */
  filesMaxBytes: int(1, 10 * 1024 * 1024 * 1024).default(100 * 1024 * 1024),
  /** Accepted uploads: MIME types (`text/*` matches a family) or extensions (`.md`); others → 415. */
  filesAllowedTypes: csv.default([
    'text/*',
    'application/json',
    'application/xml',
    'application/yaml',
    'application/x-yaml',
    'application/pdf',
    'application/msword',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'application/vnd.ms-excel',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    'image/png',
    'image/jpeg',
    'image/gif',
    'image/webp',
    '.txt',
    '.md',
    '.csv',
    '.json',
    '.yaml',
    '.yml',
    '.xml',
    '.log',
    '.pdf',
    '.docx',
    '.xlsx',
    '.pptx',
    '.png',
    '.jpg',
    '.jpeg',
    '.gif',
    '.webp',
  ]),
  /** Text content of an attached file given to a model is cut at this many characters. */
  filesMaxTextChars: int(0, 10_000_000).default(100_000),
  // ── assistants (see docs/assistants.md) ──
  /** How deep assistant delegations nest (1: an orchestrator's sub-assistants do not delegate further). */
  assistantMaxDelegationDepth: int(1, 5).default(2),
  /** Encryption key of sensitive prompt-variable values (any string); unset: a key kept in the database. */
  secretKey: z.string().min(16, 'at least 16 characters').optional(),
  // ── integrations, webhooks, schedules (see docs/triggers.md) ──
  /** Earlier values of CODEMIE_SECRET_KEY (comma-separated): still decrypt, re-encrypted at start-up. */
  secretKeyPrevious: z.string().optional(),
  /** Webhook invocations allowed per webhook id and window (429 + Retry-After beyond). */
  webhookRateLimitEnabled: bool.default(true),
  webhookRateLimitMaxRequests: int(1, 1_000_000).default(10),
  webhookRateLimitWindowSeconds: int(1, 86_400).default(60),
  /** Signed webhook deliveries (X-Codemie-Timestamp) older or newer than this are refused (replay protection). */
  webhookSignatureToleranceSeconds: int(1, 86_400).default(300),
  /** Whether this process fires schedules (off: it serves the API only). */
  schedulerEnabled: bool.default(true),
  /** Shortest interval between two ticks of a schedule (the reference: an hour). Below 60, six-field (seconds) expressions are allowed. */
  scheduleMinIntervalSeconds: int(1, 86_400).default(3600),
  /** A tick fired more than this late (every process was down) is recorded as missed and not run. */
  scheduleMissedGraceSeconds: int(1, 86_400).default(60),
  /** Teams bot project feature mappings (`/v1/assistants/projects/mapping`); off: 403 "Feature not available". */
  featureTeamsBot: bool.default(false),
  /** Provider organization and URL in assistants' A2A agent cards. */
  a2aProviderOrganization: z.string().default(''),
  a2aProviderUrl: z.string().default(''),
  /** More propagated X-* headers than this → 400. */
  forwardedHeadersMaxCount: int(1, 1000).default(32),
  /** Propagated X-* headers larger than this in total (names + values, bytes) → 400. */
  forwardedHeadersMaxBytes: int(64, 1024 * 1024).default(8192),
});

export type Config = z.infer<typeof configSchema>;

/** Environment variable → config key. One table, so docs and code agree. */
export const ENV_KEYS: Record<string, keyof Config> = {
  PORT: 'port',
  HOST: 'host',
  CODEMIE_DATA_DIR: 'dataDir',
  DATABASE_URL: 'databaseUrl',
  REDIS_URL: 'redisUrl',
  CODEMIE_REDIS_PREFIX: 'redisPrefix',
  CODEMIE_RUN_LEASE_MS: 'runLeaseMs',
  CODEMIE_LIMIT_USER_CONCURRENT_RUNS: 'limitUserConcurrentRuns',
  CODEMIE_LIMIT_PROJECT_CONCURRENT_RUNS: 'limitProjectConcurrentRuns',
  CODEMIE_LIMIT_USER_REQUESTS_PER_MINUTE: 'limitUserRequestsPerMinute',
  CODEMIE_LIMIT_PROJECT_REQUESTS_PER_MINUTE: 'limitProjectRequestsPerMinute',
  CODEMIE_LIMIT_EXEMPT_ADMINS: 'limitExemptAdmins',
  CODEMIE_MAX_INFLIGHT_CALLS: 'maxInflightCalls',
  CODEMIE_MAX_INFLIGHT_CALLS_PER_USER: 'maxInflightCallsPerUser',
  CODEMIE_MAX_EVENT_LOOP_DELAY_MS: 'maxEventLoopDelayMs',
  LOG_LEVEL: 'logLevel',
  CODEMIE_BODY_LIMIT: 'bodyLimit',
  CODEMIE_SHUTDOWN_TIMEOUT_MS: 'shutdownTimeoutMs',
  CODEMIE_PUBLIC_URL: 'publicUrl',
  CODEMIE_CORS_ORIGINS: 'corsOrigins',
  CODEMIE_CONSOLE_ISSUER: 'consoleIssuer',
  CODEMIE_CONSOLE_CLIENT_ID: 'consoleClientId',
  CODEMIE_CONSOLE_REDIRECT_URIS: 'consoleRedirectUris',
  CODEMIE_CONSOLE_DIR: 'consoleDir',
  CODEMIE_ROLE: 'role',
  CODEMIE_SEED_DEMO: 'seedDemo',
  CODEMIE_LOCAL_MODEL: 'localModel',
  CODEMIE_LOCAL_EMBEDDING_MODEL: 'localEmbeddingModel',
  CODEMIE_LOCAL_EMBEDDING_THREADS: 'localEmbeddingThreads',
  CODEMIE_KB_CHUNK_CHARS: 'kbChunkChars',
  CODEMIE_KB_CHUNK_OVERLAP: 'kbChunkOverlap',
  CODEMIE_KB_SEARCH_TOP_K: 'kbSearchTopK',
  CODEMIE_KB_EMBED_BATCH: 'kbEmbedBatch',
  CODEMIE_LOCAL_MODEL_CONTEXT_SIZE: 'localModelContextSize',
  CODEMIE_LOCAL_MODEL_THREADS: 'localModelThreads',
  CODEMIE_LOCAL_MODEL_PARALLEL: 'localModelParallel',
  CODEMIE_LOCAL_MODEL_MAX_QUEUE: 'localModelMaxQueue',
  CODEMIE_LOCAL_MODEL_MAX_TOKENS: 'localModelMaxTokens',
  CODEMIE_LOCAL_MODEL_REPEAT_PENALTY: 'localModelRepeatPenalty',
  CODEMIE_LOCAL_MODEL_FREQUENCY_PENALTY: 'localModelFrequencyPenalty',
  CODEMIE_LOCAL_MODEL_PRESENCE_PENALTY: 'localModelPresencePenalty',
  CODEMIE_LOCAL_MODEL_PRELOAD: 'localModelPreload',
  LANGFUSE_PUBLIC_KEY: 'langfusePublicKey',
  LANGFUSE_SECRET_KEY: 'langfuseSecretKey',
  LANGFUSE_HOST: 'langfuseHost',
  LANGFUSE_BASE_URL: 'langfuseHost',
  LANGFUSE_TRACING_ENVIRONMENT: 'langfuseEnvironment',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'otlpEndpoint',
  CODEMIE_TRACE_MASK_CONTENT: 'traceMaskContent',
  CODEMIE_METRICS_PORT: 'metricsPort',
  CODEMIE_WORKER_CONCURRENCY: 'workerConcurrency',
  CODEMIE_WORKFLOW_STREAM_CHECK_MS: 'workflowStreamCheckMs',
  CODEMIE_WORKFLOW_MAX_BYTES: 'workflowMaxBytes',
  CODEMIE_WORKFLOW_MAX_STATES: 'workflowMaxStates',
  CODEMIE_LLM_CONFIG: 'llmConfig',
  CODEMIE_LLM_MODELS: 'llmModels',
  CODEMIE_LLM_TIMEOUT_MS: 'llmTimeoutMs',
  CODEMIE_LLM_MAX_RETRIES: 'llmMaxRetries',
  CODEMIE_LLM_MAX_STEPS: 'llmMaxSteps',
  CODEMIE_LLM_DIRECT_CLIENT: 'llmDirectClient',
  CODEMIE_SQLITE_CHECKPOINT_THREAD: 'sqliteCheckpointThread',
  CODEMIE_IDP: 'idp',
  CODEMIE_IDP_REALM: 'idpRealm',
  CODEMIE_TRUSTED_ISSUERS: 'trustedIssuers',
  CODEMIE_JWT_AUDIENCE: 'jwtAudience',
  CODEMIE_ADMIN_PASSWORD: 'adminPassword',
  CODEMIE_ADMIN_ROLE: 'adminRole',
  CODEMIE_AUDITOR_ROLE: 'auditorRole',
  CODEMIE_CLAIM_USERNAME: 'claimUsername',
  CODEMIE_CLAIM_EMAIL: 'claimEmail',
  CODEMIE_CLAIM_NAME: 'claimName',
  CODEMIE_CLAIM_ROLES: 'claimRoles',
  CODEMIE_CLAIM_PROJECTS: 'claimProjects',
  CODEMIE_CLAIM_ADMIN_PROJECTS: 'claimAdminProjects',
  CODEMIE_CLAIM_USER_TYPE: 'claimUserType',
  CODEMIE_ACCESS_TOKEN_TTL: 'accessTokenTtl',
  CODEMIE_REFRESH_TOKEN_TTL: 'refreshTokenTtl',
  CODEMIE_SCRYPT_N: 'scryptN',
  CODEMIE_LOGIN_MAX_FAILURES: 'loginMaxFailures',
  CODEMIE_USER_PROJECT_LIMIT: 'userProjectLimit',
  CODEMIE_MEMBERSHIP_CACHE_MS: 'membershipCacheMs',
  CODEMIE_KEYCLOAK_ADMIN_URL: 'keycloakAdminUrl',
  CODEMIE_KEYCLOAK_ADMIN_REALM: 'keycloakAdminRealm',
  CODEMIE_KEYCLOAK_ADMIN_CLIENT_ID: 'keycloakAdminClientId',
  CODEMIE_KEYCLOAK_ADMIN_CLIENT_SECRET: 'keycloakAdminClientSecret',
  CODEMIE_CUSTOMER_CONFIG: 'customerConfig',
  CODEMIE_LOGIN_LOCKOUT_SECONDS: 'loginLockoutSeconds',
  CODEMIE_MCP_ALLOWED_COMMANDS: 'mcpAllowedCommands',
  CODEMIE_ASSISTANT_MAX_DELEGATION_DEPTH: 'assistantMaxDelegationDepth',
  CODEMIE_SECRET_KEY: 'secretKey',
  CODEMIE_SECRET_KEY_PREVIOUS: 'secretKeyPrevious',
  WEBHOOK_RATE_LIMIT_ENABLED: 'webhookRateLimitEnabled',
  WEBHOOK_RATE_LIMIT_MAX_REQUESTS: 'webhookRateLimitMaxRequests',
  WEBHOOK_RATE_LIMIT_WINDOW_SECONDS: 'webhookRateLimitWindowSeconds',
  CODEMIE_WEBHOOK_SIGNATURE_TOLERANCE_SECONDS: 'webhookSignatureToleranceSeconds',
  CODEMIE_SCHEDULER_ENABLED: 'schedulerEnabled',
  CODEMIE_SCHEDULE_MIN_INTERVAL_SECONDS: 'scheduleMinIntervalSeconds',
  CODEMIE_SCHEDULE_MISSED_GRACE_SECONDS: 'scheduleMissedGraceSeconds',
  CODEMIE_FEATURE_TEAMS_BOT: 'featureTeamsBot',
  A2A_PROVIDER_ORGANIZATION: 'a2aProviderOrganization',
  A2A_PROVIDER_URL: 'a2aProviderUrl',
  CODEMIE_MCP_TOOL_TIMEOUT_MS: 'mcpToolTimeoutMs',
  CODEMIE_MCP_CONNECT_TIMEOUT_MS: 'mcpConnectTimeoutMs',
  CODEMIE_MCP_IDLE_TIMEOUT_MS: 'mcpIdleTimeoutMs',
  CODEMIE_MCP_MAX_OUTPUT_CHARS: 'mcpMaxOutputChars',
  CODEMIE_FILES_MAX_BYTES: 'filesMaxBytes',
  CODEMIE_FILES_ALLOWED_TYPES: 'filesAllowedTypes',
  CODEMIE_FILES_MAX_TEXT_CHARS: 'filesMaxTextChars',
  FORWARDED_HEADERS_BLOCKLIST: 'forwardedHeadersBlocklist',
  CODEMIE_FORWARDED_HEADERS_BLOCKLIST: 'forwardedHeadersBlocklist',
  CODEMIE_FORWARDED_HEADERS_MAX_COUNT: 'forwardedHeadersMaxCount',
  CODEMIE_FORWARDED_HEADERS_MAX_BYTES: 'forwardedHeadersMaxBytes',
  CODEMIE_TOOL_TIMEOUT_MS: 'toolTimeoutMs',
  CODEMIE_TOOL_MAX_OUTPUT_CHARS: 'toolMaxOutputChars',
  CODEMIE_HTTP_BLOCKED_TOOLS: 'httpBlockedTools',
  CODEMIE_OPENAPI_ALLOWED_HOSTS: 'openapiAllowedHosts',
  CODEMIE_OPENAPI_MAX_RESPONSE_BYTES: 'openapiMaxResponseBytes',
  CODEMIE_OPENAPI_MAX_SPEC_BYTES: 'openapiMaxSpecBytes',
  CODEMIE_SQL_MAX_ROWS: 'sqlMaxRows',
  CODEMIE_SQL_TIMEOUT_MS: 'sqlTimeoutMs',
  CODEMIE_SQL_SQLITE_DIRS: 'sqlSqliteDirs',
  CODEMIE_CODE_EXEC_PYTHON: 'codeExecPython',
  CODEMIE_CODE_EXEC_TIMEOUT_MS: 'codeExecTimeoutMs',
  CODEMIE_CODE_EXEC_MEMORY_MB: 'codeExecMemoryMb',
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Settings whose values never appear in error messages. */
const SECRET_KEYS = new Set<string>(['adminPassword', 'keycloakAdminClientSecret', 'secretKey', 'secretKeyPrevious']);

const keyToEnv = Object.fromEntries(Object.entries(ENV_KEYS).map(([env, key]) => [key, env]));

/** Reads the YAML file named by CODEMIE_CONFIG; keys may be camelCase or the env names. */
function readConfigFile(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new ConfigError([`CODEMIE_CONFIG: file not found: ${file}`]);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`CODEMIE_CONFIG: ${file} is not valid YAML: ${(err as Error).message}`]);
  }
  if (doc == null) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError([`CODEMIE_CONFIG: ${file} must contain a mapping of settings`]);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) out[ENV_KEYS[k] ?? k] = v;
  return out;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const raw: Record<string, unknown> = env.CODEMIE_CONFIG ? readConfigFile(env.CODEMIE_CONFIG) : {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  Object.assign(raw, overrides);
  const parsed = configSchema.strict().safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const key = String(i.path[0] ?? '');
        const label = keyToEnv[key] ? `${keyToEnv[key]} (${key})` : key || 'config';
        const got = key in raw && !SECRET_KEYS.has(key) ? ` (got ${JSON.stringify(raw[key])})` : '';
        return i.code === 'unrecognized_keys' ? `unknown setting(s) in config file: ${i.keys.join(', ')}` : `${label}: ${i.message}${got}`;
      }),
    );
  }
  const cfg = parsed.data;
  cfg.dataDir = path.resolve(cfg.dataDir);
  return cfg;
}

export function publicBaseUrl(cfg: Config): string {
  if (cfg.publicUrl) return cfg.publicUrl.replace(/\/$/, '');
  const host = cfg.host === '0.0.0.0' || cfg.host === '::' ? 'localhost' : cfg.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${cfg.port}`;
}
