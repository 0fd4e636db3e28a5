/**
 * The metrics table of docs/operations.md ("Metrics") is what an SRE builds dashboards and alerts
 * from: every metric riskstream registers is in it with its type and labels, and nothing in it is
 * missing from the registry (the Node.js process metrics aside, documented by prefix).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/obs/metrics.js';

const DOC = readFileSync(resolve(import.meta.dirname, '../../docs/operations.md'), 'utf8');

/** `name → "type labels"` of the table's rows (labels sorted, comma-separated). */
function documented(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of DOC.split('\n')) {
    const m = /^\| `(riskstream_[a-z_]+)` \| (counter|gauge|histogram) \|([^|]*)\|/.exec(line);
    if (!m) continue;
    const labels = [...m[3]!.matchAll(/`([a-z_]+)`/g)].map((x) => x[1]!).sort();
    rows.set(m[1]!, `${m[2]} ${labels.join(',')}`);
  }
  return rows;
}

describe('docs/operations.md metrics table', () => {
  it('names every registered metric with its type and labels, and no metric that is not registered', async () => {
    const registered = new Map<string, string>();
    const metrics = new Metrics(false);
    // prom-client keeps each metric's label names on the metric itself (not in its JSON).
    const labelsOf = new Map(metrics.registry.getMetricsAsArray().map((m) => [m.name, (m as unknown as { labelNames?: string[] }).labelNames ?? []]));
    for (const { name, type } of await metrics.registry.getMetricsAsJSON()) registered.set(name, `${type} ${[...labelsOf.get(name)!].sort().join(',')}`);
    expect(Object.fromEntries(documented())).toEqual(Object.fromEntries(registered));
  });

  it('documents the process metrics by their prefix, as registered', async () => {
    const names = new Metrics(true).registry.getMetricsAsArray().map((m) => m.name);
    expect(names.some((n) => n.startsWith('riskstream_process_'))).toBe(true);
    expect(names.some((n) => n.startsWith('riskstream_nodejs_'))).toBe(true);
    expect(DOC).toContain('`riskstream_process_*`, `riskstream_nodejs_*`');
  });
});
