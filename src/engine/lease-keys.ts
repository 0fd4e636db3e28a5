/**
 * Key names of the engine's leased resources: partitions `p<n>` and routers `r:<input stream>`.
 * Thin wrappers over {@link Keys} (every key name lives there); all keys of one resource share a
 * hash tag, so one Lua script may touch its lease and epoch together.
 */
import { Keys } from '../keys.js';

/** Key names of one leased resource. All keys of a resource share one hash tag. */
export interface ResourceKeys {
  /** String (PX): the fencing token `${workerId}#${epoch}`. */
  lease: string;
  /** Counter: the resource's last epoch (never reused). */
  epoch: string;
}

/** The resource id of partition `n` (`p7`). */
export function partitionResource(n: number): string {
  return `p${n}`;
}

/** The resource id of the router of an input stream (`r:riskstream:login`). */
export function routerResource(stream: string): string {
  return `r:${stream}`;
}

/** The lease and epoch keys of a resource: `${prefix}:{${resource}}:lease` / `:epoch`. */
export function resourceKeys(prefix: string, resource: string): ResourceKeys {
  const k = new Keys(prefix);
  return { lease: k.engineLease(resource), epoch: k.engineEpoch(resource) };
}

/** The engine's membership sorted set: `${prefix}:engine:members`. */
export function membersKey(prefix: string): string {
  return new Keys(prefix).engineMembers;
}

/** The fencing token of a worker at an epoch. */
export function leaseToken(workerId: string, epoch: number): string {
  return `${workerId}#${epoch}`;
}

/** Splits a fencing token `${workerId}#${epoch}` (the last `#`); undefined when it is not one. */
export function parseLeaseToken(token: string): { workerId: string; epoch: number } | undefined {
  const m = /^(.*)#(\d+)$/.exec(token);
  return m ? { workerId: m[1]!, epoch: Number(m[2]) } : undefined;
}
