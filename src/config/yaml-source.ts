/**
 * YAML configuration sources: parsing with line numbers and locating a value's path, so every
 * validation problem is reported as `file:line:col message`.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { RiskstreamError } from '../errors.js';

/** One validation problem, located in its file. */
export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  message: string;
}

/** A parsed YAML file with its line counter. */
export interface Parsed {
  file: string;
  doc: Document.Parsed;
  lc: LineCounter;
  /** The document's data (aliases resolved). */
  js: unknown;
}

/** Reads and parses a YAML file; syntax errors become issues (undefined then). */
export function parseFile(file: string, issues: ConfigIssue[]): Parsed | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new RiskstreamError('CONFIG_NOT_FOUND', `cannot read ${file}`, { file });
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  // The parser may report one mistake several ways at one place: the first only.
  const seen = new Set<number>();
  for (const e of doc.errors) {
    if (seen.has(e.pos[0])) continue;
    seen.add(e.pos[0]);
    const message = e.message.split('\n')[0] ?? e.message;
    // An unclosed `[` / `{` or quote is found where the parser gave up (lines later, or past the
    // end of the file): point at its opening.
    const opening = /^Flow (sequence|map)\b/.test(message)
      ? unclosedFlow(text, e.pos[0])
      : /^Missing closing/.test(message)
        ? unclosedQuote(text, e.pos[0])
        : undefined;
    const at = opening ?? e.pos[0];
    const pos = lc.linePos(at);
    issues.push({ file, line: pos.line, col: pos.col, message });
  }
  if (doc.errors.length) return undefined;
  try {
    return { file, doc, lc, js: doc.toJS() };
  } catch (err) {
    // An alias without its anchor, or too many aliases (a "billion laughs"): at the first alias.
    let at = 0;
    visit(doc, { Alias: (_, node) => ((at = node.range?.[0] ?? 0), visit.BREAK) });
    const pos = lc.linePos(at);
    issues.push({ file, line: pos.line, col: pos.col, message: (err as Error).message.split('\n')[0] ?? 'cannot read the YAML' });
    return undefined;
  }
}

/**
 * The offset of the innermost `[` or `{` still open at `end` (outside quotes and comments), or
 * undefined: where an unclosed flow collection begins.
 */
export function unclosedFlow(text: string, end: number): number | undefined {
  return openAt(text, end).flows.at(-1);
}

/** The offset of the quote (`"` or `'`) that opened a scalar still unclosed at `end`, or undefined. */
function unclosedQuote(text: string, end: number): number | undefined {
  return openAt(text, end).quote;
}

/** What is open at `end`: the flow collections' openings (outermost first), and a quoted scalar's. */
function openAt(text: string, end: number): { flows: number[]; quote?: number } {
  const flows: number[] = [];
  let quote: number | undefined;
  for (let i = 0; i < end && i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === '\\' && text[quote] === '"') i++;
      else if (c === text[quote]) quote = undefined;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i < end && text[i] !== '\n') i++;
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s:,[{]/.test(text[i - 1]!))) quote = i;
    else if (c === '[' || c === '{') flows.push(i);
    else if ((c === ']' || c === '}') && flows.length) flows.pop();
  }
  return quote === undefined ? { flows } : { flows, quote };
}

/** Line and column of the deepest node on `path` (of the key itself with `keyOnly`). */
export function locate(p: Parsed, path: readonly PropertyKey[], keyOnly = false): { line: number; col: number } {
  // Walk down to the deepest node that exists; point at the key for unknown keys.
  let node: unknown = p.doc.contents;
  let best: [number, number, number] | undefined = (node as { range?: [number, number, number] })?.range;
  // A key that is missing (a required one): its map's own key, the line to add it under.
  let parentKey: [number, number, number] | undefined;
  for (const seg of path) {
    if (!node || typeof node !== 'object' || !('items' in node)) break;
    const items = (node as { items: unknown[] }).items;
    let next: unknown;
    if (isMap(node)) {
      const pair = (node.items as Array<{ key: { value?: unknown; range?: [number, number, number] }; value: unknown }>).find(
        (it) => String(it.key?.value) === String(seg),
      );
      if (!pair) {
        best = parentKey ?? best;
        break;
      }
      if (keyOnly && seg === path[path.length - 1]) {
        best = pair.key.range;
        break;
      }
      next = pair.value ?? pair.key;
      parentKey = pair.key.range;
      best = (next as { range?: [number, number, number] })?.range ?? pair.key.range ?? best;
    } else {
      next = items[Number(seg)];
      best = (next as { range?: [number, number, number] })?.range ?? best;
      // A key missing in a list entry: the entry's line, not the list's key.
      parentKey = best;
    }
    node = next;
  }
  const pos = p.lc.linePos(best?.[0] ?? 0);
  return { line: pos.line, col: pos.col };
}

/** Turns zod issues into located config issues (`unknown key "a.b"` for unrecognised keys). */
export function pushZodIssues(p: Parsed, prefix: PropertyKey[], err: z.ZodError, issues: ConfigIssue[]): void {
  for (const issue of err.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...prefix, ...issue.path, key];
        issues.push({ file: p.file, ...locate(p, path, true), message: `unknown key "${path.map(String).join('.')}"` });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      // A map's key that fails (`bridge.lists: {"": …}`): said at the key, with what is wrong with it.
      const path = [...prefix, ...issue.path];
      const map = path.slice(0, -1).map(String).join('.');
      const why = issue.issues.map((i) => i.message).join('; ');
      issues.push({ file: p.file, ...locate(p, path, true), message: `${map}: key ${JSON.stringify(String(path.at(-1)))}: ${why}` });
      continue;
    }
    const path = [...prefix, ...issue.path];
    const where = path.length ? `${path.map(String).join('.')}: ` : '';
    issues.push({ file: p.file, ...locate(p, path), message: `${where}${issue.message}` });
  }
}
