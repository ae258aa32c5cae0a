import { KeycloakTokenProvider, NoTokenProvider, StaticTokenProvider, type TokenProvider, type TokenSource } from './auth.js';
import { CodeMieError } from './errors.js';
import { HttpClient } from './http.js';
import { AssistantService } from './services/assistants.js';
import { ConversationService } from './services/conversations.js';
import { ExecutionsService } from './services/executions.js';
import { FileOperationService } from './services/files.js';
import { LLMService } from './services/llms.js';
import { TaskService } from './services/tasks.js';
import { UserService } from './services/users.js';
import { WorkflowService } from './services/workflows.js';
import { insecureFetch, type FetchLike } from './tls.js';

export interface CodeMieClientOptions {
  /** API base URL, e.g. `https://codemie.example.com/code-assistant-api` (routes are `<this>/v1/...`). */
  codemie_api_domain: string;
  /** Keycloak (or embedded identity provider) base URL, e.g. `https://keycloak.example.com/auth`. */
  auth_server_url?: string;
  /** Realm, e.g. `codemie-prod`. */
  auth_realm_name?: string;
  /** OAuth2 client. Password grant defaults to the public client `codemie-sdk`. */
  auth_client_id?: string;
  /** Client secret: with no username/password, the client_credentials grant (service account) is used. */
  auth_client_secret?: string;
  /** User credentials for the password grant. */
  username?: string;
  password?: string;
  /** Verify TLS certificates (default true). `false` accepts self-signed certificates. */
  verify_ssl?: boolean;
  /** A ready access token (or a function returning the current one) instead of a login. */
  jwt_token?: TokenSource;
  /** Cookies sent with every API request (`"a=1; b=2"` or `{a: "1"}`), e.g. an SSO session. */
  cookies?: string | Record<string, string>;
  /** Token exchange (RFC 8693): a token from another issuer, exchanged at the token endpoint. */
  external_token?: TokenSource;
  /** Alias of the identity provider that issued `external_token`. */
  external_idp?: string;
  /** OAuth2 `scope` sent with token requests (optional). */
  scope?: string;
  /** Headers sent with every API request. */
  headers?: Record<string, string>;
  /** Custom fetch implementation (takes precedence over verify_ssl handling). */
  fetch?: FetchLike;
}

function cookieHeader(c: CodeMieClientOptions['cookies']): string | undefined {
  if (c === undefined || c === null) return undefined;
  if (typeof c === 'string') return c || undefined;
  const parts = Object.entries(c).map(([k, v]) => `${k}=${v}`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

function chooseTokens(o: CodeMieClientOptions, getFetch: () => Promise<FetchLike>): TokenProvider {
  if (o.jwt_token !== undefined && o.jwt_token !== null && o.jwt_token !== '') return new StaticTokenProvider(o.jwt_token);
  const hasUser = !!o.username || !!o.password;
  const hasExternal = o.external_token !== undefined && !!o.external_idp;
  const hasSecret = !!o.auth_client_secret;
  if (!hasUser && !hasSecret && !hasExternal) {
    if (o.auth_server_url && !cookieHeader(o.cookies)) {
      throw new CodeMieError(
        'No credentials: give username and password, auth_client_id and auth_client_secret, jwt_token or cookies',
      );
    }
    return new NoTokenProvider();
  }
  if (hasUser && !(o.username && o.password)) throw new CodeMieError('username and password must be given together');
  if (!o.auth_server_url) throw new CodeMieError('auth_server_url is required to log in');
  if (!o.auth_realm_name) throw new CodeMieError('auth_realm_name is required to log in');
  if (!hasUser && !hasExternal && !o.auth_client_id) {
    throw new CodeMieError('auth_client_id is required with auth_client_secret (client_credentials grant)');
  }
  return new KeycloakTokenProvider({
    authServerUrl: o.auth_server_url,
    realm: o.auth_realm_name,
    clientId: o.auth_client_id,
    clientSecret: o.auth_client_secret,
    username: hasUser ? o.username : undefined,
    password: hasUser ? o.password : undefined,
    externalToken: hasExternal ? o.external_token : undefined,
    externalIdp: hasExternal ? o.external_idp : undefined,
    scope: o.scope,
    getFetch,
  });
}

/**
 * Client for the CodeMie platform API.
 *
 * ```js
 * import { CodeMieClient } from "codemie-sdk";
 * const client = new CodeMieClient({
 *   codemie_api_domain: "https://codemie.example.com/code-assistant-api",
 *   auth_server_url: "https://keycloak.example.com/auth",
 *   auth_realm_name: "codemie-prod",
 *   username: "me@example.com",
 *   password: "...",
 * });
 * const me = await client.users.aboutMe();
 * ```
 */
export class CodeMieClient {
  readonly apiDomain: string;
  readonly verifySsl: boolean;
  /** How the bearer token is obtained (Keycloak grants, a fixed token, or none). */
  readonly auth: TokenProvider;

  readonly users: UserService;
  readonly llms: LLMService;
  readonly assistants: AssistantService;
  readonly workflows: WorkflowService;
  readonly executions: ExecutionsService;
  readonly conversations: ConversationService;
  readonly tasks: TaskService;
  readonly files: FileOperationService;

  /** The underlying HTTP client, for routes without a service method (`client.http.get("/v1/info")`). */
  readonly http: HttpClient;

  private fetchPromise: Promise<FetchLike> | null = null;

  constructor(options: CodeMieClientOptions) {
    if (!options || typeof options !== 'object') throw new CodeMieError('CodeMieClient needs an options object');
    const domain = options.codemie_api_domain;
    if (typeof domain !== 'string' || domain.trim() === '') throw new CodeMieError('codemie_api_domain is required');
    let parsed: URL;
    try {
      parsed = new URL(domain.trim());
    } catch {
      throw new CodeMieError(`codemie_api_domain is not a URL: ${domain}`);
    }
    this.apiDomain = parsed.toString().replace(/\/+$/, '');
    this.verifySsl = options.verify_ssl !== false;

    const custom = options.fetch;
    const getFetch = (): Promise<FetchLike> => {
      this.fetchPromise ??= custom
        ? Promise.resolve(custom)
        : this.verifySsl
          ? Promise.resolve<FetchLike>((input, init) => globalThis.fetch(input, init))
          : insecureFetch().then((r) => r.fetch);
      return this.fetchPromise;
    };

    this.auth = chooseTokens(options, getFetch);
    this.http = new HttpClient({
      baseUrl: this.apiDomain,
      tokens: this.auth,
      getFetch,
      cookies: cookieHeader(options.cookies),
      defaultHeaders: options.headers,
    });

    this.users = new UserService(this.http);
    this.llms = new LLMService(this.http);
    this.assistants = new AssistantService(this.http);
    this.executions = new ExecutionsService(this.http);
    this.workflows = new WorkflowService(this.http, this.executions);
    this.conversations = new ConversationService(this.http);
    this.tasks = new TaskService(this.http);
    this.files = new FileOperationService(this.http);
  }

  /** The current access token (logging in first when needed); null when the client sends none. */
  getToken(): Promise<string | null> {
    return this.auth.getToken();
  }
}
