import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The pure tests: no Redis, no network, no child processes — `npm run test:unit` runs only these
 * (seconds). Their project's setup file refuses every socket, so a test listed here that needs I/O
 * fails at once. A test file not listed runs in the `io` project; `npm test` runs all three.
 */
const UNIT = [
  'test/detect/*.test.ts',
  'test/api/auth-throttle.test.ts',
  'test/engine/apply.test.ts',
  'test/engine/script-data-error.test.ts',
  'test/engine/set-sequences.test.ts',
  'test/engine/stall.test.ts',
  'test/sessions/baseline.test.ts',
  'test/engine/commit-ops.golden.test.ts',
  'test/risk/retention.test.ts',
  'test/engine/assignment.test.ts',
  'test/engine/partition.test.ts',
  'test/config/load.test.ts',
  'test/config/behavior-params.test.ts',
  'test/console/dist.test.ts',
  'test/ingest/body-records.test.ts',
  'test/ingest/decode.test.ts',
  'test/ingest/event-rules.test.ts',
  'test/ingest/event-schema.test.ts',
  'test/ingest/geoip.test.ts',
  'test/ingest/geo-rules.test.ts',
  'test/ingest/http-body.test.ts',
  'test/ingest/poison.test.ts',
  'test/ingest/profiles.test.ts',
  'test/ingest/profiles-credential.test.ts',
  'test/ingest/time-window.test.ts',
  'test/redis/ttl.test.ts',
  'test/risk/expiry.property.test.ts',
  'test/risk/reducer.test.ts',
  'test/risk/disabled-behavior.test.ts',
  'test/risk/state.test.ts',
  'test/runtime/shutdown.test.ts',
  'test/secrets/scrub.test.ts',
  'test/sessions/identity.test.ts',
  'test/ssf/keys.test.ts',
  'test/ssf/reason-text.test.ts',
  'test/ssf/set-builder.test.ts',
  'test/ssf/stream-owner.test.ts',
  'test/ssf/stream-receiver.test.ts',
  'test/ssf/transmitter-supplied.test.ts',
];

/**
 * Tests on the local Redis Cluster (scripts/ensure-redis-cluster.sh): they fail nodes over and
 * share the one cluster, so the `cluster` project runs its files one at a time in a single fork
 * (alongside the other projects, which do not use the cluster). A test that uses the cluster goes here.
 */
const CLUSTER = ['test/cluster/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT, setupFiles: ['test/helpers/no-network.ts'], pool: 'threads' } },
      { extends: true, test: { name: 'io', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...UNIT, ...CLUSTER] } },
      { extends: true, test: { name: 'cluster', include: CLUSTER, poolOptions: { forks: { singleFork: true } } } },
    ],
  },
});
