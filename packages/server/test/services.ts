/**
 * The real services some suites need (PostgreSQL, Redis), as `npm test` provides them
 * (TEST_DATABASE_URL, TEST_REDIS_URL). Outside CI a missing one skips those suites with a loud
 * warning; under CI=true it fails the run: a green CI must mean the scale-out paths ran.
 */
const VARS = { postgres: 'TEST_DATABASE_URL', redis: 'TEST_REDIS_URL' } as const;

export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env.CI ?? '');
}

/** The service's URL, or undefined (outside CI only) when it is not there. */
export function testServiceUrl(kind: keyof typeof VARS, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = VARS[kind];
  const url = env[name];
  if (url) return url;
  const why = `${name} is not set: the ${kind} suites need ${kind === 'postgres' ? 'PostgreSQL' : 'Redis'} (npm test starts it; see scripts/services.sh)`;
  if (underCi(env)) throw new Error(`${why}. Under CI=true a missing service fails the run instead of skipping.`);
  process.stderr.write(`\n!!! SKIPPED: ${why}\n\n`);
  return undefined;
}
