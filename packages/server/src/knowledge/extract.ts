/**
 * Text extraction per file type, with maintained parsers: PDF per page (pdfjs-dist), DOCX
 * (mammoth), HTML (html-to-text), CSV rows, JSON `[{content, metadata}]` items; Markdown, code and
 * other text as it is. Binary files without an extractor yield nothing (they count as skipped).
 */
import path from 'node:path';

export interface ExtractedDoc {
  text: string;
  metadata: Record<string, unknown>;
}

export interface ExtractOptions {
  csvSeparator?: string | null;
  csvStartRow?: number | null;
  csvRowsPerDocument?: number | null;
}

/** Thrown for a file that cannot be read (the file is skipped with this reason; the rest goes on). */
export class ExtractionError extends Error {}

const BINARY_EXT = new Set([
  'png',
  'jpg',
  'jpeg',
  'gif',
  'webp',
  'bmp',
  'tif',
  'tiff',
  'ico',
  'mp3',
  'wav',
  'ogg',
  'mp4',
  'mov',
  'avi',
  'zip',
  'gz',
  'tgz',
  'tar',
  '7z',
  'rar',
  'exe',
  'dll',
  'so',
  'bin',
  'class',
  'jar',
  'woff',
  'woff2',
  'ttf',
  'otf',
  'xls',
  'xlsx',
  'ppt',
  'pptx',
  'doc',
  'msg',
  'eml',
  'vsdx',
  'epub',
]);

export function extensionOf(name: string): string {
  return path.extname(name).slice(1).toLowerCase();
}

export async function extractDocuments(name: string, bytes: Buffer, opts: ExtractOptions = {}): Promise<ExtractedDoc[]> {
  const ext = extensionOf(name);
  switch (ext) {
    case 'pdf':
      return extractPdf(bytes);
    case 'docx':
      return extractDocx(bytes);
    case 'html':
    case 'htm':
    case 'xhtml':
      return [{ text: await htmlToText(decode(bytes)), metadata: {} }];
    case 'csv':
    case 'tsv':
      return extractCsv(decode(bytes), ext === 'tsv' ? '\t' : opts.csvSeparator || ',', opts.csvStartRow ?? 1, opts.csvRowsPerDocument ?? 1);
    case 'json':
      return extractJson(decode(bytes));
  }
  if (BINARY_EXT.has(ext)) return [];
  // Anything else is read as text, unless it looks binary.
  if (bytes.subarray(0, 8192).includes(0)) return [];
  return [{ text: decode(bytes), metadata: {} }];
}

function decode(bytes: Buffer): string {
  let s = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  return s;
}

async function extractPdf(bytes: Buffer): Promise<ExtractedDoc[]> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  let doc;
  try {
    doc = await pdfjs.getDocument({
      data: new Uint8Array(bytes),
      isEvalSupported: false,
      useSystemFonts: false,
      disableFontFace: true,
      verbosity: 0,
    }).promise;
  } catch (err) {
    throw new ExtractionError(`not a readable PDF (${(err as Error).message})`);
  }
  try {
    const out: ExtractedDoc[] = [];
    for (let p = 1; p <= doc.numPages; p++) {
      const page = await doc.getPage(p);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items as Array<{ str?: string; hasEOL?: boolean }>) {
        if (typeof item.str !== 'string') continue;
        text += item.str;
        text += item.hasEOL ? '\n' : ' ';
      }
      out.push({ text: text.replace(/[ \t]+\n/g, '\n').trim(), metadata: { page: p, total_pages: doc.numPages } });
      page.cleanup();
    }
    return out;
  } finally {
    await doc.destroy();
  }
}

async function extractDocx(bytes: Buffer): Promise<ExtractedDoc[]> {
  const mammoth = await import('mammoth');
  try {
    const r = await mammoth.default.extractRawText({ buffer: bytes });
    return [{ text: r.value, metadata: {} }];
  } catch (err) {
    throw new ExtractionError(`not a readable DOCX document (${(err as Error).message})`);
  }
}

export async function htmlToText(html: string): Promise<string> {
  const { convert } = await import('html-to-text');
  return convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
    ],
  });
}

/** RFC 4180 rows (quotes, doubled quotes, separators and newlines inside quotes). */
export function parseCsv(text: string, sep: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (text.startsWith(sep, i)) {
      row.push(field);
      field = '';
      i += sep.length - 1;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ''));
}

function extractCsv(text: string, sep: string, startRow: number, perDoc: number): ExtractedDoc[] {
  const rows = parseCsv(text, sep);
  if (rows.length < 2) return rows.length ? [{ text: rows[0].join(sep), metadata: { row: `row ${startRow}` } }] : [];
  const header = rows[0].map((h) => h.trim());
  const docs: ExtractedDoc[] = [];
  const per = Math.max(1, perDoc);
  let n = startRow;
  for (let i = 1; i < rows.length; i += per) {
    const group = rows.slice(i, i + per).map((r) => header.map((h, j) => `${h}: ${(r[j] ?? '').trim()}`).join('\n'));
    docs.push({ text: group.join('\n\n'), metadata: { row: `row ${n}` } });
    n++;
  }
  return docs;
}

/** Why a `.json` upload is refused: it must be a list of {content, metadata}. Null when it is fine. */
export function jsonFormatProblem(text: string): string | null {
  let v: unknown;
  try {
    v = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    return (err as Error).message;
  }
  if (!Array.isArray(v)) return 'the document must be a list of objects with "content" and "metadata"';
  for (const item of v) {
    if (!item || typeof item !== 'object' || Array.isArray(item)) return 'every item must be an object with "content" and "metadata"';
    if (!('content' in item)) return `"missing 'content' key"`;
    if (!('metadata' in item)) return `"missing 'metadata' key"`;
  }
  return null;
}

function extractJson(text: string): ExtractedDoc[] {
  if (jsonFormatProblem(text) !== null) return [{ text, metadata: {} }];
  const items = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as Array<{ content: unknown; metadata: unknown }>;
  return items.map((it) => ({
    text: typeof it.content === 'string' ? it.content : JSON.stringify(it.content),
    metadata: it.metadata && typeof it.metadata === 'object' && !Array.isArray(it.metadata) ? (it.metadata as Record<string, unknown>) : {},
  }));
}
