/**
 * Issue 16's promise about SETs, checked per user: the receiver's SETs are the user's level
 * changes (the risk-event history) in order, less any level superseded while waiting; delivery is
 * at-least-once (RFC 8935), so a resend — the same `jti` again — is allowed, counted and reported.
 * Anything else is a defect: a second SET (another `jti`) for the same (user, version), a SET of a
 * change the history does not hold or with another level, versions out of order, a user whose last
 * SET is not their last change.
 */

/** One SET as received, with the version of the change its `txn` names (undefined: no committed change). */
export interface SeenSet {
  user: string;
  jti: string;
  txn: string;
  level: string;
  version: number | undefined;
}

/** A user's level change as the history shows it. */
export interface Change {
  version: number;
  level: string;
}

/** What the SETs of one run came to. */
export interface SetTally {
  /** SETs received (every POST). */
  received: number;
  /** Receipts of a `jti` received before (retries: at-least-once). */
  resends: number;
  /** Distinct SETs (`jti`s). */
  distinct: number;
  /** Level changes of the history no SET carried (superseded while waiting). */
  superseded: number;
  /** Per user, the versions delivered (distinct, in order of first receipt). */
  delivered: Record<string, number[]>;
}

/** A user's level changes, from the `changes` lines of an outcome (`v<version> previous→current @…`). */
export function changesOf(lines: readonly string[]): Change[] {
  return lines.map((l) => {
    const m = /^v(\d+) \S+→(\S+) /.exec(l);
    if (!m) throw new Error(`not a change line: ${l}`);
    return { version: Number(m[1]), level: m[2]!.toLowerCase() };
  });
}

/**
 * Checks `sets` (in receipt order) against every user's level changes. Returns the problems
 * (empty when the promise holds) and the tally.
 */
export function checkSetSequences(sets: readonly SeenSet[], changes: Record<string, readonly Change[]>): { problems: string[]; tally: SetTally } {
  const problems: string[] = [];
  const byJti = new Map<string, SeenSet>();
  const jtisOf = new Map<string, Set<string>>(); // user|version → jtis
  const delivered: Record<string, number[]> = {};
  let resends = 0;
  for (const s of sets) {
    const first = byJti.get(s.jti);
    if (first) {
      resends++;
      if (first.user !== s.user || first.txn !== s.txn || first.level !== s.level)
        problems.push(`jti ${s.jti} reused for another SET: ${show(first)} then ${show(s)}`);
      const last = delivered[s.user]?.at(-1);
      // A resend after a later version's SET: the receiver is taken back to a superseded level.
      if (s.version !== undefined && last !== undefined && last > s.version) problems.push(`${s.user}: v${s.version} (${s.jti}) resent after v${last}`);
      continue;
    }
    byJti.set(s.jti, s);
    const want = changes[s.user]?.find((c) => c.version === s.version);
    if (s.version === undefined || !want) {
      problems.push(`${show(s)}: no such change in the history`);
      continue;
    }
    if (want.level !== s.level) problems.push(`${show(s)}: the change's level is ${want.level}`);
    const k = `${s.user}|${s.version}`;
    const jtis = jtisOf.get(k) ?? new Set<string>();
    jtis.add(s.jti);
    jtisOf.set(k, jtis);
    if (jtis.size === 2) problems.push(`${s.user} v${s.version}: doubled, another jti (${[...jtis].join(', ')})`);
    const list = (delivered[s.user] ??= []);
    if (list.length && list.at(-1)! >= s.version) problems.push(`${s.user}: v${s.version} after v${list.at(-1)} (order)`);
    list.push(s.version);
  }
  let superseded = 0;
  for (const [user, list] of Object.entries(changes)) {
    if (!list.length) continue;
    const got = new Set(delivered[user] ?? []);
    superseded += list.filter((c) => !got.has(c.version)).length;
    const last = list.at(-1)!.version;
    if (delivered[user]?.at(-1) !== last) problems.push(`${user}: last SET v${delivered[user]?.at(-1) ?? '-'}, last change v${last}`);
  }
  return { problems, tally: { received: sets.length, resends, distinct: byJti.size, superseded, delivered } };
}

/**
 * Explains a run's SET count against a fault-free reference's (both with the same histories, both
 * checked): `extra = (resends here − there) + (changes superseded there − here)`. One line for the log.
 */
export function explainSets(ref: SetTally, got: SetTally): string {
  let onlyHere = 0;
  let onlyThere = 0;
  for (const user of new Set([...Object.keys(ref.delivered), ...Object.keys(got.delivered)])) {
    const a = new Set(ref.delivered[user] ?? []);
    const b = new Set(got.delivered[user] ?? []);
    onlyHere += [...b].filter((v) => !a.has(v)).length;
    onlyThere += [...a].filter((v) => !b.has(v)).length;
  }
  return (
    `${got.received} SETs vs the reference's ${ref.received} (${got.received - ref.received >= 0 ? '+' : ''}${got.received - ref.received}): ` +
    `same-jti resends ${got.resends} vs ${ref.resends}; distinct ${got.distinct} vs ${ref.distinct}; ` +
    `levels delivered here that the reference superseded ${onlyHere}, superseded here only ${onlyThere}; ` +
    `superseded ${got.superseded} vs ${ref.superseded}`
  );
}

function show(s: SeenSet): string {
  return `SET ${s.jti} ${s.user} v${s.version ?? '?'} ${s.level}`;
}
