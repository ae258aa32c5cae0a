import { describe, expect, it } from 'vitest';

describe('cleanSchema', () => {
  it('drops annotations but keeps properties with annotation-like names', async () => {
    const { cleanSchema } = await import('./schema.js');
    expect(
      cleanSchema({
        $schema: 'http://json-schema.org/draft-07/schema#',
        title: 'Book',
        type: 'object',
        properties: { title: { type: 'string', title: 'Title', default: 'x' }, tags: { type: 'array', items: { type: 'string', examples: ['a'] } } },
        required: ['title'],
      }),
    ).toEqual({
      type: 'object',
      properties: { title: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
      required: ['title'],
    });
  });
});
