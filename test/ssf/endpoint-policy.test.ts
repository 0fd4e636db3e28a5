import { createServer as httpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { riskstreamSchema } from '../../src/config/schema.js';
import { isRiskstreamError } from '../../src/errors.js';
import { isAllowedEndpointEntry } from '../../src/config/allowed-endpoints.js';
import { classifyAddress, isPublicAddress } from '../../src/net/address-class.js';
import { EndpointPolicy, type ResolvedAddress, type Resolver } from '../../src/ssf/endpoint-policy.js';
import { pushSet } from '../../src/ssf/push-client.js';

const SET = 'eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ4In0.c2ln';

/** A resolver that knows only the names it is given (never real DNS), recording each question. */
function fakeResolver(answers: Record<string, string[] | (() => string[])>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const fn = async (host: string): Promise<ResolvedAddress[]> => {
    asked.push(host);
    const a = answers[host];
    if (!a) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
    return (typeof a === 'function' ? a() : a).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(fn, { asked });
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isRiskstreamError(err, 'ENDPOINT_REFUSED')) return String(err.details?.reason);
    throw err;
  }
  throw new Error('not refused');
}

/** A TCP server on loopback that counts connections (and never answers). */
async function countingServer(host = '127.0.0.1'): Promise<{ server: Server; port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return { server, port: (server.address() as AddressInfo).port, connections: () => n };
}

const closers: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of closers) await c();
});

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    // IPv6 encodings of IPv4 are judged by the IPv4 address they carry.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['::ffff:0:a00:1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'linkLocal'],
    ['2002:c0a8:101::1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['64:ff9b:1::1', 'rfc6052'],
    ['2001::1', 'teredo'],
    ['[::1]', 'loopback'],
    ['not-an-ip', 'invalid'],
    ['0x7f000001', 'invalid'],
  ])('%s is %s', (ip, range) => {
    expect(classifyAddress(ip)).toBe(range);
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each(['8.8.8.8', '93.184.216.34', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])('%s is public', (ip) => {
    expect(classifyAddress(ip)).toBe('public');
  });
});

describe('EndpointPolicy (default: https to public addresses only)', () => {
  const resolver = fakeResolver({ 'rx.example': ['93.184.216.34'], localhost: ['127.0.0.1', '::1'], 'internal.example': ['93.184.216.34', '10.0.0.7'] });
  const policy = new EndpointPolicy([], resolver);

  it.each([
    'https://127.0.0.1/events',
    'https://localhost/events',
    'https://LOCALHOST./events',
    'https://0x7f000001/events',
    'https://2130706433/events',
    'https://0177.0.0.1/events',
    'https://127.1/events',
    'https://[::1]/events',
    'https://[::ffff:127.0.0.1]/events',
    'https://[::ffff:7f00:1]/events',
    'https://[64:ff9b::7f00:1]/events',
    'https://10.0.0.1/events',
    'https://169.254.169.254/latest/meta-data',
    'https://100.64.0.1/',
    'https://172.16.0.1/',
    'https://192.168.0.1/',
    'https://[fe80::1]/',
    'https://[fc00::1]/',
    'https://224.0.0.1/',
    'https://0.0.0.0/',
    'https://0/',
    'https://255.255.255.255/',
    'https://internal.example/', // one public and one private answer: refused
  ])('refuses %s (address)', async (url) => {
    expect(await refusal(policy.pin(url))).toBe('address');
  });

  it('refuses plain http, other schemes and garbage', async () => {
    expect(await refusal(policy.pin('http://rx.example/events'))).toBe('scheme');
    expect(await refusal(policy.pin('ftp://rx.example/events'))).toBe('scheme');
    expect(await refusal(policy.pin('not a url'))).toBe('invalid_url');
    expect(await refusal(policy.pin('https://nowhere.example/'))).toBe('unresolvable');
  });

  it('accepts https to a public address and pins the address it checked', async () => {
    await expect(policy.pin('https://rx.example/events')).resolves.toMatchObject({ address: '93.184.216.34', family: 4 });
    await expect(policy.pin('https://8.8.8.8/events')).resolves.toMatchObject({ address: '8.8.8.8' });
  });

  it('resolves again at each check: a DNS answer that turns to loopback is refused (rebinding)', async () => {
    let n = 0;
    const rebinding = new EndpointPolicy([], fakeResolver({ 'rebind.example': () => (n++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']) }));
    await expect(rebinding.pin('https://rebind.example/x')).resolves.toMatchObject({ address: '93.184.216.34' });
    expect(await refusal(rebinding.pin('https://rebind.example/x'))).toBe('address');
  });
});

describe('ssf.allowed_endpoints', () => {
  const resolver = fakeResolver({ localhost: ['127.0.0.1'], 'rx.internal': ['10.0.0.5'], 'other.internal': ['10.9.9.9'] });

  it('a listed IP, host, host:port or CIDR may be plain http and non-public', async () => {
    await expect(new EndpointPolicy(['127.0.0.1'], resolver).pin('http://127.0.0.1:8080/events')).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(new EndpointPolicy(['127.0.0.1'], resolver).pin('http://localhost:8080/events')).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(new EndpointPolicy(['rx.internal'], resolver).pin('http://rx.internal/events')).resolves.toMatchObject({ address: '10.0.0.5' });
    await expect(new EndpointPolicy(['10.0.0.0/8'], resolver).pin('https://other.internal/events')).resolves.toMatchObject({ address: '10.9.9.9' });
    await expect(new EndpointPolicy(['localhost:8080'], resolver).pin('http://localhost:8080/')).resolves.toBeDefined();
    await expect(new EndpointPolicy(['[::1]:9000'], resolver).pin('http://[::1]:9000/')).resolves.toMatchObject({ address: '::1', family: 6 });
  });

  it('what is not listed stays refused', async () => {
    expect(await refusal(new EndpointPolicy(['localhost:8080'], resolver).pin('http://localhost:8081/'))).toBe('scheme');
    expect(await refusal(new EndpointPolicy(['localhost:8080'], resolver).pin('https://localhost:8081/'))).toBe('address');
    expect(await refusal(new EndpointPolicy(['rx.internal'], resolver).pin('https://other.internal/'))).toBe('address');
    expect(await refusal(new EndpointPolicy(['127.0.0.1'], resolver).pin('http://[::1]/'))).toBe('scheme');
  });

  it('entries are validated, in the config too', () => {
    for (const ok of ['127.0.0.1', '10.0.0.0/8', 'fd00::/8', 'rx.internal', 'rx.internal:8443', '[::1]:9000', '::1'])
      expect(isAllowedEndpointEntry(ok), ok).toBe(true);
    for (const bad of ['http://x/y', 'a b', 'x/y', 'user@host']) expect(isAllowedEndpointEntry(bad), bad).toBe(false);
    // A wildcard was accepted and matched no endpoint (a black-box walk of CONTRACT §3): refused, as any name no host has.
    for (const bad of ['*.example.com', '*.rx.internal:8443', 'rx.*', 'rx!.internal']) expect(isAllowedEndpointEntry(bad), bad).toBe(false);
    for (const ok of ['_svc.rx.internal', 'bücher.example', 'RX.Internal.']) expect(isAllowedEndpointEntry(ok), ok).toBe(true);
    expect(riskstreamSchema.safeParse({ ssf: { allowed_endpoints: ['10.0.0.0/8', 'rx.internal:8443'] } }).success).toBe(true);
    expect(riskstreamSchema.safeParse({ ssf: { allowed_endpoints: ['https://rx.internal/events'] } }).success).toBe(false);
  });
});

describe('pushSet under a policy', () => {
  it('connects to the address the policy checked, not to a second DNS answer', async () => {
    // The receiver listens on 127.0.0.2 only; the system's answer for "localhost" is 127.0.0.1 / ::1.
    const rx = await startReceiverOn('127.0.0.2');
    closers.push(rx.close);
    const port = new URL(rx.url).port;
    const policy = new EndpointPolicy(['localhost'], fakeResolver({ localhost: ['127.0.0.2'] }));
    const out = await pushSet({ endpoint: `http://localhost:${port}/events`, set: SET, timeoutMs: 3000, policy });
    expect(out).toEqual({ kind: 'delivered', status: 202 });
    expect(rx.requests).toHaveLength(1);
  });

  it('a refused endpoint is refused before any connection', async () => {
    const srv = await countingServer();
    closers.push(() => void srv.server.close());
    const policy = new EndpointPolicy([], fakeResolver({ localhost: ['127.0.0.1'] }));
    for (const host of ['127.0.0.1', 'localhost', '0x7f000001', '[::ffff:127.0.0.1]']) {
      const out = await pushSet({ endpoint: `https://${host}:${srv.port}/events`, set: SET, timeoutMs: 3000, policy });
      expect(out, host).toMatchObject({ kind: 'refused', reason: 'address' });
    }
    const out = await pushSet({ endpoint: `http://127.0.0.1:${srv.port}/events`, set: SET, timeoutMs: 3000, policy });
    expect(out).toMatchObject({ kind: 'refused', reason: 'scheme' });
    expect(srv.connections()).toBe(0);
  });
});

/** startReceiver, but listening on another loopback address. */
async function startReceiverOn(host: string): Promise<{ url: string; requests: unknown[]; close: () => Promise<void> }> {
  const requests: unknown[] = [];
  const server = httpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests.push(req.url);
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/events`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
