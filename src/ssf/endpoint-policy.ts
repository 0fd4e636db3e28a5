/**
 * Where self-registered SSF streams may push (SSRF guard). By default only https to public
 * addresses; `ssf.allowed_endpoints` (host names, `host:port`, IP addresses or CIDRs) lists
 * receivers an admin trusts, which may also be plain http and non-public. The host is resolved
 * once per check and the address that passed is what the connection uses ({@link pinnedLookup}),
 * so a DNS answer that changes between the check and the connect cannot redirect it.
 */
import { lookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { RiskstreamError } from '../errors.js';
import { bareHost, parseAllowedEndpoints, type AllowedEndpoint } from '../config/allowed-endpoints.js';
import { classifyAddress, parseIp, type IpAddress } from '../net/address-class.js';

/** One resolved address. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to its addresses (injectable: tests never use real DNS for other names). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/**
 * getaddrinfo runs on libuv's small thread pool (shared with file and crypto work): at most this
 * many lookups for stream endpoints run at once, so a receiver whose DNS is slow cannot take it all.
 */
export const MAX_LOOKUPS = 2;
let lookups = 0;
const waiting: Array<() => void> = [];

/** The system resolver (getaddrinfo, every address; {@link MAX_LOOKUPS} at a time). */
export const systemResolver: Resolver = async (hostname) => {
  if (lookups < MAX_LOOKUPS) lookups++;
  else await new Promise<void>((r) => waiting.push(r)); // a finishing lookup hands its slot over
  try {
    return (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  } finally {
    const next = waiting.shift();
    if (next) next();
    else lookups--;
  }
};

/** Why an endpoint was refused (`details.reason` of the ENDPOINT_REFUSED error). */
export type RefusalReason = 'invalid_url' | 'scheme' | 'address' | 'unresolvable';

function refuse(reason: RefusalReason, message: string, extra: Record<string, unknown> = {}): never {
  throw new RiskstreamError('ENDPOINT_REFUSED', message, { reason, ...extra });
}

function inNet(addr: IpAddress, [range, bits]: [IpAddress, number]): boolean {
  const a = addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() ? (addr as ipaddr.IPv6).toIPv4Address() : addr;
  const r =
    range.kind() === 'ipv6' && (range as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96
      ? ([(range as ipaddr.IPv6).toIPv4Address(), bits - 96] as const)
      : ([range, bits] as const);
  return a.kind() === r[0].kind() && a.match(r[0], r[1]);
}

/** The address a connection to an allowed endpoint must use. */
export interface PinnedEndpoint extends ResolvedAddress {
  url: URL;
}

/** Checks endpoints of self-registered streams against the policy. */
export class EndpointPolicy {
  private readonly entries: AllowedEndpoint[];

  constructor(
    allowed: readonly string[] = [],
    private readonly resolve: Resolver = systemResolver,
  ) {
    this.entries = parseAllowedEndpoints(allowed);
  }

  /**
   * Resolves `endpoint`'s host once and checks it: https to public addresses, or a listed
   * endpoint. Returns the URL and the address to connect to; throws ENDPOINT_REFUSED (with
   * `details.reason`) otherwise. Never opens a connection.
   */
  async pin(endpoint: string): Promise<PinnedEndpoint> {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return refuse('invalid_url', 'endpoint_url must be an absolute https URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') refuse('scheme', 'endpoint_url must be an https URL');
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const host = bareHost(url.hostname);
    const portOk = (p?: string): boolean => p === undefined || p === port;
    const byName = this.entries.some((e) => e.kind === 'name' && e.host === host && portOk(e.port));
    const addresses = await this.addresses(url.hostname, host);
    const listed = (a: ResolvedAddress): boolean => {
      const ip = parseIp(a.address)!;
      return this.entries.some((e) => e.kind === 'net' && inNet(ip, e.range) && portOk(e.port));
    };
    const allListed = byName || addresses.every(listed);
    if (!allListed && url.protocol !== 'https:') refuse('scheme', 'endpoint_url must be https (plain http only for endpoints in ssf.allowed_endpoints)');
    if (!byName) {
      const bad = addresses.find((a) => !listed(a) && classifyAddress(a.address) !== 'public');
      if (bad)
        refuse(
          'address',
          `endpoint_url resolves to a ${classifyAddress(bad.address)} address, which self-registered streams may not use (see ssf.allowed_endpoints)`,
          { range: classifyAddress(bad.address) },
        );
    }
    return { url, ...addresses[0]! };
  }

  /** Like {@link pin}, for registration: resolves and refuses, keeps nothing. */
  async check(endpoint: string): Promise<void> {
    await this.pin(endpoint);
  }

  private async addresses(hostname: string, host: string): Promise<ResolvedAddress[]> {
    const literal = parseIp(hostname);
    if (literal) return [{ address: literal.toString(), family: literal.kind() === 'ipv4' ? 4 : 6 }];
    let found: ResolvedAddress[];
    try {
      found = await this.resolve(host);
    } catch {
      found = [];
    }
    const valid = found.filter((a) => parseIp(a.address));
    if (!valid.length) refuse('unresolvable', 'endpoint_url host does not resolve');
    return valid;
  }
}

/** A `lookup` for node:http(s) that answers with the pinned address only (never asks DNS). */
export function pinnedLookup(pinned: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  };
}
