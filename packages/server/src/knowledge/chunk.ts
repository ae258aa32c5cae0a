/**
 * Splits a document's text into overlapping chunks, recursively on paragraph, line, word and
 * character boundaries (the reference's RecursiveCharacterTextSplitter), sized in characters.
 */
const SEPARATORS = ['\n\n', '\n', ' ', ''];

export function splitText(text: string, size: number, overlap: number): string[] {
  const ov = Math.min(overlap, Math.floor(size / 2));
  return split(text, size, ov, SEPARATORS)
    .map((c) => c.trim())
    .filter(Boolean);
}

function split(text: string, size: number, overlap: number, separators: string[]): string[] {
  let sep = separators[separators.length - 1];
  let rest: string[] = [];
  for (let i = 0; i < separators.length; i++) {
    const s = separators[i];
    if (s === '' || text.includes(s)) {
      sep = s;
      rest = separators.slice(i + 1);
      break;
    }
  }
  const parts = sep === '' ? [...text] : text.split(sep);
  const out: string[] = [];
  let good: string[] = [];
  for (const p of parts) {
    if (p.length <= size) {
      good.push(p);
      continue;
    }
    if (good.length) {
      out.push(...merge(good, sep, size, overlap));
      good = [];
    }
    if (!rest.length) out.push(p);
    else out.push(...split(p, size, overlap, rest));
  }
  if (good.length) out.push(...merge(good, sep, size, overlap));
  return out;
}

/** Joins small pieces into chunks of at most `size`, each starting with up to `overlap` of the previous one. */
function merge(pieces: string[], sep: string, size: number, overlap: number): string[] {
  const out: string[] = [];
  let cur: string[] = [];
  let len = 0;
  const joinedLen = (n: number, add: number) => n + add + (cur.length ? sep.length : 0);
  for (const p of pieces) {
    if (cur.length && joinedLen(len, p.length) > size) {
      const chunk = cur.join(sep);
      if (chunk.trim()) out.push(chunk);
      // Keep a tail of whole pieces no longer than the overlap.
      while (cur.length && (len > overlap || joinedLen(len, p.length) > size)) {
        len -= cur[0].length + (cur.length > 1 ? sep.length : 0);
        cur.shift();
      }
    }
    len = joinedLen(len, p.length);
    cur.push(p);
  }
  const last = cur.join(sep);
  if (last.trim()) out.push(last);
  return out;
}
