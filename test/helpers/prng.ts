/** mulberry32, the bench's deterministic PRNG in [0, 1) (seeded workloads and tables, the same on every run): one copy, in bench/data.ts. */
export { prng } from '../../bench/data.js';
