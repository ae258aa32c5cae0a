/**
 * Password and client-secret hashing with node:crypto scrypt, compared in constant time.
 * Stored form: `scrypt$<N>$<r>$<p>$<salt b64url>$<hash b64url>`, so the cost can change
 * (CODEMIE_SCRYPT_N) without invalidating existing hashes.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const R = 8;
const P = 1;
const KEYLEN = 32;

function scryptAsync(secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEYLEN, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashSecret(secret: string, n: number): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, n, R, P);
  return `scrypt$${n}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  const expected = Buffer.from(parts[5], 'base64url');
  const key = await scryptAsync(secret, Buffer.from(parts[4], 'base64url'), n, r, p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash to compare against when the user does not exist, so timing does not reveal it. */
let dummy: Promise<string> | undefined;
export function dummyHash(n: number): Promise<string> {
  dummy ??= hashSecret(randomBytes(12).toString('hex'), n);
  return dummy;
}

/** Random credentials: URL-safe, 32 bytes of entropy unless told otherwise. */
export const generateSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** Readable generated password (24 chars, no look-alikes). */
export function generatePassword(length = 24): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = randomBytes(length);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

/** Fast digest for high-entropy opaque tokens (refresh tokens); never for passwords. */
export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
