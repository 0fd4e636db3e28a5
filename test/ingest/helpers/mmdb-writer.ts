/**
 * A minimal MaxMind DB (format 2.0) writer for tests: builds an IPv6 search tree (IPv4
 * networks live at ::a.b.c.d/96+n, as in MaxMind's own databases), a data section and the
 * metadata map. Enough for `maxmind`/`mmdb-lib` to open and look up; no pointers, no dedup
 * beyond identical objects, no aliasing of ::ffff:0:0/96.
 *
 * Spec: https://maxmind.github.io/MaxMind-DB/
 */
import { isIPv4, isIPv6 } from 'node:net';

/** A value with an explicit MaxMind type (numbers otherwise pick uint16/uint32/int32/double). */
export class Typed {
  constructor(
    readonly type: 'uint16' | 'uint32' | 'uint64' | 'double' | 'float' | 'int32',
    readonly value: number | bigint,
  ) {}
}

export type MmdbValue = string | number | boolean | bigint | Typed | MmdbValue[] | { [k: string]: MmdbValue };

export interface MmdbNetwork {
  /** `a.b.c.d/len` or an IPv6 CIDR. */
  cidr: string;
  data: { [k: string]: MmdbValue };
}

export interface MmdbOptions {
  databaseType?: string;
  recordSize?: 24 | 28 | 32;
  languages?: string[];
  buildEpoch?: number;
}

const TYPE = {
  pointer: 1,
  string: 2,
  double: 3,
  bytes: 4,
  uint16: 5,
  uint32: 6,
  map: 7,
  int32: 8,
  uint64: 9,
  uint128: 10,
  array: 11,
  boolean: 14,
  float: 15,
} as const;

/** Control byte(s) + size bytes for `type` with payload `size`. */
function control(type: number, size: number): Buffer {
  let sizeBits: number;
  let ext: number[] = [];
  if (size < 29) sizeBits = size;
  else if (size < 29 + 256) {
    sizeBits = 29;
    ext = [size - 29];
  } else if (size < 285 + 65536) {
    sizeBits = 30;
    ext = [(size - 285) >> 8, (size - 285) & 0xff];
  } else {
    sizeBits = 31;
    ext = [((size - 65821) >> 16) & 0xff, ((size - 65821) >> 8) & 0xff, (size - 65821) & 0xff];
  }
  const head = type <= 7 ? [(type << 5) | sizeBits] : [sizeBits, type - 7];
  return Buffer.from([...head, ...ext]);
}

function uintBytes(v: bigint): Buffer {
  const bytes: number[] = [];
  while (v > 0n) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return Buffer.from(bytes);
}

/** Encodes one value of the data section (or the metadata). */
export function encode(v: MmdbValue): Buffer {
  if (v instanceof Typed) {
    switch (v.type) {
      case 'double': {
        const b = Buffer.alloc(8);
        b.writeDoubleBE(Number(v.value));
        return Buffer.concat([control(TYPE.double, 8), b]);
      }
      case 'float': {
        const b = Buffer.alloc(4);
        b.writeFloatBE(Number(v.value));
        return Buffer.concat([control(TYPE.float, 4), b]);
      }
      case 'int32': {
        const b = Buffer.alloc(4);
        b.writeInt32BE(Number(v.value));
        return Buffer.concat([control(TYPE.int32, 4), b]);
      }
      default: {
        const b = uintBytes(BigInt(v.value));
        return Buffer.concat([control(TYPE[v.type], b.length), b]);
      }
    }
  }
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([control(TYPE.string, b.length), b]);
  }
  if (typeof v === 'boolean') return control(TYPE.boolean, v ? 1 : 0);
  if (typeof v === 'bigint') return encode(new Typed('uint64', v));
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return encode(new Typed('double', v));
    if (v < 0) return encode(new Typed('int32', v));
    return encode(new Typed(v < 65536 ? 'uint16' : 'uint32', v));
  }
  if (Array.isArray(v)) return Buffer.concat([control(TYPE.array, v.length), ...v.map(encode)]);
  const entries = Object.entries(v);
  return Buffer.concat([control(TYPE.map, entries.length), ...entries.flatMap(([k, x]) => [encode(k), encode(x)])]);
}

/** The 128 bits of an address (IPv4 → ::a.b.c.d) as an array of 0/1. */
function bits(ip: string): number[] {
  let bytes: number[];
  if (isIPv4(ip)) bytes = [...new Array(12).fill(0), ...ip.split('.').map(Number)];
  else if (isIPv6(ip)) {
    const [head, tail = ''] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t] : h;
    bytes = groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
  } else throw new Error(`bad address ${ip}`);
  return bytes.flatMap((b) => [7, 6, 5, 4, 3, 2, 1, 0].map((i) => (b >> i) & 1));
}

type Child = { node: number } | { data: number } | null;

/** Builds a complete .mmdb file. Less specific networks may contain more specific ones. */
export function buildMmdb(networks: MmdbNetwork[], opts: MmdbOptions = {}): Buffer {
  const recordSize = opts.recordSize ?? 28;
  // Data section: one encoded record per distinct data object.
  const dataChunks: Buffer[] = [];
  const offsets = new Map<object, number>();
  let dataLen = 0;
  const dataOffset = (d: object): number => {
    let off = offsets.get(d);
    if (off === undefined) {
      const enc = encode(d as MmdbValue);
      off = dataLen;
      offsets.set(d, off);
      dataChunks.push(enc);
      dataLen += enc.length;
    }
    return off;
  };
  // Search tree: insert less specific networks first so more specific ones split them.
  const nodes: [Child, Child][] = [[null, null]];
  const sorted = networks
    .map((n) => {
      const [addr, len] = n.cidr.split('/');
      const prefix = Number(len) + (isIPv4(addr!) ? 96 : 0);
      return { path: bits(addr!).slice(0, prefix), data: n.data };
    })
    .sort((a, b) => a.path.length - b.path.length);
  for (const { path, data } of sorted) {
    const target: Child = { data: dataOffset(data) };
    let node = 0;
    for (let depth = 0; depth < path.length; depth++) {
      const bit = path[depth]!;
      if (depth === path.length - 1) {
        nodes[node]![bit] = target;
        break;
      }
      const child = nodes[node]![bit] ?? null;
      if (child && 'node' in child) node = child.node;
      else {
        nodes.push([child, child]); // split a covering network (or an empty record)
        nodes[node]![bit] = { node: nodes.length - 1 };
        node = nodes.length - 1;
      }
    }
  }
  const nodeCount = nodes.length;
  const value = (c: Child): number => (c === null ? nodeCount : 'node' in c ? c.node : nodeCount + 16 + c.data);
  const nodeBytes = recordSize / 4;
  const tree = Buffer.alloc(nodeCount * nodeBytes);
  nodes.forEach(([l, r], i) => {
    const off = i * nodeBytes;
    const left = value(l);
    const right = value(r);
    if (recordSize === 24) {
      tree.writeUIntBE(left, off, 3);
      tree.writeUIntBE(right, off + 3, 3);
    } else if (recordSize === 28) {
      tree.writeUIntBE(left & 0xffffff, off, 3);
      tree[off + 3] = ((left >>> 24) << 4) | (right >>> 24);
      tree.writeUIntBE(right & 0xffffff, off + 4, 3);
    } else {
      tree.writeUInt32BE(left, off);
      tree.writeUInt32BE(right, off + 4);
    }
  });
  const metadata = encode({
    node_count: new Typed('uint32', nodeCount),
    record_size: new Typed('uint16', recordSize),
    ip_version: new Typed('uint16', 6),
    database_type: opts.databaseType ?? 'GeoLite2-City',
    languages: opts.languages ?? ['en'],
    binary_format_major_version: new Typed('uint16', 2),
    binary_format_minor_version: new Typed('uint16', 0),
    build_epoch: new Typed('uint64', BigInt(opts.buildEpoch ?? 1_700_000_000)),
    description: { en: 'riskstream test database' },
  });
  const marker = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex');
  return Buffer.concat([tree, Buffer.alloc(16), ...dataChunks, marker, metadata]);
}

/** A GeoIP2-City-shaped record. */
export function cityRecord(o: { lat: number; lon: number; radius: number; country: string; city?: string }): { [k: string]: MmdbValue } {
  return {
    ...(o.city ? { city: { geoname_id: new Typed('uint32', 2643743), names: { en: o.city } } } : {}),
    country: { geoname_id: new Typed('uint32', 2635167), iso_code: o.country, names: { en: o.country } },
    location: { accuracy_radius: new Typed('uint16', o.radius), latitude: new Typed('double', o.lat), longitude: new Typed('double', o.lon), time_zone: 'UTC' },
  };
}
