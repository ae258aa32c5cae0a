/**
 * `POST /v1/settings/test/`: whether a credential set works. Kinds this server can check: LLM
 * provider keys (LiteLLM, DIAL: the provider's model list is read with the key) and the trigger
 * kinds (their values are validated as a save would). Other kinds answer 422: this server has no
 * client for them yet (the reference tests Jira, Confluence, Git, ... with their own clients).
 */
import { ApiError } from '../api/errors.js';
import { INVALID_SETTING_DATA_MSG } from './service.js';
import { stringValue, type CredentialValue } from './kinds.js';

export type TestResult = [success: boolean, message: string];
export type KindTester = (values: CredentialValue[]) => Promise<TestResult>;

async function modelList(url: string | undefined, headers: Record<string, string>): Promise<TestResult> {
  if (!url) return [false, 'The integration has no url.'];
  let target: URL;
  try {
    target = new URL(`${url.replace(/\/+$/, '')}/models`);
  } catch {
    return [false, `'${url}' is not a valid URL.`];
  }
  try {
    const res = await fetch(target, { headers, signal: AbortSignal.timeout(10_000) });
    if (res.ok) return [true, 'Integration test successful'];
    return [false, `The provider answered ${res.status} ${res.statusText}`.trim()];
  } catch (err) {
    return [false, `The provider could not be reached: ${(err as Error).message}`];
  }
}

export const builtInTesters: Record<string, KindTester> = {
  LiteLLM: (v) => modelList(stringValue(v, 'url'), { authorization: `Bearer ${stringValue(v, 'api_key') ?? ''}` }),
  DIAL: (v) => modelList(stringValue(v, 'url'), { 'api-key': stringValue(v, 'api_key') ?? '' }),
};

export async function runTest(testers: Map<string, KindTester>, type: string, values: CredentialValue[]): Promise<TestResult> {
  const t = testers.get(type);
  if (!t) {
    throw new ApiError(
      422,
      'Cannot test specified setting',
      `An error occurred while trying to test the setting: testing '${type}' integrations is not available on this server.`,
      INVALID_SETTING_DATA_MSG,
    );
  }
  return t(values);
}
