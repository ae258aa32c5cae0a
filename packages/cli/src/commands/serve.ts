import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('serve')
    .description('start the platform (API, embedded identity provider, in-process workers)')
    .option('-p, --port <port>', 'HTTP port (PORT)')
    .option('--host <host>', 'interface to bind (HOST)')
    .option('--api-only', 'serve the API without run workers (CODEMIE_ROLE=api)')
    .action(async (opts: { port?: string; host?: string; apiOnly?: boolean }) => {
      if (opts.port) process.env.PORT = opts.port;
      if (opts.host) process.env.HOST = opts.host;
      if (opts.apiOnly) process.env.CODEMIE_ROLE = 'api';
      const { main } = await import('@codemie-open/server');
      await main();
    });

  program
    .command('worker')
    .description('start a run worker (needs DATABASE_URL and REDIS_URL)')
    .action(async () => {
      process.env.CODEMIE_ROLE = 'worker';
      const { main } = await import('@codemie-open/server');
      await main();
    });
}
