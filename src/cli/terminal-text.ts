/**
 * Text for a terminal (pure): control characters from data (user names, reasons, audit details)
 * are replaced with visible `\uXXXX` escapes so they can neither retitle the terminal, move the
 * cursor, overwrite a row nor reorder text. Replaced: C0 (U+0000–U+001F, ESC included), DEL,
 * C1 (U+0080–U+009F), the bidi controls (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069) and
 * the Unicode line/paragraph separators (U+2028/9). `\uXXXX` is also a valid JSON escape, so
 * JSON output passed through here still parses to the same value.
 */
import { DISPLAY_CONTROLS } from '../text.js';

const CONTROLS = new RegExp(`[${DISPLAY_CONTROLS}]`, 'g');
const CONTROLS_BUT_NEWLINE = new RegExp(`(?!\\n)[${DISPLAY_CONTROLS}]`, 'g');

const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `s` with every control character (newlines too: one table cell stays one line) escaped. */
export function escapeControls(s: string): string {
  return s.replace(CONTROLS, escape);
}

/** Multi-line output: every control character but `\n` escaped. */
export function escapeControlsKeepLines(s: string): string {
  return s.replace(CONTROLS_BUT_NEWLINE, escape);
}

/** Combining marks and zero-width characters: no column of their own (`e` + U+0301 is one `é`). */
const ZERO_WIDTH = /^[\p{M}\u200B-\u200D\u2060\uFEFF]$/u;
/** Emoji shown as pictures: two columns. */
const EMOJI = /^\p{Emoji_Presentation}$/u;

/** East Asian Wide and Fullwidth ranges (UAX #11): CJK, kana, Hangul, fullwidth forms. */
function wide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/**
 * The columns `s` takes in a terminal: a wide character (CJK, kana, Hangul, fullwidth forms, emoji)
 * two, a combining mark or zero-width character none, any other one (`s.length` counted a
 * decomposed `é` as two and `日本` as two, so a table's columns after them slipped).
 */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x300)
      w += 1; // ASCII and Latin: the usual case, no regular expression
    else if (ZERO_WIDTH.test(ch)) continue;
    else w += wide(cp) || EMOJI.test(ch) ? 2 : 1;
  }
  return w;
}

/** `s` padded with spaces to `width` terminal columns ({@link displayWidth}). */
export function padColumns(s: string, width: number): string {
  const w = displayWidth(s);
  return w >= width ? s : s + ' '.repeat(width - w);
}
