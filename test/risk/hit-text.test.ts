import { describe, expect, it } from 'vitest';
import { boundedText, boundedTexts, MAX_HIT_TEXT } from '../../src/risk/hit-text.js';

describe('what a hit quotes from its event, bounded', () => {
  it('cuts a long text to MAX_HIT_TEXT characters ending in …, never inside a surrogate pair; a short one is kept', () => {
    expect(boundedText('short')).toBe('short');
    const cut = boundedText('😀'.repeat(MAX_HIT_TEXT + 5));
    expect([...cut]).toHaveLength(MAX_HIT_TEXT);
    expect(cut.endsWith('😀…')).toBe(true);
  });

  it('cuts every string in evidence (nested objects, arrays), keeps other values, and returns evidence with nothing to cut as it is', () => {
    const long = 'x'.repeat(MAX_HIT_TEXT * 3);
    const out = boundedTexts({ n: 1, ok: true, none: null, a: [long, 'b'], o: { s: long } });
    expect(out).toEqual({ n: 1, ok: true, none: null, a: [`${'x'.repeat(MAX_HIT_TEXT - 1)}…`, 'b'], o: { s: `${'x'.repeat(MAX_HIT_TEXT - 1)}…` } });
    const small = { a: ['b'], o: { s: 'c' } };
    expect(boundedTexts(small)).toBe(small);
  });

  it('an own __proto__ key (JSON.parse makes one) is cut as a plain property, never set as the prototype', () => {
    const ev = JSON.parse(`{"__proto__":{"s":"${'y'.repeat(MAX_HIT_TEXT * 2)}"},"k":1}`) as Record<string, unknown>;
    const out = boundedTexts(ev);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect((Object.getOwnPropertyDescriptor(out, '__proto__')!.value as { s: string }).s.length).toBe(MAX_HIT_TEXT);
  });
});
