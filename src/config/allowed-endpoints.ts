/**
 * The syntax of `ssf.allowed_endpoints` entries (host names, `host:port`, IP addresses or CIDRs):
 * config validation here, the SSRF guard that applies them in ssf/endpoint-policy.ts. Pure.
 */
import ipaddr from 'ipaddr.js';
import { RiskstreamError } from '../errors.js';
import { parseIp, type IpAddress } from '../net/address-class.js';

/** One parsed `ssf.allowed_endpoints` entry: a host name or an address range, optionally with a port. */
export type AllowedEndpoint = { kind: 'name'; host: string; port?: string } | { kind: 'net'; range: [IpAddress, number]; port?: string };

/** A host name without brackets or a trailing dot, lower case. */
export const bareHost = (host: string): string =>
  host
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();

/** A DNS name as an endpoint URL's host can be (after IDNA): labels of letters, digits, `-` and `_`. */
const HOST_NAME = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

function net(addr: IpAddress, bits?: number): [IpAddress, number] {
  return [addr, bits ?? (addr.kind() === 'ipv4' ? 32 : 128)];
}

/** Parses `ssf.allowed_endpoints` entries; throws CONFIG_INVALID on one that is none of the accepted forms. */
export function parseAllowedEndpoints(entries: readonly string[]): AllowedEndpoint[] {
  return entries.map((raw) => {
    const e = raw.trim();
    if (ipaddr.isValidCIDR(e)) {
      const [addr, bits] = ipaddr.parseCIDR(e);
      return { kind: 'net', range: net(addr, bits) };
    }
    const ip = parseIp(e);
    if (ip) return { kind: 'net', range: net(ip) };
    // Port 0 is no port a push can reach; above 65535 none at all (the URL parser said only "not a host").
    const portText = /:(\d+)$/.exec(e)?.[1];
    if (portText !== undefined && (Number(portText) < 1 || Number(portText) > 65535))
      throw new RiskstreamError('CONFIG_INVALID', `ssf.allowed_endpoints: "${e}" has port ${Number(portText)}: a port is 1 to 65535`);
    let u: URL;
    try {
      u = new URL(`http://${e}`);
    } catch {
      throw new RiskstreamError('CONFIG_INVALID', `ssf.allowed_endpoints: "${e}" is not a host, host:port or CIDR`);
    }
    if (u.pathname !== '/' || u.search || u.username || !u.hostname)
      throw new RiskstreamError('CONFIG_INVALID', `ssf.allowed_endpoints: "${e}" is not a host, host:port or CIDR`);
    const port = /:\d+$/.test(e) ? u.port || '80' : undefined;
    const host = parseIp(u.hostname);
    if (host) return { kind: 'net', range: net(host), ...(port ? { port } : {}) };
    // A name is compared whole with the endpoint's host: a wildcard (`*.example.com`) would match none.
    if (!HOST_NAME.test(bareHost(u.hostname)))
      throw new RiskstreamError('CONFIG_INVALID', `ssf.allowed_endpoints: "${e}" is not a host name (no wildcards: list each host, or a CIDR)`);
    return { kind: 'name', host: bareHost(u.hostname), ...(port ? { port } : {}) };
  });
}

/** What is wrong with `entry` as an `ssf.allowed_endpoints` entry (config validation); undefined when it is valid. */
export function allowedEndpointProblem(entry: string): string | undefined {
  try {
    parseAllowedEndpoints([entry]);
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^ssf\.allowed_endpoints: /, '');
  }
}

/** True when `entry` is a valid `ssf.allowed_endpoints` entry (config validation). */
export const isAllowedEndpointEntry = (entry: string): boolean => allowedEndpointProblem(entry) === undefined;
