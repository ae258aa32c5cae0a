/**
 * @codemie-open/local-llm: optional local GGUF inference for CodeMie Open.
 *
 *   const file = await resolveLocalModelFile(process.env.CODEMIE_LOCAL_MODEL, { dataDir });
 *   const model = createLocalModel({ modelPath: file, contextSize: 4096, threads: 0, maxQueue: 32 });
 *   await generateText({ model, prompt: 'Hi' }); // any AI SDK call: it is a LanguageModelV3
 *
 * See docs/local-model.md.
 */
export { createLocalModel, LOCAL_DEFAULTS, type LocalModelOptions, type LocalLanguageModel } from './model.js';
export { resolveLocalModelFile, localModelLocation, DEFAULT_LOCAL_MODEL, type ResolveOptions, type ModelLocation, type ModelSource } from './resolve.js';
export { WHEEL_SOURCES, DEFAULT_PACKAGE_INDEX, type WheelSource } from './pypi.js';
export { LocalModelUnavailableError, LocalModelContextLengthError, LocalModelBusyError, type LocalModelErrorCode } from './errors.js';
export { disposeAllEngines, defaultThreads } from './engine.js';
export { removeStaleDownloads } from './download.js';
export { localModelSettingsFromEnv, type LocalModelSettings } from './settings.js';
