/**
 * `"name": value` pairs in text that looks like JSON but does not parse (pure), found in linear time.
 */

/**
 * `"name": "value"` (the closing quote may be missing: a line cut short) or `"name": value`, a
 * bare value not opening an object or array (whose own pairs are matched then, one by one).
 */
const JSON_PAIR = /"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*(?:"|\\?$)|[^\s"{}[\],][^,}\]\s]*)/g;

/** {@link JSON_PAIR} tried at one position (sticky). */
const JSON_PAIR_AT = new RegExp(JSON_PAIR.source, 'y');

/**
 * Where to look for a pair after none starts at the quote `p`: the quote closing the name begun
 * there (it may open the next pair), else past where the name's scan stopped. A quote in between
 * is escaped: a pair begun there reads the same name to the same end, and fails alike (trying each,
 * as a global replace does, read `\"\"\"…` once per quote: quadratic).
 */
function nextStart(v: string, p: number): number {
  let i = p + 1;
  for (; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x22) return i;
    // `\.`: an escape of anything but a line terminator, which ends the name's scan.
    if (c === 0x5c) {
      const d = v.charCodeAt(i + 1);
      if (i + 1 >= v.length || d === 0x0a || d === 0x0d || d === 0x2028 || d === 0x2029) break;
      i++;
    }
  }
  return v.indexOf('"', i + 1);
}

/**
 * `v.replace(JSON_PAIR, fn)`, with the starts that cannot match skipped ({@link nextStart}): linear
 * where the global replace was quadratic (a 64 KiB field of `\"` took over a second).
 */
export function replaceJsonPairs(v: string, fn: (pair: string, name: string, colon: string, value: string) => string): string {
  let out = '';
  let copied = 0;
  for (let p = v.indexOf('"'); p >= 0;) {
    JSON_PAIR_AT.lastIndex = p;
    const m = JSON_PAIR_AT.exec(v);
    if (!m) {
      p = nextStart(v, p);
      continue;
    }
    out += v.slice(copied, p) + fn(m[0], m[1]!, m[2]!, m[3]!);
    copied = p + m[0].length;
    p = v.indexOf('"', copied);
  }
  return copied === 0 ? v : out + v.slice(copied);
}
