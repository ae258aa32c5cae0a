/** Missing test services: skipped loudly outside CI, a failure under CI=true. */
import { describe, expect, it } from 'vitest';
import { testServiceUrl, underCi } from './services.js';

describe('test services', () => {
  it('returns the URL when it is set', () => {
    expect(testServiceUrl('redis', { TEST_REDIS_URL: 'redis://x' })).toBe('redis://x');
    expect(testServiceUrl('postgres', { TEST_DATABASE_URL: 'postgres://x', CI: 'true' })).toBe('postgres://x');
  });
  it('missing: undefined outside CI, an error naming the variable under CI=true', () => {
    expect(testServiceUrl('redis', {})).toBeUndefined();
    expect(() => testServiceUrl('redis', { CI: 'true' })).toThrow(/TEST_REDIS_URL is not set.*Under CI=true a missing service fails the run/);
    expect(() => testServiceUrl('postgres', { CI: '1' })).toThrow(/TEST_DATABASE_URL/);
    expect(underCi({ CI: 'false' })).toBe(false);
  });
});
