/**
 * Process entry point: `node dist/main.js`. Loads configuration, starts the platform,
 * and shuts down gracefully on SIGTERM/SIGINT (in-flight requests finish first).
 */
import { ConfigError, loadConfig } from './config/config.js';
import { createPlatform } from './platform.js';

export async function main(overrides: Parameters<typeof loadConfig>[1] = {}): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, overrides);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let platform;
  try {
    platform = await createPlatform(config);
  } catch (err) {
    // e.g. an invalid LLM models file (LlmConfigError is a ConfigError)
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const { log } = platform.infra;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // Ctrl-C twice: the user wants out now. A repeated SIGTERM is not a request to hurry: a
      // process-group/control-group SIGTERM (systemd) often arrives twice, directly and through
      // `npm start`; the shutdown timeout bounds the wait anyway.
      if (signal === 'SIGTERM') {
        log.info('SIGTERM again: still waiting for in-flight requests');
        return;
      }
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down; waiting for in-flight requests');
    const timer = setTimeout(() => {
      log.error(`shutdown took longer than ${config.shutdownTimeoutMs} ms; exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    platform.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const address = await platform.listen();
  log.info({ address, database: platform.infra.store.location, version: platform.infra.version }, `CodeMie platform listening on ${address}`);
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  main().catch((err) => {
    process.stderr.write(`Failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
