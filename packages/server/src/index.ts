export { loadConfig, ConfigError, type Config } from './config/config.js';
export { createPlatform, type Platform, type PlatformOptions } from './platform.js';
export { main } from './main.js';
export { ApiError } from './api/errors.js';
export { openIdentityAdmin, type IdentityAdminSession } from './identity/admin-session.js';
export type { UserRecord, ClientRecord } from './identity/repo.js';
export type { KeyInfo } from './identity/keys.js';
export { DEFAULT_LOCAL_MODEL_SPEC } from './llm/service.js';
export { rotateSecretKey, type RotationResult } from './integrations/rotate.js';
