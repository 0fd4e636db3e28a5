/**
 * Classifies IP addresses for the egress policy: `public` (global unicast) or the name of the
 * special range an address lies in (loopback, private, linkLocal, carrierGradeNat, multicast,
 * unspecified, broadcast, reserved, uniqueLocal, …). IPv6 forms that carry an IPv4 address
 * (IPv4-mapped, IPv4-compatible, RFC 6145, NAT64 64:ff9b::/96, 6to4) are classified by the
 * address they carry; Teredo and local-use NAT64 are never public. Pure.
 */
import ipaddr from 'ipaddr.js';

/** A parsed IPv4 or IPv6 address. */
export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * Parses a canonical IP literal: a dotted quad, or IPv6 with or without brackets. Anything else
 * (a host name, `0x7f000001`, `127.1`: WHATWG URL parsing has already normalised those in a
 * URL's host) is undefined.
 */
export function parseIp(text: string): IpAddress | undefined {
  const t = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (DOTTED_QUAD.test(t)) return ipaddr.IPv4.parse(t);
  if (t.includes(':') && ipaddr.IPv6.isValid(t)) return ipaddr.IPv6.parse(t);
  return undefined;
}

function v4(hi: number, lo: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

/** The IPv4 address an IPv6 address carries, when it is one of the encodings that do. */
export function embeddedIpv4(addr: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = addr.parts;
  const zeros = (n: number): boolean => p.slice(0, n).every((x) => x === 0);
  // ::a.b.c.d (IPv4-compatible, deprecated) — but not :: or ::1, which are their own ranges.
  if (zeros(6) && (p[6] !== 0 || p[7]! > 1)) return v4(p[6]!, p[7]!);
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (RFC 6145).
  if (zeros(5) && p[5] === 0xffff) return v4(p[6]!, p[7]!);
  if (zeros(4) && p[4] === 0xffff && p[5] === 0) return v4(p[6]!, p[7]!);
  // 64:ff9b::a.b.c.d (NAT64 well-known prefix).
  if (p[0] === 0x64 && p[1] === 0xff9b && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0) return v4(p[6]!, p[7]!);
  // 2002:aabb:ccdd::/48 (6to4).
  if (p[0] === 0x2002) return v4(p[1]!, p[2]!);
  return undefined;
}

/** `public`, or the special range `addr` (a parsed address or a literal) lies in; `invalid` when it does not parse. */
export function classifyAddress(addr: IpAddress | string): string {
  const a = typeof addr === 'string' ? parseIp(addr) : addr;
  if (!a) return 'invalid';
  if (a.kind() === 'ipv6') {
    const inner = embeddedIpv4(a as ipaddr.IPv6);
    if (inner) return classifyAddress(inner);
  }
  const range = a.range();
  return range === 'unicast' ? 'public' : range;
}

/** True when `addr` is a global unicast address (no special range, no encoding of one). */
export function isPublicAddress(addr: IpAddress | string): boolean {
  return classifyAddress(addr) === 'public';
}

/**
 * One spelling per address, so that an IP's logins meet under one key: IPv6 compressed and in
 * lower case (RFC 5952), an IPv4-mapped IPv6 address as its IPv4 address. Text that is no IP
 * literal (a dotted quad or IPv6) is returned as it is.
 */
export function canonicalIp(text: string): string {
  const addr = parseIp(text.trim());
  if (!addr) return text;
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) return (addr as ipaddr.IPv6).toIPv4Address().toString();
  return addr.toString();
}
