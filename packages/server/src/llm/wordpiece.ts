/**
 * BERT's uncased WordPiece tokenizer (what all-MiniLM-L6-v2 was trained with): clean the text,
 * split CJK characters, lower-case and strip accents, split on whitespace and punctuation, then
 * greedy longest-match sub-words with the `##` continuation prefix. Ids are the positions in the
 * model's vocabulary (bert-base-uncased, 30 522 entries).
 */
export interface WordPieceVocab {
  ids: Map<string, number>;
  cls: number;
  sep: number;
  unk: number;
  pad: number;
}

export function vocabFromList(tokens: string[]): WordPieceVocab {
  const ids = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (!ids.has(t)) ids.set(t, i);
  });
  const need = (t: string) => {
    const id = ids.get(t);
    if (id === undefined) throw new Error(`vocabulary has no ${t} token`);
    return id;
  };
  return { ids, cls: need('[CLS]'), sep: need('[SEP]'), unk: need('[UNK]'), pad: need('[PAD]') };
}

const isCjk = (cp: number) =>
  (cp >= 0x4e00 && cp <= 0x9fff) ||
  (cp >= 0x3400 && cp <= 0x4dbf) ||
  (cp >= 0x20000 && cp <= 0x2a6df) ||
  (cp >= 0x2a700 && cp <= 0x2b81f) ||
  (cp >= 0x2b820 && cp <= 0x2ceaf) ||
  (cp >= 0xf900 && cp <= 0xfaff) ||
  (cp >= 0x2f800 && cp <= 0x2fa1f);

const PUNCT = /\p{P}/u;
function isPunctuation(ch: string, cp: number): boolean {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return cp > 127 && PUNCT.test(ch);
}

const CONTROL = /[\p{Cc}\p{Cf}]/u;

/** BERT's BasicTokenizer (do_lower_case = true). */
export function basicTokens(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  const flush = () => {
    if (cur) out.push(cur);
    cur = '';
  };
  const lowered = text.toLowerCase().normalize('NFD');
  for (const ch of lowered) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd) continue;
    if (/\s/.test(ch)) {
      flush();
      continue;
    }
    if (cp >= 0x300 && cp <= 0x36f) continue; // combining marks (accents) after NFD
    if (/\p{Mn}/u.test(ch)) continue;
    if (ch !== '\t' && ch !== '\n' && ch !== '\r' && CONTROL.test(ch)) continue;
    if (isCjk(cp) || isPunctuation(ch, cp)) {
      flush();
      out.push(ch);
      continue;
    }
    cur += ch;
  }
  flush();
  return out;
}

/** Token ids of `text` framed by [CLS] … [SEP], at most `maxTokens` in all. */
export function encode(vocab: WordPieceVocab, text: string, maxTokens: number): number[] {
  const ids = [vocab.cls];
  const limit = maxTokens - 1;
  outer: for (const word of basicTokens(text)) {
    if (word.length > 100) {
      ids.push(vocab.unk);
      if (ids.length >= limit) break;
      continue;
    }
    const pieces: number[] = [];
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let found: number | undefined;
      while (start < end) {
        const sub = start > 0 ? `##${word.slice(start, end)}` : word.slice(start, end);
        found = vocab.ids.get(sub);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) {
        pieces.length = 0;
        pieces.push(vocab.unk);
        break;
      }
      pieces.push(found);
      start = end;
    }
    for (const p of pieces) {
      ids.push(p);
      if (ids.length >= limit) break outer;
    }
  }
  ids.push(vocab.sep);
  return ids;
}
