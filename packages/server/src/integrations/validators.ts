/** Checks of kinds the integrations domain owns (the reference's settings_request_validator.py). */
import { ApiError } from '../api/errors.js';
import { valueOf, type CredentialValue } from './kinds.js';
import type { KindValidator } from './service.js';

const GIT_AUTH_HELP =
  "Please specify authentication method using 'auth_type' field: 'pat' for Personal Access Token or 'github_app' for GitHub App authentication.";
const present = (values: CredentialValue[], key: string) => values.some((v) => v.key === key);
const filled = (values: CredentialValue[], key: string) => {
  const v = valueOf(values, key);
  return v !== undefined && v !== null && v !== '' && v !== false;
};
const e422 = (message: string, details: string, help: string) => new ApiError(422, message, details, help);

export const validateGit: KindValidator = ({ credential_values: v }) => {
  const authType = valueOf(v, 'auth_type') ?? 'pat';
  if (authType === 'pat') {
    if (!filled(v, 'token')) {
      throw e422(
        "PAT authentication requires 'token'",
        'Personal Access Token authentication requires a valid token.',
        'Please provide a GitHub Personal Access Token. You can generate one at: https://github.com/settings/tokens',
      );
    }
    if (present(v, 'app_id') || present(v, 'private_key')) {
      throw e422(
        'Cannot mix authentication methods',
        'Cannot provide GitHub App fields (app_id, private_key) when using PAT authentication',
        'Please choose either PAT or GitHub App authentication, not both.',
      );
    }
    return;
  }
  if (authType !== 'github_app') throw e422(`Invalid auth_type: '${String(authType)}'`, "auth_type must be either 'pat' or 'github_app'.", GIT_AUTH_HELP);
  if (filled(v, 'token')) {
    throw e422(
      'Cannot mix authentication methods',
      'Cannot provide PAT token when using GitHub App authentication',
      'Please choose either PAT or GitHub App authentication, not both.',
    );
  }
  if (!filled(v, 'app_id')) {
    throw e422(
      "GitHub App authentication requires 'app_id'",
      'GitHub App authentication requires a valid App ID.',
      'Find your App ID in GitHub App settings: Settings → Developer settings → GitHub Apps → Your App',
    );
  }
  if (!filled(v, 'private_key')) {
    throw e422(
      "GitHub App authentication requires 'private_key'",
      'GitHub App authentication requires a private key.',
      'Generate and download a private key from GitHub App settings: Settings → Developer settings → GitHub Apps → Your App → Generate private key',
    );
  }
  if (!String(valueOf(v, 'private_key')).startsWith('-----BEGIN')) {
    throw e422(
      'Invalid private key format',
      "Private key must be in PEM format (should start with '-----BEGIN').",
      'Please provide the private key exactly as downloaded from GitHub (including BEGIN/END markers).',
    );
  }
  if (!/^\d+$/.test(String(valueOf(v, 'app_id')).trim()))
    throw e422('Invalid app_id format', 'app_id must be a numeric value.', 'Find your numeric App ID in GitHub App settings.');
  if (filled(v, 'installation_id') && !/^\d+$/.test(String(valueOf(v, 'installation_id')).trim())) {
    throw e422(
      'Invalid installation_id format',
      'installation_id must be a numeric value.',
      'Find your installation ID in the GitHub App installation URL, or leave empty to auto-detect.',
    );
  }
};

const LITELLM_HELP = 'Please provide a valid, non-empty API key for LiteLLM integration.';

export const validateLiteLlm: KindValidator = ({ credential_values: v }) => {
  if (!present(v, 'api_key')) throw e422('LiteLLM API key is missing.', 'Please provide an API key for the LiteLLM integration.', LITELLM_HELP);
  const key = valueOf(v, 'api_key');
  if (!key || (typeof key === 'string' && !key.trim())) {
    throw e422('LiteLLM API key cannot be empty', 'The API key field is required and cannot be empty or contain only whitespace.', LITELLM_HELP);
  }
};
