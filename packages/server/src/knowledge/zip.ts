/**
 * ZIP archives uploaded to a knowledge base are checked before anything is extracted: entry
 * count, kept-file count and unsafe paths from the central directory, then the uncompressed size
 * is counted while inflating (headers are not trusted), so a bomb stops at the limit without being
 * held in memory. Members are flattened to their base names (the reference's rule); directories,
 * AppleDouble `._*` files, `__MACOSX/`, nested archives and repeated names are skipped. Any
 * problem → 422 with the reference's texts, and nothing of that archive is kept.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type yauzl from 'yauzl';
import { ApiError } from '../api/errors.js';
import { newRowId } from '../store/ids.js';

export const ZIP_LIMITS = { entries: 10_000, files: 1000, bytes: 500 * 1024 * 1024 };

const zipError = (message: string, details: string, help: string) => new ApiError(422, message, details, help);

export const invalidZip = () =>
  zipError('Invalid ZIP archive', 'The uploaded file could not be opened as a ZIP archive.', 'Ensure the file is a valid ZIP archive and try again.');

export interface ZipMember {
  name: string;
  file: string;
  size: number;
}

interface Candidate {
  entry: yauzl.Entry;
  name: string;
}

async function openZip(file: string): Promise<yauzl.ZipFile> {
  // Loaded with the first upload of an archive.
  const { default: yauzl } = await import('yauzl');
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true }, (err, zip) =>
      err || !zip ? reject(invalidZip()) : resolve(zip),
    );
  });
}

function readEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const out: yauzl.Entry[] = [];
    if (zip.entryCount > ZIP_LIMITS.entries) return reject(tooManyEntries());
    zip.on('entry', (e: yauzl.Entry) => {
      out.push(e);
      if (out.length > ZIP_LIMITS.entries) return reject(tooManyEntries());
      zip.readEntry();
    });
    zip.on('end', () => resolve(out));
    zip.on('error', (err: Error) => {
      // yauzl refuses entry names that escape the archive itself.
      const m = /^(?:invalid relative path|absolute path): (.*)$/.exec(err.message);
      reject(m ? unsafe(m[1]) : invalidZip());
    });
    zip.readEntry();
  });
}

const unsafe = (entryName: string) =>
  zipError(
    'ZIP archive contains an unsafe path',
    `The entry '${entryName}' points outside the archive (absolute path, '..' or a symbolic link).`,
    'Remove absolute paths, parent-directory references and links from the archive and upload it again.',
  );

const tooManyEntries = () =>
  zipError(
    'ZIP archive contains too many entries',
    `Archives are limited to ${ZIP_LIMITS.entries} total entries.`,
    'Reduce the number of files and directories in the archive.',
  );
const tooLarge = () =>
  zipError(
    'ZIP archive too large',
    `Uncompressed content exceeds the ${ZIP_LIMITS.bytes / 1024 / 1024} MB limit.`,
    'Upload a smaller archive or split the content into multiple files.',
  );

/** An entry path that would leave the archive's folder if extracted as written (zip-slip), or a link. */
function unsafePath(entry: yauzl.Entry): boolean {
  const p = entry.fileName.replace(/\\/g, '/');
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return true;
  if (p.split('/').some((seg) => seg === '..')) return true;
  const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
  return mode === 0o120000; // symbolic link
}

function keptName(entry: yauzl.Entry): string | null {
  const p = entry.fileName.replace(/\\/g, '/');
  if (p.endsWith('/')) return null;
  const base = p.split('/').pop() ?? '';
  if (!base || base === '.' || base === '..') return null;
  if (base.startsWith('._') || p.startsWith('__MACOSX/') || p.includes('/__MACOSX/')) return null;
  if (base.toLowerCase().endsWith('.zip')) return null;
  return base;
}

/** Expands `zipFile` into `outDir` (one file per kept member); 422 on any problem, with what was written removed. */
export async function expandZip(zipFile: string, outDir: string, limits = ZIP_LIMITS): Promise<ZipMember[]> {
  const zip = await openZip(zipFile);
  const written: string[] = [];
  try {
    const entries = await readEntries(zip);
    const bad = entries.find(unsafePath);
    if (bad) throw unsafe(bad.fileName);
    const seen = new Set<string>();
    const kept: Candidate[] = [];
    for (const entry of entries) {
      const name = keptName(entry);
      if (!name || seen.has(name)) continue;
      seen.add(name);
      kept.push({ entry, name });
    }
    if (kept.length > limits.files) {
      throw zipError(
        'ZIP archive contains too many files',
        `Archives are limited to ${limits.files} files.`,
        'Split the archive into smaller batches and upload separately.',
      );
    }
    if (!kept.length) {
      throw zipError(
        'ZIP archive contained no extractable files',
        'The archive was empty or contained only directories or metadata entries.',
        'Ensure the archive contains at least one supported file and try again.',
      );
    }
    // Declared sizes first (cheap), then the real count while inflating.
    if (kept.reduce((n, c) => n + c.entry.uncompressedSize, 0) > limits.bytes) throw tooLarge();
    await mkdir(outDir, { recursive: true });
    let total = 0;
    const out: ZipMember[] = [];
    for (const c of kept) {
      const file = path.join(outDir, newRowId());
      written.push(file);
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          total += chunk.length;
          if (total > limits.bytes) return done(tooLarge());
          done(null, chunk);
        },
      });
      try {
        const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
          zip.openReadStream(c.entry, (err, s) => (err || !s ? reject(err ?? new Error('no stream')) : resolve(s))),
        );
        await pipeline(stream, counter, createWriteStream(file));
      } catch (err) {
        if (err instanceof ApiError) throw err;
        throw zipError(
          `Cannot read entry '${c.entry.fileName}' from ZIP`,
          (err as Error).message,
          'The entry may be encrypted, corrupted, or use an unsupported compression method.',
        );
      }
      out.push({ name: c.name, file, size });
    }
    return out;
  } catch (err) {
    await Promise.all(written.map((f) => rm(f, { force: true })));
    throw err;
  } finally {
    zip.close();
  }
}
