// The Node SDK's wire types, generated from the server's OpenAPI document (the route descriptors'
// schemas) with openapi-typescript. `node scripts/sdk-types.mjs` (npm run gen:sdk-types) writes
// packages/sdk/src/generated/api.ts; tests/contract/sdk-types.test.ts fails when it is stale.
// Needs the built server (npm run build).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SDK_TYPES_FILE = path.join(root, 'packages/sdk/src/generated/api.ts');

const HEADER = `/* eslint-disable */
// GENERATED FILE — do not edit. Made from the server's /openapi.json by scripts/sdk-types.mjs
// (npm run gen:sdk-types); tests/contract/sdk-types.test.ts fails when it is out of date.
`;

/** The OpenAPI document of a platform with default settings (nothing listens, nothing is kept). */
export async function openApiDocument() {
  const { loadConfig, createPlatform } = await import(pathToFileURL(path.join(root, 'packages/server/dist/index.js')).href);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'codemie-openapi-'));
  const config = loadConfig(
    {
      CODEMIE_DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      CODEMIE_LOCAL_MODEL: 'off',
      CODEMIE_SEED_DEMO: 'false',
      CODEMIE_SCRYPT_N: '1024',
      CODEMIE_ADMIN_PASSWORD: 'openapi-generation',
    },
    {},
  );
  const platform = await createPlatform(config, { logger: false });
  try {
    const res = await platform.app.inject({ method: 'GET', url: '/openapi.json' });
    if (res.statusCode !== 200) throw new Error(`GET /openapi.json answered ${res.statusCode}`);
    return res.json();
  } finally {
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function generateSdkTypes() {
  const doc = await openApiDocument();
  // The version changes with every release; it is not part of the types.
  doc.info = { ...doc.info, version: '0' };
  // A field with a default is optional in a request: the server fills it in.
  const ast = await openapiTS(doc, { alphabetize: true, defaultNonNullable: false });
  return HEADER + astToString(ast);
}

// `--check`: exit 1 (and say how to fix it) when the committed file differs from what the server generates.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const fresh = await generateSdkTypes();
  const rel = path.relative(root, SDK_TYPES_FILE);
  if (process.argv.includes('--check')) {
    const current = existsSync(SDK_TYPES_FILE) ? readFileSync(SDK_TYPES_FILE, 'utf8') : '';
    if (current !== fresh) {
      console.error(`${rel} is out of date with the server's OpenAPI document: run \`npm run gen:sdk-types\` and commit the result.`);
      process.exit(1);
    }
    console.log(`${rel} is up to date`);
  } else {
    writeFileSync(SDK_TYPES_FILE, fresh);
    console.log(`wrote ${rel}`);
  }
}
