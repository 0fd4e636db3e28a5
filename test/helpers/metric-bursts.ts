import type { Redis } from 'ioredis';

/** The sum of a Prometheus counter's samples in `/metrics` text, those whose line holds `label` only. */
export function metricCounter(text: string, name: string, label = ''): number {
  return text
    .split('\n')
    .filter((l) => (l.startsWith(`${name} `) || l.startsWith(`${name}{`)) && l.includes(label))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/**
 * Writes 12 bursts of 10 events to each of `prefix`'s two input streams (an access event and a
 * failed login per user, 17 users), 30 ms apart; returns the number of entries written (240).
 */
export async function writeBursts(redis: Redis, prefix: string): Promise<number> {
  const N = 12;
  const B = 10;
  const time = Date.now() - 60_000;
  for (let b = 0; b < N; b++) {
    const p = redis.pipeline();
    for (let i = 0; i < B; i++) {
      const user = `u${(b * B + i) % 17}@example.com`;
      p.xadd(`${prefix}:activity`, '*', 'event', JSON.stringify({ type: 'access', user, time: time + b * 100 + i, app: 'drive', outcome: 'allowed' }));
      p.xadd(`${prefix}:login`, '*', 'event', JSON.stringify({ type: 'login', user, time: time + b * 100 + i, outcome: 'failure' }));
    }
    await p.exec();
    await new Promise((r) => setTimeout(r, 30));
  }
  return N * B * 2;
}
