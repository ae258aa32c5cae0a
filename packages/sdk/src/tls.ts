/**
 * Chooses the fetch implementation. With certificate verification on (the default) it is the global
 * fetch. With `verify_ssl: false` the SDK needs a fetch that accepts self-signed certificates:
 * - if the `undici` package can be imported, its fetch with an `Agent({ connect: { rejectUnauthorized:
 *   false } })` is used, so only this client's requests skip verification;
 * - otherwise the SDK falls back to `NODE_TLS_REJECT_UNAUTHORIZED=0`, which turns verification off for
 *   the whole process, and says so once with a process warning. Install `undici` to avoid that.
 */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export type Importer = (specifier: string) => Promise<unknown>;

// The specifier is kept in a variable so TypeScript does not require undici's types at build time.
const UNDICI = 'undici';
const defaultImporter: Importer = (specifier) => import(specifier);

let warned = false;

interface UndiciLike {
  Agent: new (opts: { connect: { rejectUnauthorized: boolean } }) => unknown;
  fetch: (input: string, init?: Record<string, unknown>) => Promise<Response>;
}

export async function insecureFetch(importer: Importer = defaultImporter): Promise<{ fetch: FetchLike; via: 'undici' | 'env' }> {
  try {
    const mod = (await importer(UNDICI)) as Partial<UndiciLike> & { default?: Partial<UndiciLike> };
    const u = (mod.Agent ? mod : mod.default) as UndiciLike | undefined;
    if (u?.Agent && typeof u.fetch === 'function') {
      const dispatcher = new u.Agent({ connect: { rejectUnauthorized: false } });
      const f: FetchLike = (input, init) => u.fetch(input, { ...(init as Record<string, unknown>), dispatcher });
      return { fetch: f, via: 'undici' };
    }
  } catch {
    // not installed: fall through to the process-wide switch
  }
  if (process.env.NODE_TLS_REJECT_UNAUTHORIZED !== '0') {
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    if (!warned) {
      warned = true;
      process.emitWarning(
        'codemie-sdk: verify_ssl is false and the "undici" package is not installed, so TLS certificate ' +
          'verification was disabled for the whole process (NODE_TLS_REJECT_UNAUTHORIZED=0). ' +
          'Install undici to limit this to the CodeMie client.',
        { code: 'CODEMIE_SDK_INSECURE_TLS' },
      );
    }
  }
  return { fetch: (input, init) => globalThis.fetch(input, init), via: 'env' };
}
