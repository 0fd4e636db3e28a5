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
