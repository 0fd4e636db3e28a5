// Build step: tsc compiles src/ to dist/src/ but copies no .lua; the loader (src/redis/scripts.ts)
// reads them beside itself, so they go to dist/src/redis/scripts/.
import { cpSync } from 'node:fs';

cpSync('src/redis/scripts', 'dist/src/redis/scripts', { recursive: true });
