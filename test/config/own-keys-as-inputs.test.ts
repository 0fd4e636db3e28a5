/**
 * An input stream or a bridged list named as one of riskstream's own keys (found by a black-box walk
 * of CONTRACT §3): `replay --stream` refused such a key, config check passed it and the worker read
 * it as input (a partition stream's routed entries routed again) or made its key a stream.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { issueLines, removeTempConfigs, tempConfig } from './temp-config.js';

const BEHAVIORS = 'brute_force:\n  risk_level: high\n';
const issuesOf = (main: string): string[] => issueLines(tempConfig({ 'riskstream.yaml': main, 'behaviors.yaml': BEHAVIORS }));

afterEach(removeTempConfigs);

describe("riskstream's own keys are no input", () => {
  it.each(['rs:{p0}:in', 'rs:engine:partitions', '{rs:login}:routed-top', 'rs:{r:0}:lease'])('streams.extra naming %s is an issue at it', (key) => {
    expect(issuesOf(`redis:\n  prefix: rs\nstreams:\n  extra: ["${key}"]\n`)).toEqual([expect.stringMatching(/^4:\d+ streams\.extra\[0\]: /)]);
  });

  it('a bridged list named as an input stream or one of the keys is an issue at it; its own key is not', () => {
    const main = (list: string): string => `redis:\n  prefix: rs\nbridge:\n  lists:\n    "${list}": rs:login\n`;
    expect(issuesOf(main('rs:login'))).toEqual([expect.stringMatching(/^5:\d+ bridge\.lists\.rs:login: /)]);
    expect(issuesOf(main('rs:{p1}:in'))).toEqual([expect.stringMatching(/^5:\d+ bridge\.lists\.rs:\{p1\}:in: /)]);
    expect(issuesOf(main('rs:bridge:vector'))).toEqual([]);
  });

  it('login and activity sharing one stream, and the default names, are still fine', () => {
    expect(issuesOf('redis:\n  prefix: rs\nstreams:\n  login: rs:events\n  activity: rs:events\n')).toEqual([]);
    expect(issuesOf('redis:\n  prefix: rs\n')).toEqual([]);
  });
});
