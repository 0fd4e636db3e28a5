import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { riskstreamSchema } from '../../src/config/schema.js';

const ROOT = resolve(import.meta.dirname, '../..');
const shipped = readFileSync(join(ROOT, 'config', 'riskstream.yaml'), 'utf8');

/** The keys of an object schema under its optional / default / prefault wrappers (none: not an object; a list's entries, `receivers`, are an example block). */
function keysOf(t: unknown): string[] {
  let cur = t;
  for (let i = 0; i < 5; i++) {
    if (cur instanceof z.ZodObject) return Object.keys(cur.shape as object);
    if (cur instanceof z.ZodArray) return [];
    const unwrap = (cur as { unwrap?: () => unknown }).unwrap;
    if (typeof unwrap !== 'function') return [];
    cur = unwrap.call(cur);
  }
  return [];
}

/** The shape of the object schema `t` wraps. */
function shapeOf(t: unknown): Record<string, unknown> {
  let cur = t;
  while (!(cur instanceof z.ZodObject)) cur = (cur as { unwrap: () => unknown }).unwrap();
  return cur.shape as Record<string, unknown>;
}

/** The lines of `text` from `key:` at `indent` to the next line indented as little (a section's block). */
function block(text: string, key: string, indent: number): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^ {${indent}}${key}:`).test(l));
  if (start < 0) return '';
  const end = lines.findIndex((l, i) => i > start && new RegExp(`^ {0,${indent}}[a-z_]+:`).test(l));
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/** True when `section` names `key`, set or commented out (`key:` or `# key:`) at `indent`. */
const names = (section: string, key: string, indent: number): boolean => new RegExp(`^ {${indent}}(# )?${key}:`, 'm').test(section);

describe('config/riskstream.yaml ships commented with every default (docs/interfaces.md §3, README)', () => {
  it('its values are the defaults: the file parses to what an empty one does', () => {
    expect(riskstreamSchema.parse(parse(shipped))).toEqual(riskstreamSchema.parse({}));
  });

  it('it names every setting, set or commented out (ssf.limits one by one too)', () => {
    const missing: string[] = [];
    for (const [section, schema] of Object.entries(riskstreamSchema.shape)) {
      const text = block(shipped, section, 0);
      if (!text && !new RegExp(`^# ?${section}:`, 'm').test(shipped)) missing.push(section);
      for (const key of keysOf(schema)) if (!names(text, key, 2)) missing.push(`${section}.${key}`);
    }
    const limits = block(block(shipped, 'ssf', 0), 'limits', 2);
    for (const key of keysOf(shapeOf(riskstreamSchema.shape.ssf).limits)) if (!names(limits, key, 4)) missing.push(`ssf.limits.${key}`);
    expect(missing).toEqual([]);
  });
});
