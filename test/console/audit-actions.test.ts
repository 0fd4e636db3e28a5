/**
 * The console's audit filter offers every action the worker writes (and its family), so an entry such as
 * `config.reload_failed` can be found by filter, not only in the unfiltered list.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS } from '../../web/src/views/audit-actions.js';

const root = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('console audit filter', () => {
  it('lists every audit action written under src/, and each action family', () => {
    const written = new Set<string>();
    // Actions built in a template (`receiver.subject_${…}`): their fixed start, which some offered action must extend.
    const started = new Set<string>();
    for (const file of sources(join(root, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/action: (?:'([a-z_]+\.[a-z_]+)'|`([a-z_]+\.[a-z_]*)\$\{)/g)) {
        if (m[1]) written.add(m[1]);
        else started.add(m[2]!);
      }
    }
    expect(written.size).toBeGreaterThan(5);
    const offered = new Set(AUDIT_ACTIONS);
    const missing = [...written].flatMap((a) => [a, a.split('.')[0]!]).filter((a) => !offered.has(a));
    expect([...new Set(missing)]).toEqual([]);
    const unextended = [...started].filter((s) => !AUDIT_ACTIONS.some((a) => a.startsWith(s) && a !== s));
    expect(unextended).toEqual([]);
  });
});
