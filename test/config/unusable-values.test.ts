/**
 * Values `riskstream config check` accepted although they cannot work (found by a config audit):
 * an empty stream or group name (the Redis key `""`), an empty bridged list name or mapped stream
 * name (a `""` key in `bridge.lists` / `mapping.streams`), an empty signing kid (left out of the JWKS),
 * an empty receiver audience or subject issuer, an empty `events` list (the receiver gets nothing),
 * an allowed endpoint on port 0, and `shutdown_timeout: 0s` (every drain step abandoned). Each is an
 * issue at its line now; the valid neighbours still load.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { issueLines, removeTempConfigs, tempConfig } from './temp-config.js';

const BEHAVIORS = 'brute_force:\n  risk_level: high\n';
const issuesOf = (main: string): string[] => issueLines(tempConfig({ 'riskstream.yaml': main, 'behaviors.yaml': BEHAVIORS }));
const RECEIVER = 'receivers:\n  - name: rx\n    kind: ssf\n    endpoint: https://rx.example.com/events\n';

afterEach(removeTempConfigs);

describe('an empty stream or group name is an issue', () => {
  it.each(['login', 'activity', 'dead_letter', 'risk_events', 'audit', 'group'])('streams.%s: ""', (key) => {
    expect(issuesOf(`streams:\n  ${key}: ""\n`)).toEqual([expect.stringMatching(new RegExp(`^2:\\d+ streams\\.${key}: `))]);
  });

  it('an empty streams.extra entry and an empty bridged target', () => {
    expect(issuesOf('streams:\n  extra: [okta, ""]\n')).toEqual([expect.stringMatching(/^2:\d+ streams\.extra\.1: /)]);
    expect(issuesOf('bridge:\n  lists:\n    vector: ""\n')).toEqual([expect.stringMatching(/^3:\d+ bridge\.lists\.vector: /)]);
  });

  it('an empty bridged list name and an empty mapped stream name (the Redis key ""), alone or beside a valid one', () => {
    expect(issuesOf('bridge:\n  lists:\n    "": riskstream:login\n')).toEqual([expect.stringMatching(/^3:\d+ bridge\.lists: /)]);
    expect(issuesOf('bridge:\n  lists:\n    vector: riskstream:login\n    "": riskstream:login\n')).toEqual([expect.stringMatching(/^4:\d+ bridge\.lists: /)]);
    expect(issuesOf('mapping:\n  streams:\n    "": okta\n')).toEqual([expect.stringMatching(/^3:\d+ mapping\.streams: /)]);
    // Said even while the stream names fail (mapped streams are then not checked against the inputs).
    expect(issuesOf('streams:\n  login: ""\nmapping:\n  streams:\n    "": okta\n')).toEqual([
      expect.stringMatching(/^2:\d+ streams\.login: /),
      expect.stringMatching(/^5:\d+ mapping\.streams: /),
    ]);
  });

  it('a named bridged list and a named mapped stream still load', () => {
    expect(issuesOf('bridge:\n  lists:\n    vector: riskstream:login\nmapping:\n  streams:\n    riskstream:login: okta\n')).toEqual([]);
  });

  it('named streams and group still load', () => {
    expect(issuesOf('streams:\n  login: l\n  activity: a\n  extra: [okta]\n  group: g\n  audit: au\n')).toEqual([]);
  });
});

describe('signing kids, receiver audience, subject issuer and events', () => {
  it('signing.kid: "" and a signing.keys kid ""', () => {
    expect(issuesOf('signing:\n  kid: ""\n')).toEqual([expect.stringMatching(/^2:\d+ signing\.kid: /)]);
    expect(issuesOf('signing:\n  keys:\n    - key_file: k.pem\n      kid: ""\n')).toEqual([expect.stringMatching(/^4:\d+ signing\.keys\.0\.kid: /)]);
  });

  it.each(['audience', 'subject_issuer'])('a receiver %s: ""', (key) => {
    expect(issuesOf(`${RECEIVER}    ${key}: ""\n`)).toEqual([expect.stringMatching(new RegExp(`^5:\\d+ receivers\\.0\\.${key}: `))]);
  });

  it('a receiver events: [] (it would get nothing); one kind, or the key left out, loads', () => {
    expect(issuesOf(`${RECEIVER}    events: []\n`)).toEqual([expect.stringMatching(/^5:\d+ receivers\.0\.events: /)]);
    expect(issuesOf(`${RECEIVER}    events: [session-revoked]\n`)).toEqual([]);
    expect(issuesOf(RECEIVER)).toEqual([]);
  });
});

describe('ports and the shutdown timeout', () => {
  it.each(['rx.internal:0', '127.0.0.1:0', '[::1]:0', 'rx.internal:65536'])('ssf.allowed_endpoints entry %s', (entry) => {
    expect(issuesOf(`ssf:\n  allowed_endpoints: ["${entry}"]\n`)).toEqual([expect.stringMatching(/^2:\d+ ssf\.allowed_endpoints\.0: /)]);
  });

  it('ports 1 and 65535 load', () => {
    expect(issuesOf('ssf:\n  allowed_endpoints: ["rx.internal:1", "10.0.0.1:65535", "[::1]:8443"]\n')).toEqual([]);
  });

  it('shutdown_timeout: 0s abandons every drain step (src/runtime/shutdown.ts): an issue; 1s loads', () => {
    expect(issuesOf('shutdown_timeout: 0s\n')).toEqual([expect.stringMatching(/^1:\d+ shutdown_timeout: /)]);
    expect(issuesOf('shutdown_timeout: 1s\n')).toEqual([]);
  });
});

describe('sessions.redact_claims names claims only', () => {
  it.each(['device.serial', 'network.asn', 'geo.city', 'session.idp', 'Device.Serial'])(
    '%s (a field of the identity outside its claims, which redact_claims never touched) is an issue',
    (path) => {
      expect(issuesOf(`sessions:\n  redact_claims: [ssn, "${path}"]\n`)).toEqual([expect.stringMatching(/^2:\d+ sessions\.redact_claims\.1: /)]);
    },
  );

  it('claim names and paths under the claims load: a name, claims.…, session.claims.…, a nested claim path, a URI-named claim', () => {
    expect(
      issuesOf('sessions:\n  redact_claims: [ssn, claims.device.serial, session.claims.ssn, address.street, "https://example.com/device.id", device]\n'),
    ).toEqual([]);
  });
});
