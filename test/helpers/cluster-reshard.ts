/**
 * Live resharding of the local Redis Cluster, the way `redis-cli --cluster reshard` moves a slot:
 * CLUSTER SETSLOT IMPORTING on the target, MIGRATING on the source, the keys moved a few at a
 * time with MIGRATE (commands meanwhile meet ASK, multi-key ones TRYAGAIN while the slot's keys
 * are split), then SETSLOT NODE on every master.
 */
import { partitionOf } from '../../src/partition.js';
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

/** A slot move begun by hand ({@link beginMove}): the slot, its source and target ports. */
export interface Move {
  slot: number;
  from: number;
  to: number;
}

/**
 * A partition (of `partitions`) whose slot holds no key (no other test's), searched downward from
 * `from` (63 tried), and a user of it. Test files that move such a slot start from different
 * partitions, so two of them run at once pick different slots.
 */
export async function freePartition(partitions: number, from: number): Promise<{ p: number; user: string; slot: number }> {
  for (let p = from; p > from - 63; p--) {
    const slot = await slotOf(`{p${p}}`);
    if ((await keysInSlot(await ownerOfSlot(slot), slot)) > 0) continue;
    for (let i = 0; ; i++) if (partitionOf(`u${i}`, partitions) === p) return { p, user: `u${i}`, slot };
  }
  throw new Error('no partition slot free of keys');
}

/** SETSLOT IMPORTING on the next master, MIGRATING on the owner, then MIGRATE `moved` there. */
export async function beginMove(slot: number, moved: string[]): Promise<Move> {
  const masters = await mastersOf();
  const from = await ownerOfSlot(slot);
  const to = masters[(masters.findIndex((m) => m.port === from) + 1) % masters.length]!.port;
  await withNode(to, async (n) => n.cluster('SETSLOT', slot, 'IMPORTING', await nodeId(from)));
  await withNode(from, async (n) => n.cluster('SETSLOT', slot, 'MIGRATING', await nodeId(to)));
  await withNode(from, (n) => n.call('MIGRATE', '127.0.0.1', String(to), '', '0', '5000', 'KEYS', ...moved));
  return { slot, from, to };
}

/**
 * The move undone: the slot STABLE on the source (which takes the keys back: not while it is
 * MIGRATING, where a key it lacks is ASKed on), every key of the slot on the target migrated back,
 * then STABLE on the target too — both STABLE whatever failed.
 */
export async function undoMove(m: Move): Promise<void> {
  try {
    await withNode(m.from, (n) => n.cluster('SETSLOT', m.slot, 'STABLE'));
    const back = (await withNode(m.to, (n) => n.cluster('GETKEYSINSLOT', m.slot, 1000))) as string[];
    if (back.length) await withNode(m.to, (n) => n.call('MIGRATE', '127.0.0.1', String(m.from), '', '0', '5000', 'KEYS', ...back));
  } finally {
    for (const port of [m.from, m.to]) await withNode(port, (n) => n.cluster('SETSLOT', m.slot, 'STABLE'));
  }
}
