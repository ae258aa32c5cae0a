export { loadConfig, ConfigError, type Config } from './config/config.js';
export { createPlatform, type Platform, type PlatformOptions } from './platform.js';
export { main } from './main.js';
