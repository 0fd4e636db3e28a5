/**
 * A small map of an impossible-travel pair: the world outline shipped with the console
 * (Natural Earth 1:110m land, equirectangular, built in at build time: no tiles, no network),
 * both logins and the great-circle path between them.
 */
import { s } from './dom.js';
import { hhmm, num, placeName, type Place } from './format.js';

type XY = [number, number];

const project = (lat: number, lon: number): XY => [lon + 180, 90 - lat];

/** Points along the great circle from a to b (degrees). */
function greatCircle(a: Place, b: Place, n = 64): Array<[number, number]> {
  const rad = Math.PI / 180;
  const v = (p: Place): [number, number, number] => [
    Math.cos(p.lat * rad) * Math.cos(p.lon * rad),
    Math.cos(p.lat * rad) * Math.sin(p.lon * rad),
    Math.sin(p.lat * rad),
  ];
  const [p, q] = [v(a), v(b)];
  const dot = Math.min(1, Math.max(-1, p[0] * q[0] + p[1] * q[1] + p[2] * q[2]));
  const omega = Math.acos(dot);
  if (omega < 1e-9) return [[a.lat, a.lon]];
  const out: Array<[number, number]> = [];
  for (let i = 0; i <= n; i++) {
    const t = i / n;
    const k1 = Math.sin((1 - t) * omega) / Math.sin(omega);
    const k2 = Math.sin(t * omega) / Math.sin(omega);
    const x = k1 * p[0] + k2 * q[0];
    const y = k1 * p[1] + k2 * q[1];
    const z = k1 * p[2] + k2 * q[2];
    out.push([Math.atan2(z, Math.hypot(x, y)) / rad, Math.atan2(y, x) / rad]);
  }
  return out;
}

/** Makes longitudes continuous along the path (a trip across the Pacific stays in one piece). */
function unwrap(points: Array<[number, number]>): XY[] {
  const out: XY[] = [];
  let prev: number | undefined;
  for (const [lat, lon0] of points) {
    let lon = lon0;
    if (prev !== undefined) while (lon - prev > 180) lon -= 360;
    if (prev !== undefined) while (prev - lon > 180) lon += 360;
    out.push(project(lat, lon));
    prev = lon;
  }
  return out;
}

/** The part of the world to show: the trip with a margin, 2:1, at most the whole world. */
function viewBox(pts: XY[]): [number, number, number, number] {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of pts) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  const w = Math.min(Math.max(x1 - x0, 2 * (y1 - y0), 60) * 1.35, 360);
  const hgt = w / 2;
  const x = (x0 + x1) / 2 - w / 2;
  const y = Math.min(Math.max((y0 + y1) / 2 - hgt / 2, 0), 180 - hgt);
  return [x, y, w, hgt];
}

let seq = 0;

let world: string | null = null;

/** Loads the world outline (a separate chunk, fetched the first time a map is shown). */
export async function loadWorld(): Promise<void> {
  world ??= (await import('virtual:world')).WORLD;
}

/** The map as an SVG image with a text alternative ({@link loadWorld} first for the outline). */
export function travelMap(from: Place, to: Place, evidence: Record<string, unknown>): SVGSVGElement {
  const route = unwrap(greatCircle(from, to));
  const [vx, vy, vw, vh] = viewBox(route);
  const id = `map-${++seq}`;
  const unit = vw / 100;
  const a = route[0]!;
  const b = route[route.length - 1]!;
  // Labels point inwards (towards the other login) so they stay inside the map.
  const label = (p: Place, [x, y]: XY, other: XY, cls: string) => {
    const leftmost = x <= other[0];
    const above = y <= other[1];
    const tx = x + (leftmost ? 2 : -2) * unit;
    const ty = y + (above ? -2 : 4.4) * unit;
    return s(
      'text',
      { x: tx.toFixed(2), y: ty.toFixed(2), class: `map-label ${cls}`, 'text-anchor': leftmost ? 'start' : 'end', 'font-size': (3.4 * unit).toFixed(2) },
      `${placeName(p)} ${hhmm(p.time)}`,
    );
  };
  // The outline three times (one world to each side) so a view across the antimeridian is filled.
  const land = world
    ? [-360, 0, 360]
        .filter((dx) => dx + 370 > vx && dx - 10 < vx + vw)
        .map((dx) => s('path', { d: world, class: 'map-land', transform: dx ? `translate(${dx} 0)` : null }))
    : null;
  return s(
    'svg',
    {
      class: 'map',
      viewBox: `${vx.toFixed(2)} ${vy.toFixed(2)} ${vw.toFixed(2)} ${vh.toFixed(2)}`,
      role: 'img',
      'aria-labelledby': `${id}-t ${id}-d`,
      preserveAspectRatio: 'xMidYMid meet',
    },
    s('title', { id: `${id}-t` }, `Map of the impossible trip ${placeName(from)} → ${placeName(to)}`),
    s(
      'desc',
      { id: `${id}-d` },
      `${placeName(from)} (${from.lat.toFixed(2)}, ${from.lon.toFixed(2)}) to ${placeName(to)} (${to.lat.toFixed(2)}, ${to.lon.toFixed(2)}): ${num(evidence.distance_km)} km along the great circle.`,
    ),
    s('rect', { x: vx, y: vy, width: vw, height: vh, class: 'map-sea' }),
    land,
    s('polyline', { points: route.map(([x, y]) => `${x.toFixed(2)},${y.toFixed(2)}`).join(' '), class: 'map-route' }),
    s('circle', { cx: a[0], cy: a[1], r: (1.2 * unit).toFixed(2), class: 'map-point map-from' }),
    s('circle', { cx: b[0], cy: b[1], r: (1.2 * unit).toFixed(2), class: 'map-point map-to' }),
    label(from, a, b, 'map-from'),
    label(to, b, a, 'map-to'),
  );
}
