/**
 * Logins to one prefix's login stream for brute_force scenarios (the behavior-reenable and
 * redis-restart-records tests): `minute` is event time from {@link recentIso}, ids `e1`, `e2`, …
 */
import type { Redis } from 'ioredis';
import { MIN, recentIso } from './clock.js';

/** behaviors.yaml with brute_force only (5 failures within 30 m, then a success: high for 24 h). */
export const bruteForceOnly = (enabled: boolean) => ({ brute_force: { enabled, risk_level: 'high', expires_after: '24h', failures: 5, window: '30m' } });

/** One user's logins from one address, written to `<prefix>:login` in the order called. */
export function bruteLogins(redis: Redis, prefix: string) {
  let n = 0;
  const login = (user: string, minute: number, outcome: 'success' | 'failure') =>
    redis.xadd(
      `${prefix}:login`,
      '*',
      'event',
      JSON.stringify({ type: 'login', id: `e${++n}`, user, time: recentIso(minute * MIN), outcome, ip: '198.51.100.7' }),
    );
  return {
    login,
    /** `count` failed logins, one a minute from `from`. */
    failures: async (user: string, from: number, count: number) => {
      for (let i = 0; i < count; i++) await login(user, from + i, 'failure');
    },
  };
}
