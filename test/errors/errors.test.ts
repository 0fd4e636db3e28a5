import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, RiskstreamError, type ErrorCode } from '../../src/errors.js';

function sources(dir: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts')) out.push({ file: p, text: readFileSync(p, 'utf8') });
  }
  return out;
}
const src = [...sources('src'), ...sources('pipelines')];

describe('error codes (one table, fastify pattern)', () => {
  it('every code carries an HTTP status', () => {
    for (const [code, status] of Object.entries(ERROR_CODES)) {
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(new RiskstreamError(code as ErrorCode, 'x').statusCode).toBe(status);
    }
    expect(new RiskstreamError('NOT_FOUND', 'x').statusCode).toBe(404);
    expect(new RiskstreamError('INGEST_BUSY', 'x').statusCode).toBe(429);
  });

  it('every code is used somewhere in src (no dead codes)', () => {
    const others = src.filter((s) => !s.file.endsWith('errors.ts'));
    const unused = Object.keys(ERROR_CODES).filter((c) => !others.some((s) => s.text.includes(`'${c}'`)));
    expect(unused).toEqual([]);
  });

  it('src throws no plain Error and logs keep { err } (pino serializes the stack)', () => {
    const plain = src.filter((s) => /new Error\(/.test(s.text)).map((s) => s.file);
    expect(plain).toEqual([]);
    const messageOnly = src.filter((s) => /\.(warn|error|fatal|info|debug)\(\{[^}]*err: [^}]*\.message/.test(s.text)).map((s) => s.file);
    expect(messageOnly).toEqual([]);
  });
});
