import ipaddr from 'ipaddr.js';
import { toNumber } from './fields.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

const compiled = new WeakMap<readonly string[], Range[]>();

/** An IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) as its IPv4 range; others unchanged. */
function unmap([addr, bits]: Range): Range {
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    return [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96];
  }
  return [addr, bits];
}

/** Parses CIDRs (IPv4 and IPv6); invalid entries are skipped. Memoised per array. */
function ranges(cidrs: readonly string[]): Range[] {
  let out = compiled.get(cidrs);
  if (!out) {
    out = [];
    for (const c of cidrs) {
      try {
        out.push(unmap(ipaddr.parseCIDR(c.trim())));
      } catch {
        // Not a CIDR: ignored here (config validation reports it).
      }
    }
    compiled.set(cidrs, out);
  }
  return out;
}

/** True when `cidr` parses as an IPv4 or IPv6 CIDR. */
export function isValidCidr(cidr: string): boolean {
  return ipaddr.isValidCIDR(cidr.trim());
}

/**
 * True when `ip` lies in one of `cidrs`. IPv4-mapped IPv6 addresses (`::ffff:10.1.2.3`) match
 * IPv4 ranges. A missing or unparseable address matches nothing.
 */
export function ipInNetworks(ip: unknown, cidrs: readonly string[]): boolean {
  if (typeof ip !== 'string' || cidrs.length === 0) return false;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(ip.trim());
  } catch {
    return false;
  }
  return ranges(cidrs).some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
}

/** True when `asn` (a number or numeric string) is one of `asns`. */
export function asnIn(asn: unknown, asns: readonly number[]): boolean {
  const n = toNumber(asn);
  return n !== undefined && asns.includes(n);
}
