/**
 * The SET verdict of the crash, lease, rebalance and reshard tests (test/helpers/set-sequences.ts):
 * per user the SETs are the level changes in order less superseded ones; a resend (same jti) is
 * counted, never a problem; another jti for the same version, a change the history lacks, versions
 * out of order, a resend after a later version and a last SET short of the last change are.
 */
import { describe, expect, it } from 'vitest';
import { changesOf, checkSetSequences, explainSets, type SeenSet } from '../helpers/set-sequences.js';

const changes = { a: changesOf(['v1 low→medium @t1 [x]', 'v2 medium→high @t2 [x,y]']), b: changesOf(['v1 low→high @t3 [z]']) };
const set = (user: string, version: number, jti = `${user}${version}`, level = changes[user as 'a' | 'b'][version - 1]?.level ?? 'low'): SeenSet => ({
  user,
  jti,
  txn: `t-${user}${version}`,
  level,
  version,
});

describe('SET sequences against the histories', () => {
  it('the changes less superseded ones, with resends counted: no problem', () => {
    const r = checkSetSequences([set('a', 2), set('b', 1), set('b', 1)], changes);
    expect(r.problems).toEqual([]);
    expect(r.tally).toEqual({ received: 3, resends: 1, distinct: 2, superseded: 1, delivered: { a: [2], b: [1] } });
    const all = checkSetSequences([set('a', 1), set('a', 2), set('b', 1)], changes);
    expect(all.problems).toEqual([]);
    expect(explainSets(r.tally, all.tally)).toBe(
      "3 SETs vs the reference's 3 (+0): same-jti resends 0 vs 1; distinct 3 vs 2; levels delivered here that the reference superseded 1, superseded here only 0; superseded 0 vs 1",
    );
  });

  it('another jti for a version delivered is a doubled SET', () => {
    expect(checkSetSequences([set('a', 1), set('a', 2), set('a', 2, 'other'), set('b', 1)], changes).problems).toEqual([
      'a v2: doubled, another jti (a2, other)',
      'a: v2 after v2 (order)',
    ]);
  });

  it('a change the history lacks, or with another level, is a problem', () => {
    expect(checkSetSequences([set('a', 2), set('a', 3, 'a3', 'high'), set('b', 1, 'b1', 'medium')], changes).problems).toEqual([
      'SET a3 a v3 high: no such change in the history',
      "SET b1 b v1 medium: the change's level is high",
    ]);
  });

  it('versions out of order, a resend after a later version, a last SET short of the last change: problems', () => {
    expect(checkSetSequences([set('a', 2), set('a', 1), set('b', 1)], changes).problems).toEqual(['a: v1 after v2 (order)', 'a: last SET v1, last change v2']);
    expect(checkSetSequences([set('a', 1), set('a', 2), set('a', 1), set('b', 1)], changes).problems).toEqual(['a: v1 (a1) resent after v2']);
    expect(checkSetSequences([set('a', 1)], changes).problems).toEqual(['a: last SET v1, last change v2', 'b: last SET v-, last change v1']);
  });
});
