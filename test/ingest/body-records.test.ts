import { describe, expect, it } from 'vitest';
import { BodyGate } from '../../src/ingest/body-gate.js';
import { splitBody } from '../../src/ingest/body-records.js';
import { isRiskstreamError, RiskstreamError } from '../../src/errors.js';

const texts = (input: string, max?: number): string[] => {
  const b = splitBody(input, max);
  const out: string[] = [];
  for (let i = 0; i < b.spans.length; i += 2) out.push(b.text.slice(b.spans[i], b.spans[i + 1]));
  return out;
};

describe('splitBody: records found without parsing them', () => {
  it('NDJSON lines, arrays (strings with brackets, commas and escapes), wrappers, one pretty value', () => {
    expect(texts('{"a":1}\r\n\n  {"b":"x\\"]}"}\n')).toEqual(['{"a":1}', '{"b":"x\\"]}"}']);
    expect(texts('[{"a":"],["}, {"b":[1,2]} ,3,"s"]')).toEqual(['{"a":"],["}', '{"b":[1,2]}', '3', '"s"']);
    expect(texts('{"meta":{"user":"x"},"records":[{"a":1},{"b":2}]}')).toEqual(['{"a":1}', '{"b":2}']);
    expect(texts('{"user":"u","events":[1]}')).toEqual(['{"user":"u","events":[1]}']);
    expect(texts('{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns","value":[{"a":1}]}')).toEqual(['{"a":1}']);
    expect(texts('{\n  "a": 1\n}\n')).toEqual(['{\n  "a": 1\n}']);
    expect(texts(' \n')).toEqual([]);
  });

  it('counts while splitting and stops past the limit (PAYLOAD_TOO_LARGE), whatever the framing', () => {
    for (const body of ['{}\n'.repeat(11), `[${Array(11).fill('{}').join(',')}]`, `{"events":[${Array(11).fill('{}').join(',')}]}`]) {
      let err: unknown;
      try {
        splitBody(body, 10);
      } catch (e) {
        err = e;
      }
      expect(isRiskstreamError(err, 'PAYLOAD_TOO_LARGE'), body.slice(0, 20)).toBe(true);
      expect(texts(body, 11)).toHaveLength(11);
    }
  });

  it('a long run of blank lines is scanned once (was once per line: 100 000 newlines held the event loop 16 s)', () => {
    for (const blank of ['\n', '\r\n', ' \n']) {
      const body = blank.repeat(100_000) + '{"a":1}\n' + blank.repeat(10) + '{"b":2}';
      const t = performance.now();
      const b = splitBody(body, 10);
      expect(performance.now() - t).toBeLessThan(5000);
      expect(b.lines).toEqual([100_001, 100_012]);
      expect(texts(body)).toEqual(['{"a":1}', '{"b":2}']);
    }
  });

  it("Fluent Bit's format json_stream: objects back to back (no separator) are each a record; a line that is not only whole objects stays one", () => {
    expect(texts('{"a":1}{"b":"}{"}{"c":[{}]}\n{"d":4}')).toEqual(['{"a":1}', '{"b":"}{"}', '{"c":[{}]}', '{"d":4}']);
    expect(splitBody('{"a":1}{"b":2}\n{"c":3}{"d":4}').lines).toEqual([1, 1, 2, 2]);
    // Left as one record (its JSON refused as before): a broken object, trailing text, a string holding "}{".
    for (const line of ['{"a":1}{"b":', '{"a":1}{"b":2} x', '{"a":1}[1]', '{"a":"}{"}']) expect(texts(`${line}\n{"z":0}`)).toEqual([line, '{"z":0}']);
    // Counted as records: past the limit, PAYLOAD_TOO_LARGE.
    expect(() => splitBody('{}'.repeat(11), 10)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    // Each line is scanned within itself: lines of unclosed objects do not rescan the body.
    const body = '{"a":1}{\n'.repeat(50_000);
    const t = performance.now();
    expect(splitBody(body).spans).toHaveLength(100_000);
    expect(performance.now() - t).toBeLessThan(5000);
  });

  it('a line of objects back to back is refused as soon as its objects pass the limit (a 5 MB line of `{}` was scanned and held whole first: 1.3 s of event loop)', () => {
    // Trailing text makes the line one record when scanned whole (as before: no error, one record), so
    // PAYLOAD_TOO_LARGE shows the scan stopped once the count passed the limit, before the line's end.
    const body = `${'{}'.repeat(2.5 * 1024 * 1024)} x`;
    expect(() => splitBody(body, 100_000)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    // Counted across lines too: 6 before, then a line of 5.
    expect(() => splitBody(`${'{}\n'.repeat(6)}${'{}'.repeat(5)}`, 10)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    expect(texts(`${'{}\n'.repeat(6)}${'{}'.repeat(4)}`, 10)).toHaveLength(10);
  });

  it('an NDJSON line or an array element that is a wrapper is its elements, as a body that is one (two Azure Monitor messages in one batch were refused whole)', () => {
    const msg = (n: number): string => JSON.stringify({ records: [{ a: n }, { b: n }] });
    expect(texts(`${msg(1)}\n${msg(2)}\n{"c":3}`)).toEqual(['{"a":1}', '{"b":1}', '{"a":2}', '{"b":2}', '{"c":3}']);
    expect(splitBody(`${msg(1)}\n\n${msg(2)}`).lines).toEqual([1, 1, 3, 3]);
    expect(texts(`[${msg(1)},{"c":3},${msg(2)}]`)).toEqual(['{"a":1}', '{"b":1}', '{"c":3}', '{"a":2}', '{"b":2}']);
    expect(texts(`${msg(1)}${msg(2)}`)).toEqual(['{"a":1}', '{"b":1}', '{"a":2}', '{"b":2}']);
    // One level only; an event with a user, a malformed wrapper and a line with trailing text stay one record.
    const kept = ['{"records":[{"records":[1]}]}', '{"user":"u","events":[1]}', '{"value":[{"a":1} {"b":2}]}', '{"events":[1]} x'];
    expect(texts(`${kept.join('\n')}\n{"z":0}`)).toEqual(['{"records":[1]}', ...kept.slice(1), '{"z":0}']);
    // Their elements are counted: past the limit, PAYLOAD_TOO_LARGE.
    expect(() => splitBody(`${msg(1)}\n${msg(2)}\n${msg(3)}`, 5)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    expect(texts(`${msg(1)}\n${msg(2)}\n${msg(3)}`, 6)).toHaveLength(6);
    // A body of many events naming no wrapper key scans none of them for one.
    const body = `${JSON.stringify({ type: 'dlp', user: 'a', time: 1, note: 'x'.repeat(50) })}\n`.repeat(100_000);
    const t = performance.now();
    expect(splitBody(body).spans).toHaveLength(200_000);
    expect(performance.now() - t).toBeLessThan(5000);
  });

  it('pretty-printed objects one after another (`jq .` output) are each a record (was: every line its own record, refused and dead-lettered as fragments)', () => {
    const a = '{\n  "type": "dlp",\n  "user": "a@x.com"\n}';
    const b = '{\r\n  "type": "dlp", "note": "}\\n{"\r\n}';
    expect(texts(`${a}\n${b}\n{"c":1} {"d":[{}]}\n\n`)).toEqual([a, b, '{"c":1}', '{"d":[{}]}']);
    expect(splitBody(`\n${a}\n${b}\n{"c":1} {"d":2}`).lines).toEqual([2, 6, 9, 9]);
    // A wrapper among them is its elements; past the limit, PAYLOAD_TOO_LARGE.
    expect(texts(`${a}\n{\n "records": [{"e":1}, {"f":2}]\n}`)).toEqual([a, '{"e":1}', '{"f":2}']);
    expect(() => splitBody(`${a}\n`.repeat(11), 10)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    // Anything else after them (a broken object, text): NDJSON lines, as before; an array is its elements.
    for (const tail of ['{"x":', 'x']) expect(texts(`${a}\n${tail}`)).toEqual([...a.split('\n').map((l) => l.trim()), tail]);
    expect(texts(`${a}\n[1]`)).toEqual([a, '1']);
    expect(splitBody(`${a}\n${'{"a":1} '.repeat(1000)}`).lines.at(-1)).toBe(5);
  });

  it('a body starting as an array but not one is BAD_REQUEST', () => {
    for (const body of ['[{"a":1},', '[1 2]', '[1] x', '[1]\n[2']) expect(() => splitBody(body)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });

  it('JSON arrays one after another (pages of an API appended: `[…]\\n[…]`, `[…][…]`, `jq .` of each) and an NDJSON line that is an array are their elements (the body was refused whole, 400 — which a shipper drops —, or the line dead-lettered "got array")', () => {
    expect(texts('[{"a":1},{"b":2}]\n[{"c":3}]\n')).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(splitBody('[{"a":1},{"b":2}]\n\n[{"c":3}]').lines).toEqual([1, 1, 3]);
    expect(texts('[{"a":1}][{"b":2}]')).toEqual(['{"a":1}', '{"b":2}']);
    expect(texts('[\n  {\n    "a": 1\n  }\n]\n[\n  {\n    "b": 2\n  }\n]\n')).toEqual(['{\n    "a": 1\n  }', '{\n    "b": 2\n  }']);
    expect(texts('[{"a":1}]\n{"b":2}\n[]')).toEqual(['{"a":1}', '{"b":2}']);
    // A wrapper among the elements is its elements (one level); an array element that is an array stays one record.
    expect(texts('[{"records":[{"a":1}]}]\n[[{"b":2}],{"c":3}]')).toEqual(['{"a":1}', '[{"b":2}]', '{"c":3}']);
    // An NDJSON body (a broken line in it): its array lines are their elements too; a broken array stays the line.
    expect(texts('{"a":1}\n[{"b":2},{"c":3}]\nnot json\n[{"d":4}')).toEqual(['{"a":1}', '{"b":2}', '{"c":3}', 'not json', '[{"d":4}']);
    expect(splitBody('{"a":1}\n[{"b":2},{"c":3}]\nx').lines).toEqual([1, 2, 2, 3]);
    // Counted as records: past the limit, PAYLOAD_TOO_LARGE.
    expect(() => splitBody('[{},{}]\n[{},{}]\n[{},{}]', 5)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    expect(() => splitBody('x\n[{},{},{}]\n[{},{},{}]', 6)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
  });
});

describe('BodyGate', () => {
  it('one body at a time, the next waits its turn, beyond the queue INGEST_BUSY with retryAfter', async () => {
    const gate = new BodyGate(() => ({ concurrency: 1, maxQueued: 1 }));
    const order: string[] = [];
    let release!: () => void;
    const first = gate.run(() => new Promise<void>((r) => (release = r)).then(() => void order.push('first')));
    const second = gate.run(async () => void order.push('second'));
    expect(gate.load).toEqual({ active: 1, queued: 1 });
    const third = await gate.run(async () => 'x').catch((e: unknown) => e);
    expect(isRiskstreamError(third, 'INGEST_BUSY')).toBe(true);
    expect((third as { details: { retryAfter: number } }).details.retryAfter).toBeGreaterThan(0);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
    expect(gate.load).toEqual({ active: 0, queued: 0 });
  });

  it('a body whose caller is gone while it waits (its signal aborted) leaves the queue at once, its place free; it never runs (was held in line, run, and a live body refused INGEST_BUSY)', async () => {
    const gate = new BodyGate(() => ({ concurrency: 1, maxQueued: 1 }));
    const ran: string[] = [];
    let release!: () => void;
    const first = gate.run(() => new Promise<void>((r) => (release = r)).then(() => void ran.push('first')));
    const ac = new AbortController();
    const gone = gate.run(async () => void ran.push('gone'), ac.signal).catch((e: unknown) => e);
    ac.abort(new RiskstreamError('CLIENT_CLOSED', 'the client closed the connection'));
    expect(isRiskstreamError(await gone, 'CLIENT_CLOSED')).toBe(true);
    expect(gate.load).toEqual({ active: 1, queued: 0 });
    const live = gate.run(async () => void ran.push('live'));
    release();
    await Promise.all([first, live]);
    expect(ran).toEqual(['first', 'live']);
    // Aborted before it asked: refused at once, even with a slot free.
    const late = await gate.run(async () => void ran.push('late'), ac.signal).catch((e: unknown) => e);
    expect(isRiskstreamError(late, 'CLIENT_CLOSED')).toBe(true);
    expect(ran).toEqual(['first', 'live']);
    expect(gate.load).toEqual({ active: 0, queued: 0 });
  });

  it('closed (the worker shutting down): the bodies waiting and any asked later are refused with its error; the one under way finishes', async () => {
    const gate = new BodyGate(() => ({ concurrency: 1, maxQueued: 2 }));
    let release!: () => void;
    const first = gate.run(() => new Promise<string>((r) => (release = () => r('done'))));
    const waiting = gate.run(async () => 'ran').catch((e: unknown) => e);
    gate.close(() => new RiskstreamError('UNAVAILABLE', 'shutting down'));
    expect(isRiskstreamError(await waiting, 'UNAVAILABLE')).toBe(true);
    const later = await gate.run(async () => 'ran').catch((e: unknown) => e);
    expect(isRiskstreamError(later, 'UNAVAILABLE')).toBe(true);
    release();
    expect(await first).toBe('done');
    expect(gate.load).toEqual({ active: 0, queued: 0 });
  });
});
