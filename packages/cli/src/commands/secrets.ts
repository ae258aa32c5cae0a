/**
 * `codemie secrets rotate`: re-encrypt stored credentials and signing keys under the current
 * CODEMIE_SECRET_KEY (old keys in CODEMIE_SECRET_KEY_PREVIOUS). Same settings as the server.
 * Exit codes: 0 ok, 1 some values are sealed by a key that was not given, 2 invalid configuration.
 */
import type { Command } from 'commander';
import { CliError } from '../errors.js';

export function register(program: Command): void {
  const secrets = program.command('secrets').description('Encryption of stored credentials (CODEMIE_SECRET_KEY)');
  secrets
    .command('rotate')
    .description('Re-encrypt everything sealed under CODEMIE_SECRET_KEY_PREVIOUS with CODEMIE_SECRET_KEY')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      const server = await import('@codemie-open/server');
      let config;
      try {
        config = server.loadConfig(process.env);
      } catch (err) {
        throw new CliError((err as Error).message, 2);
      }
      const r = await server.rotateSecretKey(config);
      process.stdout.write(
        opts.json ? `${JSON.stringify(r, null, 2)}\n` : `key ${r.keyId}: ${r.integrationsRotated} integration(s) re-encrypted in ${r.location}\n`,
      );
      if (r.integrationsUnreadable) {
        throw new CliError(
          `${r.integrationsUnreadable} integration(s) are sealed by a key that is neither CODEMIE_SECRET_KEY nor in CODEMIE_SECRET_KEY_PREVIOUS`,
          1,
        );
      }
    });
}
