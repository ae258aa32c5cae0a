import { defineConfig } from 'vitest/config';

const ALL = ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'tests/**/*.test.ts'];

/**
 * The fast loop (`npx vitest run --project unit`, seconds): pure tests that start no platform, server
 * process, database, Redis or model (in-process fakes such as the SDK's fake server are fine). A test
 * file not listed here is an integration test: list a new one here only if it is pure, which
 * tests/meta/projects.test.ts checks.
 */
export const UNIT = [
  'packages/local-llm/src/schema.test.ts',
  'packages/local-llm/src/settings.test.ts',
  'packages/sdk/src/auth.test.ts',
  'packages/sdk/src/errors.test.ts',
  'packages/sdk/src/services.test.ts',
  'packages/sdk/src/stream.test.ts',
  'packages/sdk/src/workflows.test.ts',
  'packages/server/src/assistants/background-give-up.test.ts',
  'packages/server/src/assistants/normalize-chat-keys.test.ts',
  'packages/server/src/auth/access.test.ts',
  'packages/server/src/auth/authenticator.test.ts',
  'packages/server/src/config/config.test.ts',
  'packages/server/src/conversations/messages.test.ts',
  'packages/server/src/events/bus.test.ts',
  'packages/server/src/limits/fair-use.test.ts',
  'packages/server/src/llm/json-schema.test.ts',
  'packages/server/src/llm/openai-compatible-model.test.ts',
  'packages/server/src/mcp/headers.test.ts',
  'packages/server/src/node-flags.test.ts',
  'packages/server/src/runs/in-process-queue.test.ts',
  'packages/server/src/store/ids.test.ts',
  'packages/server/src/store/write-batch.test.ts',
  'packages/server/src/workflows/engine.test.ts',
  'packages/server/src/workflows/expression.test.ts',
  'packages/server/src/workflows/validate.test.ts',
  'packages/server/test/services.test.ts',
  'tests/meta/projects.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The tests share two cores with each other: an event loop lagging behind there is a busy
    // machine, not an overloaded server, so the lag-based load shedding (limits/shedding.ts) is
    // off for every platform a test starts (spawned servers inherit it) except where a test
    // turns it on to test it.
    env: { CODEMIE_MAX_EVENT_LOOP_DELAY_MS: '0' },
    reporters: ['default'],
    // `npm test` (and `npx vitest run`) runs both; `--project unit` / `--project integration` one.
    projects: [
      // threads start faster than forks, and pure tests share nothing that needs a process of its own
      { extends: true, test: { name: 'unit', include: UNIT, pool: 'threads' } },
      { extends: true, test: { name: 'integration', include: ALL, exclude: UNIT } },
    ],
  },
});
