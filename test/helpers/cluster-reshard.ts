/**
 * Live resharding of the local Redis Cluster, the way `redis-cli --cluster reshard` moves a slot:
 * CLUSTER SETSLOT IMPORTING on the target, MIGRATING on the source, the keys moved a few at a
 * time with MIGRATE (commands meanwhile meet ASK, multi-key ones TRYAGAIN while the slot's keys
 * are split), then SETSLOT NODE on every master.
 */
import { mastersOf, withNode } from './cluster.js';

/** The hash slot of `key` (CLUSTER KEYSLOT on the first master). */
export async function slotOf(key: string): Promise<number> {
  const [first] = await mastersOf();
  return Number(await withNode(first!.port, (n) => n.cluster('KEYSLOT', key)));
}

/** The port of the master owning `slot`. */
export async function ownerOfSlot(slot: number): Promise<number> {
  const owner = (await mastersOf()).find((m) => m.slots.some(([a, b]) => slot >= a && slot <= b));
  if (!owner) throw new Error(`slot ${slot} is served by no master`);
  return owner.port;
}

/**
 * Moves `slot` from its owner to the master on `to` (or the next master by port): `batch` keys per
 * MIGRATE, `pauseMs` between batches so the slot stays split for a while. Returns the keys moved
 * and the source's port.
 */
export async function migrateSlot(
  slot: number,
  { to, batch = 3, pauseMs = 30 }: { to?: number; batch?: number; pauseMs?: number } = {},
): Promise<{ from: number; to: number; moved: number }> {
  const masters = await mastersOf();
  const src = masters.find((m) => m.slots.some(([a, b]) => slot >= a && slot <= b))!;
  const dst =
    to !== undefined ? (masters.find((m) => m.port === to) ?? { port: to, id: await nodeId(to) }) : masters[(masters.indexOf(src) + 1) % masters.length]!;
  await withNode(dst.port, (n) => n.cluster('SETSLOT', slot, 'IMPORTING', src.id));
  await withNode(src.port, (n) => n.cluster('SETSLOT', slot, 'MIGRATING', dst.id));
  let moved = 0;
  for (;;) {
    const keys = (await withNode(src.port, (n) => n.cluster('GETKEYSINSLOT', slot, batch))) as string[];
    if (keys.length === 0) break;
    await withNode(src.port, (n) => n.call('MIGRATE', '127.0.0.1', String(dst.port), '', '0', '5000', 'KEYS', ...keys));
    moved += keys.length;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  for (const p of [dst.port, src.port, ...masters.map((m) => m.port)]) {
    await withNode(p, (n) => n.cluster('SETSLOT', slot, 'NODE', dst.id)).catch(() => undefined);
  }
  return { from: src.port, to: dst.port, moved };
}

/** A node's own id (CLUSTER MYID). */
export async function nodeId(port: number): Promise<string> {
  return (await withNode(port, (n) => n.cluster('MYID'))) as string;
}

/** Keys still in `slot` on the node at `port`. */
export async function keysInSlot(port: number, slot: number): Promise<number> {
  return Number(await withNode(port, (n) => n.cluster('COUNTKEYSINSLOT', slot)));
}

/**
 * Opens a move of `slot` to the next master (IMPORTING there, MIGRATING on its owner) and moves no
 * key: every multi-key command on the slot is refused (TRYAGAIN) until the returned `stable()`
 * ends it (SETSLOT STABLE on both; the slot stays with its owner). `stable()` may run twice.
 */
export async function openSlotMove(slot: number): Promise<{ from: number; to: number; stable: () => Promise<void> }> {
  const masters = await mastersOf();
  const src = masters.find((m) => m.slots.some(([a, b]) => slot >= a && slot <= b))!;
  const dst = masters[(masters.indexOf(src) + 1) % masters.length]!;
  const stable = async (): Promise<void> => {
    for (const p of [src.port, dst.port]) await withNode(p, (n) => n.cluster('SETSLOT', slot, 'STABLE'));
  };
  try {
    await withNode(dst.port, (n) => n.cluster('SETSLOT', slot, 'IMPORTING', src.id));
    await withNode(src.port, (n) => n.cluster('SETSLOT', slot, 'MIGRATING', dst.id));
  } catch (err) {
    await stable();
    throw err;
  }
  return { from: src.port, to: dst.port, stable };
}
