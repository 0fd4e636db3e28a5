import { Keys } from '../keys.js';
import { MAX_SOURCES } from '../partition.js';
import type { RiskstreamFileConfig } from './schema.js';
import { ownStreamRole, streamNames } from './stream-names.js';

/**
 * Streams the worker writes (dead letters, risk events, audit) that are also one it reads, or one
 * another of them writes: the worker would read its own output back (a dead letter dead-lettered
 * again, for ever) or mix two kinds of entries in one stream. An input that is the control stream
 * (its events read as control messages). And more input streams than the router
 * reads (its entry ids carry the source's index, the control stream one of them).
 */
export function streamClashes(
  raw: RiskstreamFileConfig,
  at: (path: PropertyKey[]) => { line: number; col: number },
): Array<{ line: number; col: number; message: string }> {
  const s = raw.streams;
  const names = streamNames(raw);
  const named: Array<[string, string, PropertyKey[]]> = [
    ['streams.login', names.login, ['streams', 'login']],
    ['streams.activity', names.activity, ['streams', 'activity']],
    ...s.extra.map((x, i): [string, string, PropertyKey[]] => [`streams.extra[${i}]`, x, ['streams', 'extra', i]]),
    ['the control stream', new Keys(raw.redis.prefix).controlStream, ['redis', 'prefix']],
  ];
  const outputs: Array<[string, string, PropertyKey[]]> = [
    ['streams.dead_letter', names.deadLetter, ['streams', 'dead_letter']],
    ['streams.risk_events', names.riskEvents, ['streams', 'risk_events']],
    ['streams.audit', names.audit, ['streams', 'audit']],
  ];
  const out: Array<{ line: number; col: number; message: string }> = [];
  // An input that is the control stream: its events would be read as control messages (dead-lettered, never scored).
  for (const [name, stream, path] of named.slice(0, -1))
    if (stream === named.at(-1)![1])
      out.push({
        ...at(path),
        message: `${name}: "${stream}" is the control stream (riskstream's own): its events would be read as control messages, never scored; give the input its own stream`,
      });
  // An input that is another of riskstream's keys (a partition stream, an engine key, an input's routed
  // mark): the worker would read its own entries as events, or its key would become a stream. (Its
  // outputs and the control stream are said at their own place.)
  const said = new Set([names.deadLetter, names.riskEvents, names.audit, named.at(-1)![1]]);
  for (const [name, stream, path] of named.slice(0, -1)) {
    const role = said.has(stream) ? undefined : ownStreamRole({ ...names, inputs: names.inputs.filter((x) => x !== stream) }, raw.redis.prefix, stream);
    if (role) out.push({ ...at(path), message: `${name}: "${stream}" is ${role}, riskstream's own: give the input its own stream` });
  }
  if (names.inputs.length > MAX_SOURCES - 1)
    out.push({
      ...at(['streams', 'extra']),
      message: `streams.extra: at most ${MAX_SOURCES - 1} input streams (streams.login, streams.activity and streams.extra together; ${names.inputs.length} given)`,
    });
  outputs.forEach(([name, stream, path], i) => {
    for (const [other, otherStream] of [...named, ...outputs.slice(0, i)]) {
      if (stream !== otherStream) continue;
      const where = s[path[1] as 'dead_letter'] !== undefined ? path : (named.find((n) => n[0] === other)?.[2] ?? path);
      out.push({
        ...at(where),
        message: `${name}: "${stream}" is also ${other}: the worker writes one and reads or writes the other; give each its own stream`,
      });
    }
  });
  return out;
}

/** What names a stream that is not an input stream. */
const NOT_INPUT = 'is not an input stream (streams.login, streams.activity or streams.extra)';

/**
 * Streams named as inputs that are not input streams: bridged lists' (`bridge.lists`) — the bridge
 * would empty the shipper's list into a stream nothing reads (a typo, a stream not in
 * `streams.extra`), or into one of riskstream's own (the control stream: admin resets from a
 * shipper) — and mapped streams (`mapping.streams`) — the profile never applies, and what a shipper
 * sends there is never read. Never scored, never dead-lettered: refused.
 */
export function inputTargetIssues(
  raw: RiskstreamFileConfig,
  at: (path: PropertyKey[]) => { line: number; col: number },
  judgeMapping = true,
): Array<{ line: number; col: number; message: string }> {
  const names = streamNames(raw);
  const inputs = new Set(names.inputs);
  const out: Array<{ line: number; col: number; message: string }> = [];
  for (const [list, stream] of Object.entries(raw.bridge.lists)) {
    // A key is a list or a stream: a bridged list named as a stream (or another key of riskstream's) could be neither.
    const role = inputs.has(list) ? 'an input stream' : ownStreamRole(names, raw.redis.prefix, list);
    if (role) out.push({ ...at(['bridge', 'lists', list]), message: `bridge.lists.${list}: the list "${list}" is ${role}: give the list its own key` });
    if (!inputs.has(stream))
      out.push({ ...at(['bridge', 'lists', list]), message: `bridge.lists.${list}: "${stream}" ${NOT_INPUT}: nothing would read what the bridge moves there` });
  }
  // Not against the default names while streams or redis fails (`judgeMapping` false).
  for (const stream of judgeMapping ? Object.keys(raw.mapping.streams) : []) {
    if (!inputs.has(stream))
      out.push({
        ...at(['mapping', 'streams', stream]),
        message: `mapping.streams.${stream}: "${stream}" ${NOT_INPUT}: nothing reads it, so its profile never applies`,
      });
  }
  return out;
}
