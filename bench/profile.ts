/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per source
 * (package or project file), top first. Usable alone: node --import tsx bench/profile.ts <dir|file>
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './lib.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function source(url: string): string {
  if (!url) return '(native / V8)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + 14).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (path.startsWith('node:')) return path;
  return relative(ROOT, path);
}

/** `window`: [from, to] in µs of the monotonic clock (process.hrtime), as the profile's timestamps. */
export function summarizeProfile(dirOrFile: string, window?: [number, number], top = 25): void {
  let file = dirOrFile;
  if (statSync(dirOrFile).isDirectory()) {
    // The main thread's profile (thread 0); tsx's module-hooks thread writes its own.
    const all = readdirSync(dirOrFile).filter((f) => f.endsWith('.cpuprofile'));
    const files = all.filter((f) => /\.0\.\d+\.cpuprofile$/.test(f)).length ? all.filter((f) => /\.0\.\d+\.cpuprofile$/.test(f)) : all;
    if (!files.length) return console.log(`# no .cpuprofile in ${dirOrFile}`);
    file = join(dirOrFile, files.sort((a, b) => statSync(join(dirOrFile, b)).mtimeMs - statSync(join(dirOrFile, a)).mtimeMs)[0]!);
  }
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  // Self time per node from the sample stream (timeDeltas[i] precedes samples[i]).
  const self = new Map<number, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (window && (t < window[0] || t > window[1])) continue;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  }
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => ['(idle)', '(program)'].includes(byId.get(id)!.callFrame.functionName)).reduce((a, [, v]) => a + v, 0);
  const byFn = new Map<string, number>();
  const bySrc = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)' || name === '(program)') continue;
    const src = source(n.callFrame.url);
    const key = `${name}  ${src}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    bySrc.set(src, (bySrc.get(src) ?? 0) + us);
  }
  const busy = total - idle;
  // Inclusive time per function (self + callees; a function recursing into itself counts once).
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n: ProfileNode): string =>
    `${n.callFrame.functionName || '(anonymous)'}  ${source(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  // PROFILE_ALL=1: every function, dependencies included (where inside a library time goes).
  const everything = process.env.PROFILE_ALL === '1';
  const incl = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      if (!everything && !n.callFrame.url.includes('/src/') && !n.callFrame.url.includes('/pipelines/')) continue;
      const k = keyOf(n);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + us);
    }
  }
  const pct = (us: number): string => `${((us / busy) * 100).toFixed(1).padStart(5)} %`;
  console.log(`# profile ${file}`);
  if (window) console.log(`#   window: the measured run only (${((window[1] - window[0]) / 1e6).toFixed(2)} s)`);
  console.log(`#   ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (shares below are of busy time)`);
  console.log('#   self time by source:');
  for (const [k, v] of [...bySrc].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`#     ${pct(v)}  ${k}`);
  console.log('#   self time by function:');
  for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`#     ${pct(v)}  ${k}`);
  console.log(`#   total (inclusive) time of ${everything ? 'all' : 'project'} functions:`);
  for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`#     ${pct(v)}  ${k}`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) summarizeProfile(process.argv[2] ?? '.');
