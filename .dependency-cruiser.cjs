/**
 * Layering of riskstream's source (`npm run deps`; CI runs it after lint). Dependencies point one way:
 *
 *   cli, runtime, pipelines  (composition)
 *     → api                  (admin HTTP API)
 *     → ingest, risk, ssf, sessions, audit, engine   (domain)
 *     → config               (YAML loading and schemas, built from detect's registry)
 *     → detect               (pure detectors and their parameter schemas)
 *     → base: types, event-types, errors, keys, stream-markers, duration, login, country-code, country-alpha3, package-root, make-dirs, redis, obs, secrets, net
 *
 * Type-only imports count (tsPreCompilationDeps), for cycles too. To add a folder, put it in
 * one of the LAYERS below.
 */
const LAYERS = {
  composition: ['src/cli', 'src/runtime', 'pipelines'],
  api: ['src/api'],
  domain: ['src/engine', 'src/ingest', 'src/risk', 'src/ssf', 'src/sessions', 'src/audit'],
  config: ['src/config'],
  detect: ['src/detect'],
  base: [
    'src/types.ts',
    'src/event-types.ts',
    'src/attachment.ts',
    'src/errors.ts',
    'src/keys.ts',
    'src/stream-markers.ts',
    'src/delivery-keys.ts',
    'src/partition.ts',
    'src/duration.ts',
    'src/text.ts',
    'src/country-code.ts',
    'src/country-alpha3.ts',
    'src/login.ts',
    'src/package-root.ts',
    'src/make-dirs.ts',
    'src/redis',
    'src/obs',
    'src/secrets',
    'src/net',
  ],
};

/** A path regex matching every folder/file of the given layers. */
const re = (...layers) =>
  `^(${layers
    .flatMap((l) => LAYERS[l])
    .map((p) => p.replace(/\./g, '\\.'))
    .join('|')})(/|$)`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'base-imports-base-only',
      severity: 'error',
      comment: 'types, errors, keys, duration, redis, obs, secrets, net know nothing of the rest.',
      from: { path: re('base') },
      to: { path: '^(src|pipelines)/', pathNot: re('base') },
    },
    {
      name: 'detect-is-pure-core',
      severity: 'error',
      comment: 'Detectors are pure and own their params: they import only base (never config, never I/O).',
      from: { path: re('detect') },
      to: { path: `^(src|pipelines)/|^(ioredis|bullmq|fastify|pino|node:(fs|net|http|https|dns|child_process))`, pathNot: `${re('detect', 'base')}` },
    },
    {
      name: 'config-below-domain',
      severity: 'error',
      comment: 'config may import detect (its registry builds the behaviors schema) and base; ingest/profiles is validated at load.',
      from: { path: re('config') },
      to: { path: '^(src|pipelines)/', pathNot: `${re('config', 'detect', 'base')}|^src/ingest/profiles/` },
    },
    {
      name: 'domain-below-api',
      severity: 'error',
      comment: 'Domain folders never import the API, the CLI, the runtime or pipelines.',
      from: { path: re('domain') },
      to: { path: re('api', 'composition') },
    },
    {
      name: 'api-below-composition',
      severity: 'error',
      comment: 'The API never imports the CLI, the runtime or pipelines.',
      from: { path: re('api') },
      to: { path: re('composition') },
    },
    {
      name: 'pipelines-compose-domain',
      severity: 'error',
      comment: 'pipelines/ compose domain parts; they never import the CLI or the runtime.',
      // runtime/ (the composition root) imports pipelines/, never the other way (docs/architecture.md).
      from: { path: '^pipelines/' },
      to: { path: '^src/(cli|runtime|api)/' },
    },
    {
      name: 'every-module-in-a-layer',
      severity: 'error',
      comment: 'A module outside LAYERS: add its folder to one of them.',
      from: {},
      to: { path: '^(src|pipelines)/', pathNot: re(...Object.keys(LAYERS)) },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
