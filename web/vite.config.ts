/**
 * Builds the admin console (web/ → console-dist/, committed; the worker serves it at /console/).
 * `npm run build:console`. Dev: `npx vite -c web/vite.config.ts` proxies the API to
 * RISKSTREAM_URL (default http://127.0.0.1:8080).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { sourceHash } from './source-hash.js';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(here, '../console-dist');
const require = createRequire(import.meta.url);

interface Topology {
  transform: { scale: [number, number]; translate: [number, number] };
  arcs: Array<Array<[number, number]>>;
  objects: { land: { geometries: Array<{ type: string; arcs: number[][][] | number[][] }> } };
}

/**
 * The world's land as SVG path data (equirectangular: x = lon + 180, y = 90 − lat), decoded
 * from world-atlas's Natural Earth 1:110m TopoJSON (public domain data, ISC package).
 */
export function worldPath(): string {
  const topo = JSON.parse(readFileSync(require.resolve('world-atlas/land-110m.json'), 'utf8')) as Topology;
  const [sx, sy] = topo.transform.scale;
  const [tx, ty] = topo.transform.translate;
  const arcs = topo.arcs.map((arc) => {
    let x = 0;
    let y = 0;
    return arc.map(([dx, dy]) => {
      x += dx;
      y += dy;
      return [x * sx + tx, y * sy + ty] as [number, number];
    });
  });
  const ring = (ids: number[]): Array<[number, number]> => {
    const pts: Array<[number, number]> = [];
    for (const id of ids) {
      const arc = id < 0 ? [...arcs[~id]!].reverse() : arcs[id]!;
      pts.push(...(pts.length ? arc.slice(1) : arc));
    }
    return pts;
  };
  const f = (n: number): string => String(Math.round(n * 10) / 10);
  let d = '';
  for (const g of topo.objects.land.geometries) {
    const polys = (g.type === 'Polygon' ? [g.arcs] : g.arcs) as number[][][];
    for (const poly of polys) {
      for (const r of poly) {
        // Rings crossing the antimeridian (Fiji, Chukotka) are made continuous (x may leave
        // 0..360 a little); the map draws the world once more on each side, so both halves show.
        // A ring around a pole (Antarctica) already runs along the map's edges: kept as it is.
        const raw = ring(r);
        const pts = raw.map(([lon, lat]) => [lon, lat] as [number, number]);
        for (let i = 1; i < pts.length; i++) {
          const prev = pts[i - 1]![0];
          let lon = pts[i]![0];
          while (lon - prev > 180) lon -= 360;
          while (prev - lon > 180) lon += 360;
          pts[i] = [lon, pts[i]![1]];
        }
        const lons = pts.map(([lon]) => lon);
        const wraps = Math.max(...lons) - Math.min(...lons) > 300;
        // Keep the ring's middle within -180..180 (unwrapping may have moved it a world over).
        const shift = Math.round((Math.max(...lons) + Math.min(...lons)) / 2 / 360) * -360;
        for (const p of pts) p[0] += shift;
        let last = '';
        (wraps ? raw : pts).forEach(([lon, lat], i) => {
          const p = `${f(lon + 180)} ${f(90 - lat)}`;
          if (p === last) return;
          d += `${i ? 'L' : 'M'}${p}`;
          last = p;
        });
        d += 'Z';
      }
    }
  }
  return d;
}

/** `import { WORLD } from 'virtual:world'`. */
function world(): Plugin {
  const id = 'virtual:world';
  return {
    name: 'riskstream-world',
    resolveId: (s) => (s === id ? `\0${id}` : undefined),
    load: (s) => (s === `\0${id}` ? `export const WORLD = ${JSON.stringify(worldPath())};` : undefined),
  };
}

/** Writes console-dist/build-info.json (source hash) after the bundle. */
function buildInfo(): Plugin {
  return {
    name: 'riskstream-build-info',
    apply: 'build',
    closeBundle() {
      writeFileSync(
        join(outDir, 'build-info.json'),
        `${JSON.stringify({ source_sha256: sourceHash(), note: 'npm run build:console (web/ → console-dist/)' }, null, 2)}\n`,
      );
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  plugins: [world(), buildInfo()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: {
    proxy: Object.fromEntries(['/v1', '/healthz', '/readyz'].map((p) => [p, process.env.RISKSTREAM_URL ?? 'http://127.0.0.1:8080'])),
  },
});
