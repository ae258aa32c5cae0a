/** History helpers: latest variants per turn, names, the reference's html escaping, attached files. */
import { describe, expect, it } from 'vitest';
import { historyFiles, htmlEscape, latestVariants, nameFrom, ratingOf, type StoredMessage } from './messages.js';

const m = (role: string, message: string, historyIndex: number, fileNames: string[] = []): StoredMessage => ({ role, message, historyIndex, date: '', fileNames });

describe('conversation messages', () => {
  it('latestVariants keeps each (role, turn) once, in first-appearance order, with the latest text', () => {
    const h = [m('User', 'q0', 0), m('Assistant', 'a0', 0), m('User', 'q1', 1), m('Assistant', 'a1', 1), m('User', 'q0b', 0), m('Assistant', 'a0b', 0)];
    expect(latestVariants(h).map((x) => x.message)).toEqual(['q0b', 'a0b', 'q1', 'a1']);
    expect(latestVariants(h, 1).map((x) => x.message)).toEqual(['q0b', 'a0b']);
    expect(latestVariants(h, 0)).toEqual([]);
  });

  it('names, escaping, files, ratings', () => {
    expect(nameFrom('x'.repeat(50))).toBe('x'.repeat(50));
    expect(nameFrom('x'.repeat(51))).toBe(`${'x'.repeat(50)}...`);
    expect(nameFrom(undefined)).toBe('');
    expect(htmlEscape(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;');
    expect(historyFiles([m('User', '', 0, ['f1', 'f2']), m('User', '', 1, ['f2', 'f3'])])).toEqual(['f1', 'f2', 'f3']);
    expect([ratingOf('correct'), ratingOf('partially correct'), ratingOf('wrong')]).toEqual([100, 50, 0]);
  });
});
