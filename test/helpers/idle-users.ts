/** The idle users' tests' (test/engine/forget-idle.test.ts, idle-backfill.test.ts) behaviors, events and routed items. */
import type { Redis } from 'ioredis';
import { PartitionOwner, type OwnerParts } from '../../src/engine/owner.js';
import type { Keys } from '../../src/keys.js';
import { QUIET_OWNER } from './owner-steps.js';
import type { RoutedItem } from '../../src/engine/routed.js';
import type { CanonicalEvent } from '../../src/types.js';
import { behavior } from './behavior-config.js';

const DAY = 86_400_000;

/** brute_force, new_country, endpoint_detection (high) and a low dlp_detection that never expires (an active behavior raising no level). */
export const IDLE_BEHAVIORS = [
  behavior('brute_force', { enabled: true, risk_level: 'high', expires_after: '24h', failures: 10, window: '10m' }),
  behavior('new_country', { enabled: true, risk_level: 'medium', expires_after: '24h', baseline: '30d', learning: '7d' }),
  behavior('endpoint_detection', { enabled: true, risk_level: 'high', expires_after: '6h', min_severity: 'high' }),
  behavior('dlp_detection', { enabled: true, risk_level: 'low', expires_after: 'never', min_severity: 'high' }),
];
export const IDLE_LIMITS = { maxLogins: 10, maxAge: DAY, allowedLateness: 10 * 60_000 };

/** An owner's session audit that stores nothing. */
const NO_SESSIONS: OwnerParts['sessions'] = {
  build: () => [],
  prepare: () => ({ ops: [], finish: async () => ({ stored: 0, skipped: 0, dropped: [] }) }),
  after: async () => undefined,
};

/** The owner of partition 0 under `token` (session audit off, a commit per item; commit errors thrown), `now` its commits' clock. */
export function ownerOfP0(
  clients: { redis: Redis; reader: Redis },
  keys: Keys,
  now: number,
  parts: Pick<OwnerParts, 'context'> & Partial<OwnerParts>,
  token = 'w#1',
): PartitionOwner {
  const all: OwnerParts = { settings: () => ({ eventsMaxlen: 1000, now }), sessions: NO_SESSIONS, ...QUIET_OWNER, ...parts };
  const o = new PartitionOwner(clients.redis, clients.reader, keys, { lruSize: 1000, readCount: 500, commitInterval: 0, commitEntries: 1 }, all);
  o.acquire(0, token);
  return o;
}

let seq = 0;
/** An item arriving at `at` (its order key), a sequence keeping keys unique and increasing. */
export const item = (e: CanonicalEvent, at: number): RoutedItem & { e: CanonicalEvent } => ({ k: [at, seq++], s: 'in', i: `${at}-${seq}`, e });
export const failed = (user: string, time: number): CanonicalEvent => ({
  type: 'login',
  id: `f-${user}-${time}`,
  user,
  time,
  outcome: 'failure',
  ip: '203.0.113.9',
});
/** A critical endpoint detection: endpoint_detection's high hit. */
export const critical = (user: string, time: number): CanonicalEvent => ({
  type: 'endpoint',
  id: `x-${user}-${time}`,
  user,
  time,
  device: { id: 'd-1' },
  vendor: 'crowdstrike',
  detection: 'malware',
  severity: 'critical',
});
/** A high DLP detection: dlp_detection's low hit. */
export const dlp = (user: string, time: number): CanonicalEvent => ({
  type: 'dlp',
  id: `d-${user}-${time}`,
  user,
  time,
  profile: 'pci',
  severity: 'high',
  action: 'block',
});
