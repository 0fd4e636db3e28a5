/**
 * One receiver's line of jobs put back for want of an egress slot, ordered by (`queuedAt`, `seq`):
 * a treap whose nodes know their subtree's size and latest `due`, so a job's place (the count ahead
 * of it) and the latest turn of those ahead take O(log n), and a min-heap on `until` that drops the
 * jobs gone too long in O(log n) each.
 */

/** A job put back: its place in line (`queuedAt`, then `seq`), due back at `due`, its place kept until `until`. */
export interface Waiting {
  id: string;
  queuedAt: number;
  seq: number;
  due: number;
  until: number;
}

interface Node {
  w: Waiting;
  /** `w`'s place in line and turn, copied (read on every step down). */
  q: number;
  s: number;
  due: number;
  pri: number;
  left: Node | undefined;
  right: Node | undefined;
  size: number;
  /** Latest `due` in this subtree. */
  maxDue: number;
}

/** Whether (`aq`, `as`) comes before (`bq`, `bs`) in line. */
const before = (aq: number, as: number, bq: number, bs: number): boolean => aq < bq || (aq === bq && as < bs);

function update(n: Node): Node {
  const l = n.left;
  const r = n.right;
  n.size = 1 + (l ? l.size : 0) + (r ? r.size : 0);
  n.maxDue = Math.max(n.due, l ? l.maxDue : -Infinity, r ? r.maxDue : -Infinity);
  return n;
}

/** `n` with `x` in its place (a leaf rotated up by priority). */
function insert(n: Node | undefined, x: Node): Node {
  if (!n) return x;
  if (before(x.q, x.s, n.q, n.s)) {
    const l = (n.left = insert(n.left, x));
    if (l.pri > n.pri) {
      n.left = l.right;
      l.right = update(n);
      return update(l);
    }
  } else {
    const r = (n.right = insert(n.right, x));
    if (r.pri > n.pri) {
      n.right = r.left;
      r.left = update(n);
      return update(r);
    }
  }
  return update(n);
}

/** Joins `a` and `b`, every node of `a` before every node of `b`. */
function merge(a: Node | undefined, b: Node | undefined): Node | undefined {
  if (!a || !b) return a ?? b;
  if (a.pri > b.pri) {
    a.right = merge(a.right, b);
    return update(a);
  }
  b.left = merge(a, b.left);
  return update(b);
}

/** `n` without `w`'s node, or (`x` given, at the same place) with `x` in its node instead. */
function replace(n: Node | undefined, w: Waiting, x?: Waiting): Node | undefined {
  if (!n) return undefined;
  if (n.w === w) {
    if (!x) return merge(n.left, n.right);
    n.w = x;
    n.due = x.due;
    return update(n);
  }
  if (before(w.queuedAt, w.seq, n.q, n.s)) n.left = replace(n.left, w, x);
  else n.right = replace(n.right, w, x);
  return update(n);
}

const node = (w: Waiting): Node => ({ w, q: w.queuedAt, s: w.seq, due: w.due, pri: Math.random(), left: undefined, right: undefined, size: 1, maxDue: w.due });

/** The jobs put back for one receiver, in line, by id. */
export class EgressLine {
  private root: Node | undefined;
  private readonly byId = new Map<string, Waiting>();
  /** Min-heap on `until`; entries replaced or removed since are skipped when they reach the top. */
  private readonly expiries: Waiting[] = [];

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Waiting | undefined {
    return this.byId.get(id);
  }

  /** Puts `w` in line (in place of the job's previous entry, if any). */
  set(w: Waiting): void {
    const old = this.byId.get(w.id);
    this.byId.set(w.id, w);
    // At the same place (put back again): its node replaced in place; else taken out and put in.
    if (old && old.queuedAt === w.queuedAt && old.seq === w.seq) this.root = replace(this.root, old, w);
    else {
      if (old) this.root = replace(this.root, old);
      this.root = insert(this.root, node(w));
    }
    this.push(w);
  }

  delete(id: string): void {
    const w = this.byId.get(id);
    if (!w) return;
    this.byId.delete(id);
    this.root = replace(this.root, w);
  }

  /** Drops the jobs whose place is kept only until before `now`. */
  prune(now: number): void {
    const h = this.expiries;
    while (h.length && h[0]!.until < now) {
      const w = this.pop();
      if (this.byId.get(w.id) === w) this.delete(w.id);
    }
  }

  /** How many jobs are before (`queuedAt`, `seq`) in line, and the latest `due` among them (`-Infinity` if none). */
  ahead(queuedAt: number, seq: number): { count: number; due: number } {
    let count = 0;
    let due = -Infinity;
    for (let n = this.root; n;) {
      if (before(n.q, n.s, queuedAt, seq)) {
        count += n.left ? n.left.size + 1 : 1;
        due = Math.max(due, n.left ? n.left.maxDue : -Infinity, n.due);
        n = n.right;
      } else n = n.left;
    }
    return { count, due };
  }

  private push(w: Waiting): void {
    const h = this.expiries;
    let i = h.push(w) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.until <= w.until) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = w;
  }

  private pop(): Waiting {
    const h = this.expiries;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const c = l + 1 < h.length && h[l + 1]!.until < h[l]!.until ? l + 1 : l;
        if (h[c]!.until >= last.until) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
