// What a partition leader knows about its followers, and the rules it applies with it
// (Kafka's Partition and ReplicaState):
// - a follower's log end offset and "caught up" time come from its fetches: a fetch at or past the
//   leader's log end offset (as of the previous fetch) means it was caught up then;
// - ISR shrink: a follower not caught up within replica.lag.time.max.ms (30 s) leaves the ISR;
// - ISR expand (KAFKA-7128): a follower rejoins once it has fetched in the current leader epoch
//   and reached both the high watermark and the leader's epoch start offset (the `isr-join-stale-hw`
//   behaviour checks the high watermark only);
// - while an AlterPartition is pending, the leader uses the maximal ISR (current ∪ pending
//   additions) for the high watermark (KIP-497);
// - the high watermark is the smallest log end offset among the maximal ISR (the leader included)
//   and the caught-up eligible followers not yet in it, and it advances only while |ISR| ≥ min(min.insync.replicas, replication factor) (KAFKA-15583;
//   the `hw-ignores-min-isr` behaviour drops that condition). It never goes backwards.
// Pure state and functions: the broker feeds fetches in and sends the AlterPartition requests out.

import { objectArray } from '../../kernel/arrays.ts';
import { AssertionError } from '../../kernel/assert.ts';
import type { Ms } from '../../kernel/time.ts';
import type { BrokerId } from '../controller/records.ts';

export interface FollowerProgress {
  readonly brokerId: BrokerId;
  /** The follower's log end offset as its last fetch said (-1: unknown). */
  logEndOffset: number;
  /** The last time a fetch showed it caught up with the leader. */
  lastCaughtUpMs: Ms;
  /** The leader's log end offset when the follower last fetched (what "caught up" is measured against). */
  leaderEndOffsetAtLastFetch: number;
  /** When the follower last fetched. */
  lastFetchMs: Ms;
  /** Whether it has fetched in the current leader epoch. */
  fetchedInEpoch: boolean;
  /** The broker epoch its last fetch carried (KIP-903); undefined until it fetches. */
  brokerEpoch: number | undefined;
}

export interface LeaderRules {
  /** replica.lag.time.max.ms (30000) */
  readonly replicaLagTimeMaxMs: Ms;
  /** min(min.insync.replicas, replication factor) */
  readonly effectiveMinIsr: number;
  /** KAFKA-7128 off: join the ISR on reaching the (possibly stale) high watermark alone. */
  readonly isrJoinOnStaleHighWatermark: boolean;
  /** KAFKA-15583 off: advance the high watermark below min ISR too. */
  readonly highWatermarkIgnoresMinIsr: boolean;
}

const NOBODY: readonly BrokerId[] = Object.freeze([]);

// Helpers as consts, not function declarations: see trace.ts.
/**
 * Kafka's ReplicaState.isCaughtUp: at the leader's log end offset, or caught up within
 * replica.lag.time.max.ms.
 */
const isCaughtUp = (
  follower: FollowerProgress,
  leaderLogEndOffset: number,
  nowMs: Ms,
  rules: LeaderRules,
): boolean => {
  return (
    follower.logEndOffset === leaderLogEndOffset ||
    nowMs - follower.lastCaughtUpMs <= rules.replicaLagTimeMaxMs
  );
};

export class LeaderState {
  readonly leaderId: BrokerId;
  readonly leaderEpoch: number;
  /** The offset of the first record of this leader epoch in the leader's log. */
  readonly epochStartOffset: number;
  readonly #followers = new Map<BrokerId, FollowerProgress>();
  /** The same followers in the map's order, walked by index on the hot paths (no iterator). */
  readonly #followerList: FollowerProgress[] = objectArray();
  /**
   * Whether each follower of #followerList is in the maximal ISR: asked for every follower at
   * every fetch, it is worked out when the ISR or the pending change does (#noteIsrChanged).
   */
  readonly #followerInMaximalIsr: boolean[] = objectArray();
  /** How many of #followerList are out of the maximal ISR (worked out with it). */
  #followersOutOfMaximalIsr = 0;
  /** The ISR the controller last confirmed. */
  #isr: readonly BrokerId[];
  /** An ISR change sent in an AlterPartition and not yet answered. */
  #pendingIsr: readonly BrokerId[] | null = NOBODY;
  #highWatermark: number;

  constructor(input: {
    leaderId: BrokerId;
    leaderEpoch: number;
    epochStartOffset: number;
    replicas: readonly BrokerId[];
    isr: readonly BrokerId[];
    highWatermark: number;
    nowMs: Ms;
  }) {
    if (!input.isr.includes(input.leaderId)) {
      throw new AssertionError(`leader ${input.leaderId} not in its ISR [${input.isr.join(',')}]`);
    }
    this.leaderId = input.leaderId;
    this.leaderEpoch = input.leaderEpoch;
    this.epochStartOffset = input.epochStartOffset;
    this.#isr = input.isr;
    // None pending; NOBODY stored first, so that V8 learns from the first leader state that the
    // field holds arrays as well as null: learnt at the first proposal, it threw away the code
    // compiled knowing null alone (#answerFetch, #recordFollowerFetch).
    this.#pendingIsr = null;
    this.#highWatermark = input.highWatermark;
    for (const brokerId of input.replicas) {
      if (brokerId === input.leaderId || this.#followers.has(brokerId)) continue;
      // A new leader gives every follower a full lag window before it may be removed (Kafka resets
      // lastCaughtUpTime for ISR members when it becomes leader).
      // The times start as -infinity, a double, and an ISR member's is set after: a first
      // follower made with an integer time gave the field V8's small-integer form, and the next
      // one's -infinity changed every follower's shape (the hot paths deoptimised on it).
      const follower: FollowerProgress = {
        brokerId,
        logEndOffset: -1,
        lastCaughtUpMs: Number.NEGATIVE_INFINITY,
        leaderEndOffsetAtLastFetch: -1,
        lastFetchMs: Number.NEGATIVE_INFINITY,
        fetchedInEpoch: false,
        brokerEpoch: undefined,
      };
      if (input.isr.includes(brokerId)) follower.lastCaughtUpMs = input.nowMs;
      this.#followers.set(brokerId, follower);
      this.#followerList.push(follower);
    }
    this.#noteIsrChanged();
  }

  get isr(): readonly BrokerId[] {
    return this.#isr;
  }

  get pendingIsr(): readonly BrokerId[] | null {
    return this.#pendingIsr;
  }

  /** The committed ISR plus any member a pending AlterPartition adds (KIP-497). */
  get maximalIsr(): readonly BrokerId[] {
    const pending = this.#pendingIsr;
    if (pending === null) return this.#isr;
    return [...this.#isr, ...pending.filter((brokerId) => !this.#isr.includes(brokerId))];
  }

  /** maximalIsr.length, without building the array. */
  get maximalIsrSize(): number {
    const pending = this.#pendingIsr;
    let size = this.#isr.length;
    if (pending === null) return size;
    for (let index = 0; index < pending.length; index++)
      if (!this.#isr.includes(pending[index] as BrokerId)) size++;
    return size;
  }

  /** Whether `brokerId` is in maximalIsr, without building the array. */
  #inMaximalIsr(brokerId: BrokerId): boolean {
    return this.#isr.includes(brokerId) || (this.#pendingIsr?.includes(brokerId) ?? false);
  }

  get highWatermark(): number {
    return this.#highWatermark;
  }

  follower(brokerId: BrokerId): FollowerProgress | undefined {
    return this.#followerOf(brokerId);
  }

  /** A walk of the few followers (a replication factor's worth), where a map lookup cost more. */
  #followerOf(brokerId: BrokerId): FollowerProgress | undefined {
    const followers = this.#followerList;
    for (let index = 0; index < followers.length; index++) {
      const follower = followers[index] as FollowerProgress;
      if (follower.brokerId === brokerId) return follower;
    }
    return undefined;
  }

  #noteIsrChanged(): void {
    const followers = this.#followerList;
    this.#followerInMaximalIsr.length = followers.length;
    let outside = 0;
    for (let index = 0; index < followers.length; index++) {
      const inside = this.#inMaximalIsr((followers[index] as FollowerProgress).brokerId);
      this.#followerInMaximalIsr[index] = inside;
      if (!inside) outside++;
    }
    this.#followersOutOfMaximalIsr = outside;
  }

  /**
   * Whether every follower is in the maximal ISR: then none may join it (joinableFollowers is
   * empty), and a caller asked at every fetch need not work out the rules to ask.
   */
  get everyFollowerInMaximalIsr(): boolean {
    return this.#followersOutOfMaximalIsr === 0;
  }

  /**
   * A follower fetched at `fetchOffset` (after the epoch check passed): record its progress. It
   * was caught up if it fetched at or past the leader's log end offset now, or at or past the
   * leader's log end offset of its previous fetch (then it caught up as of that fetch).
   */
  recordFetch(
    brokerId: BrokerId,
    fetchOffset: number,
    leaderLogEndOffset: number,
    nowMs: Ms,
  ): void {
    const follower = this.#followerOf(brokerId);
    if (follower === undefined)
      throw new AssertionError(`${brokerId} is not a follower of this partition`);
    this.recordFetchOf(follower, fetchOffset, leaderLogEndOffset, nowMs);
  }

  /** recordFetch for a follower the caller has already found (with follower()). */
  recordFetchOf(
    follower: FollowerProgress,
    fetchOffset: number,
    leaderLogEndOffset: number,
    nowMs: Ms,
  ): void {
    if (fetchOffset >= leaderLogEndOffset) follower.lastCaughtUpMs = nowMs;
    else if (
      follower.leaderEndOffsetAtLastFetch >= 0 &&
      fetchOffset >= follower.leaderEndOffsetAtLastFetch
    ) {
      follower.lastCaughtUpMs = Math.max(follower.lastCaughtUpMs, follower.lastFetchMs);
    }
    follower.logEndOffset = fetchOffset;
    follower.leaderEndOffsetAtLastFetch = leaderLogEndOffset;
    follower.lastFetchMs = nowMs;
    follower.fetchedInEpoch = true;
  }

  /**
   * ISR members (not the leader) that are out of sync: not caught up within
   * replica.lag.time.max.ms, and not at the leader's log end either (Kafka's isCaughtUp: a follower
   * that has all of an idle partition's log stays in sync, fetching or not).
   */
  laggingMembers(nowMs: Ms, leaderLogEndOffset: number, rules: LeaderRules): BrokerId[] {
    return this.#isr.filter((brokerId) => {
      if (brokerId === this.leaderId) return false;
      const follower = this.#followers.get(brokerId);
      return follower === undefined || !isCaughtUp(follower, leaderLogEndOffset, nowMs, rules);
    });
  }

  /** Followers out of the ISR that may join it now (KAFKA-7128). */
  joinableFollowers(rules: LeaderRules): readonly BrokerId[] {
    // Usually every follower is in the ISR already: no array then. Otherwise counted first, and
    // the array made with its length (pushing into [] reserves 17 slots).
    if (this.#followersOutOfMaximalIsr === 0) return NOBODY;
    const followers = this.#followerList;
    let count = 0;
    for (let index = 0; index < followers.length; index++) if (this.#mayJoin(index, rules)) count++;
    if (count === 0) return NOBODY;
    const result = new Array<BrokerId>(count);
    count = 0;
    for (let index = 0; index < followers.length; index++)
      if (this.#mayJoin(index, rules))
        result[count++] = (followers[index] as FollowerProgress).brokerId;
    return result;
  }

  /** Whether follower `index` of #followerList may join the ISR now (KAFKA-7128). */
  #mayJoin(index: number, rules: LeaderRules): boolean {
    const follower = this.#followerList[index] as FollowerProgress;
    if (this.#followerInMaximalIsr[index] === true || !follower.fetchedInEpoch) return false;
    const reachedHighWatermark = follower.logEndOffset >= this.#highWatermark;
    const reachedEpochStart = follower.logEndOffset >= this.epochStartOffset;
    return reachedHighWatermark && (reachedEpochStart || rules.isrJoinOnStaleHighWatermark);
  }

  /** Records an AlterPartition sent; the maximal ISR counts its additions until it is answered. */
  proposeIsr(isr: readonly BrokerId[]): void {
    if (this.#pendingIsr !== null) throw new AssertionError('an AlterPartition is already pending');
    if (!isr.includes(this.leaderId))
      throw new AssertionError(`proposed ISR [${isr.join(',')}] leaves out the leader`);
    this.#pendingIsr = isr;
    this.#noteIsrChanged();
  }

  /** The controller answered: the committed ISR (null: the proposal was refused). */
  completeIsrChange(isr: readonly BrokerId[] | null): void {
    this.#pendingIsr = null;
    if (isr !== null) this.#isr = isr;
    this.#noteIsrChanged();
  }

  /**
   * Whether a follower of the maximal ISR has a log end offset at or below the high watermark:
   * every advance counts it, so the high watermark cannot move now (whatever the rules and the
   * time). Most asks are answered so: after an append, and after the first follower's fetch of it.
   */
  get heldBackByMaximalIsr(): boolean {
    const followers = this.#followerList;
    for (let index = 0; index < followers.length; index++)
      if (
        this.#followerInMaximalIsr[index] === true &&
        (followers[index] as FollowerProgress).logEndOffset <= this.#highWatermark
      )
        return true;
    return false;
  }

  /**
   * Advances the high watermark to the smallest log end offset among the maximal ISR and the
   * followers that are caught up (within the lag time) and eligible (registered, unfenced, not
   * shutting down) though not yet in the ISR, as Kafka's maybeIncrementLeaderHW does, if that is
   * larger and the ISR is large enough; returns whether it moved.
   */
  maybeAdvanceHighWatermark(
    leaderLogEndOffset: number,
    nowMs: Ms,
    rules: LeaderRules,
    isEligible: (brokerId: BrokerId) => boolean,
  ): boolean {
    if (this.#isr.length < rules.effectiveMinIsr && !rules.highWatermarkIgnoresMinIsr) return false;
    let candidate = leaderLogEndOffset;
    const followers = this.#followerList;
    for (let index = 0; index < followers.length; index++) {
      const follower = followers[index] as FollowerProgress;
      // An ISR member counts whatever else holds; eligibility is asked only of the others.
      if (
        this.#followerInMaximalIsr[index] === true ||
        (isCaughtUp(follower, leaderLogEndOffset, nowMs, rules) && isEligible(follower.brokerId))
      )
        candidate = Math.min(candidate, follower.logEndOffset);
    }
    if (candidate <= this.#highWatermark) return false;
    this.#highWatermark = candidate;
    return true;
  }
}
