import { describe, expect, it } from 'vitest';
import { type LeaderRules, LeaderState } from './leader-state.ts';

const RULES: LeaderRules = {
  replicaLagTimeMaxMs: 30_000,
  effectiveMinIsr: 2,
  isrJoinOnStaleHighWatermark: false,
  highWatermarkIgnoresMinIsr: false,
};
const ALL_ELIGIBLE = () => true;

function leader(isr = ['b1', 'b2', 'b3'], epochStartOffset = 10, highWatermark = 10): LeaderState {
  return new LeaderState({
    leaderId: 'b1',
    leaderEpoch: 3,
    epochStartOffset,
    replicas: ['b1', 'b2', 'b3'],
    isr,
    highWatermark,
    nowMs: 0,
  });
}

describe('LeaderState', () => {
  it('advances the high watermark to the smallest log end offset of the ISR', () => {
    const state = leader();
    state.recordFetch('b2', 15, 20, 100);
    state.recordFetch('b3', 12, 20, 100);
    expect(state.maybeAdvanceHighWatermark(20, 100, RULES, ALL_ELIGIBLE)).toBe(true);
    expect(state.highWatermark).toBe(12);
    // Never backwards.
    state.recordFetch('b3', 11, 20, 200);
    expect(state.maybeAdvanceHighWatermark(20, 200, RULES, ALL_ELIGIBLE)).toBe(false);
    expect(state.highWatermark).toBe(12);
  });

  it('holds the high watermark while the ISR is below the effective min ISR (KAFKA-15583)', () => {
    const state = leader(['b1']);
    expect(state.maybeAdvanceHighWatermark(20, 100, RULES, () => false)).toBe(false);
    expect(state.highWatermark).toBe(10);
    expect(
      state.maybeAdvanceHighWatermark(
        20,
        100,
        { ...RULES, highWatermarkIgnoresMinIsr: true },
        () => false,
      ),
    ).toBe(true);
    expect(state.highWatermark).toBe(20);
  });

  it('counts caught-up eligible followers outside the ISR, not lagging or fenced ones', () => {
    const state = leader(['b1', 'b2']);
    state.recordFetch('b2', 20, 20, 100);
    state.recordFetch('b3', 14, 14, 100); // caught up with the leader as it was then
    expect(state.maybeAdvanceHighWatermark(20, 100, RULES, ALL_ELIGIBLE)).toBe(true);
    expect(state.highWatermark).toBe(14);
    // Fenced (not eligible): it no longer holds the high watermark back.
    expect(state.maybeAdvanceHighWatermark(20, 100, RULES, (id) => id !== 'b3')).toBe(true);
    expect(state.highWatermark).toBe(20);
  });

  it('finds ISR members that have not caught up within replica.lag.time.max.ms', () => {
    const state = leader();
    state.recordFetch('b2', 20, 20, 1_000);
    state.recordFetch('b3', 5, 20, 1_000);
    expect(state.laggingMembers(30_000, 21, RULES)).toEqual([]);
    expect(state.laggingMembers(30_001, 21, RULES)).toEqual(['b3']);
    expect(state.laggingMembers(31_001, 21, RULES)).toEqual(['b2', 'b3']);
  });

  it("keeps a follower at the leader's log end in sync, fetching or not (Kafka's isCaughtUp)", () => {
    const state = leader();
    state.recordFetch('b2', 20, 20, 1_000);
    state.recordFetch('b3', 5, 20, 1_000);
    // An idle partition: b2 has all of it, however long ago it fetched; b3 does not.
    expect(state.laggingMembers(100_000, 20, RULES)).toEqual(['b3']);
    // A write arrives: b2 is behind now, and has not caught up for too long.
    expect(state.laggingMembers(100_000, 21, RULES)).toEqual(['b2', 'b3']);
  });

  it('lets a follower join only after fetching in this epoch and reaching the HW and the epoch start (KAFKA-7128)', () => {
    const state = leader(['b1', 'b2'], 30, 25);
    expect(state.joinableFollowers(RULES)).toEqual([]);
    state.recordFetch('b3', 26, 40, 100);
    // Past the (stale) high watermark but not the epoch start offset.
    expect(state.joinableFollowers(RULES)).toEqual([]);
    expect(state.joinableFollowers({ ...RULES, isrJoinOnStaleHighWatermark: true })).toEqual([
      'b3',
    ]);
    state.recordFetch('b3', 30, 40, 200);
    expect(state.joinableFollowers(RULES)).toEqual(['b3']);
  });

  it('uses the maximal ISR while an AlterPartition is pending (KIP-497)', () => {
    const state = leader(['b1', 'b2']);
    state.recordFetch('b2', 30, 30, 100);
    state.recordFetch('b3', 12, 30, 100);
    state.proposeIsr(['b1', 'b2', 'b3']);
    expect(state.maximalIsr).toEqual(['b1', 'b2', 'b3']);
    expect(() => state.proposeIsr(['b1'])).toThrow(/already pending/);
    state.maybeAdvanceHighWatermark(30, 100, RULES, () => false);
    expect(state.highWatermark).toBe(12);
    state.completeIsrChange(null);
    expect(state.isr).toEqual(['b1', 'b2']);
    expect(state.maximalIsr).toEqual(['b1', 'b2']);
    state.proposeIsr(['b1', 'b2', 'b3']);
    state.completeIsrChange(['b1', 'b2', 'b3']);
    expect(state.isr).toEqual(['b1', 'b2', 'b3']);
  });

  it('says whether every follower is in the maximal ISR, as the ISR and a pending change go', () => {
    const state = leader(['b1', 'b2']);
    expect(state.everyFollowerInMaximalIsr).toBe(false);
    state.proposeIsr(['b1', 'b2', 'b3']);
    expect(state.everyFollowerInMaximalIsr).toBe(true);
    state.completeIsrChange(null);
    expect(state.everyFollowerInMaximalIsr).toBe(false);
    state.proposeIsr(['b1', 'b2', 'b3']);
    state.completeIsrChange(['b1', 'b2', 'b3']);
    expect(state.everyFollowerInMaximalIsr).toBe(true);
    expect(state.joinableFollowers(RULES)).toEqual([]);
  });

  it('keeps the broker epoch a follower fetched with on its progress (KIP-903)', () => {
    const state = leader();
    expect(state.follower('b2')?.brokerEpoch).toBeUndefined();
    const follower = state.follower('b2');
    if (follower === undefined) throw new Error('b2 is a follower');
    follower.brokerEpoch = 7;
    state.recordFetchOf(follower, 15, 20, 100);
    expect(state.follower('b2')).toMatchObject({ brokerEpoch: 7, logEndOffset: 15 });
    expect(state.follower('b1')).toBeUndefined();
  });

  it('refuses a leader outside its ISR and a proposal that drops the leader', () => {
    expect(() => leader(['b2', 'b3'])).toThrow(/not in its ISR/);
    expect(() => leader().proposeIsr(['b2'])).toThrow(/leaves out the leader/);
  });
});
