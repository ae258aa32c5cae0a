/** The LLM layer's public surface for other domains. */
export * from './types.js';
export type { AgentTool, ToolResult, ToolCallContext, Toolset } from './tool.js';
export { createLlmService, NO_MODELS_HELP } from './service.js';
export { validateJsonSchema, validateAgainstSchema } from './json-schema.js';
export { LlmConfigError } from './models-config.js';
export { runToEnd, type AgentEnd } from './collect.js';
