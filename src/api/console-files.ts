/**
 * The admin console's static files: read once into memory (text files gzipped), served with
 * ETags, long caching for hashed assets and a Content-Security-Policy that only lets the page
 * load its own files and call its own origin.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { packageRoot } from '../package-root.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** The page may only load its own files and call its own origin. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** One file of the built console, as served. */
export interface StaticFile {
  body: Buffer;
  gzip?: Buffer;
  type: string;
  etag: string;
  immutable: boolean;
}

/** Default location of the built console. */
export const CONSOLE_DIST = join(packageRoot(), 'console-dist');

/** Reads every file of the built console into memory (a few hundred KB), gzipping text files. */
export function loadConsoleFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  if (!existsSync(join(dir, 'index.html'))) return files;
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) {
        walk(full);
        continue;
      }
      const rel = relative(dir, full).split(sep).join('/');
      const type = TYPES[extname(name).toLowerCase()];
      if (!type || rel.endsWith('.map')) continue;
      const body = readFileSync(full);
      const compressible = /^text\/|json|svg/.test(type) && body.length > 1024;
      files.set(rel, {
        body,
        ...(compressible ? { gzip: gzipSync(body, { level: 9 }) } : {}),
        type,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        immutable: rel.startsWith('assets/'),
      });
    }
  };
  walk(dir);
  return files;
}

/** Sends one file: caching headers, CSP on HTML, 304 on a matching ETag, gzip when accepted. */
export function sendStatic(req: FastifyRequest, reply: FastifyReply, f: StaticFile): FastifyReply {
  reply
    .header('Content-Type', f.type)
    .header('Cache-Control', f.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('ETag', f.etag)
    .header('Vary', 'Accept-Encoding')
    .header('X-Content-Type-Options', 'nosniff')
    .header('Referrer-Policy', 'no-referrer');
  // The page's own policy (the server's default for other answers, src/api/security-headers.ts, is
  // stricter: nothing may run); no other origin's window can reach it through window.opener.
  if (f.type.startsWith('text/html'))
    reply.header('Content-Security-Policy', CSP).header('X-Frame-Options', 'DENY').header('Cross-Origin-Opener-Policy', 'same-origin');
  if (req.headers['if-none-match'] === f.etag) return reply.code(304).send();
  if (f.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('Content-Encoding', 'gzip').send(f.gzip);
  return reply.send(f.body);
}
