// One member of the KRaft metadata quorum: a voter (a controller) or an observer (a broker),
// modelled on Kafka's KafkaRaftClient (KIP-595, KIP-996) rather than textbook Raft:
// - replication is pull-based: followers and observers Fetch(offset, last fetched epoch) from the
//   leader, which answers with entries and its high watermark, or a diverging epoch so the fetcher
//   truncates; fetches long-poll while there is nothing new;
// - a voter grants at most one vote per epoch, only to a log at least as up to date as its own,
//   and persists (flushes) epoch and vote before answering;
// - elections start with a pre-vote (KIP-996): a prospective voter becomes a candidate only when a
//   majority, none of which has heard from a leader within the fetch timeout, would vote for it;
// - the leader's first entry of an epoch is a leader-change entry of that epoch; the high
//   watermark advances when a majority has fetched past it and only over an entry of the leader's
//   own epoch; the leader flushes what it appends before counting itself, a voter flushes before
//   its next Fetch;
// - check-quorum: a leader that has not been fetched from by a majority within 1.5 × the fetch
//   timeout resigns; a graceful shutdown sends EndQuorumEpoch so the others elect at once.

import { objectArray, removeAt } from '../../kernel/arrays.ts';
import { AssertionError } from '../../kernel/assert.ts';
import type { CheckpointFile, Disk } from '../../kernel/disk.ts';
import type { NodeId } from '../../kernel/network.ts';
import type { TimerHandle } from '../../kernel/node.ts';
import type { Rng } from '../../kernel/rng.ts';
import type { Ms } from '../../kernel/time.ts';
import type { TraceFields } from '../../kernel/trace.ts';
import type { Bugs } from '../bugs.ts';
import { NO_ENTRIES, type RaftEntry, RaftLog, type RaftPayload } from './log.ts';
import type {
  BeginQuorumEpochRequest,
  EndQuorumEpochRequest,
  FetchRequest,
  FetchResponse,
  RaftMessage,
  VoteRequest,
  VoteResponse,
} from './messages.ts';

export interface RaftConfig {
  /** controller.quorum.voters */
  readonly voters: readonly NodeId[];
  /** controller.quorum.election.timeout.ms (1000) */
  readonly electionTimeoutMs: Ms;
  /** controller.quorum.election.backoff.max.ms (1000): the random part added to each election timeout. */
  readonly electionBackoffMaxMs: Ms;
  /** controller.quorum.fetch.timeout.ms (2000) */
  readonly fetchTimeoutMs: Ms;
  /** How long the leader holds a fetch that has nothing new (Kafka: 500 ms). */
  readonly fetchMaxWaitMs: Ms;
  /** controller.quorum.request.timeout.ms (2000) */
  readonly requestTimeoutMs: Ms;
  /** controller.quorum.retry.backoff.ms (20) */
  readonly retryBackoffMs: Ms;
  /** Fetch response size cap (Kafka: 8 MiB; small here so catch-up takes several fetches). */
  readonly fetchMaxBytes: number;
}

export const DEFAULT_RAFT_CONFIG: Omit<RaftConfig, 'voters'> = {
  electionTimeoutMs: 1_000,
  electionBackoffMaxMs: 1_000,
  fetchTimeoutMs: 2_000,
  fetchMaxWaitMs: 500,
  requestTimeoutMs: 2_000,
  retryBackoffMs: 20,
  fetchMaxBytes: 64 * 1024,
};

/** `config` as one object literal naming every field (replicaConfigOf in replica-manager.ts says why). */
const raftConfigOf = (config: RaftConfig): RaftConfig => ({
  voters: config.voters,
  electionTimeoutMs: config.electionTimeoutMs,
  electionBackoffMaxMs: config.electionBackoffMaxMs,
  fetchTimeoutMs: config.fetchTimeoutMs,
  fetchMaxWaitMs: config.fetchMaxWaitMs,
  requestTimeoutMs: config.requestTimeoutMs,
  retryBackoffMs: config.retryBackoffMs,
  fetchMaxBytes: config.fetchMaxBytes,
});

/** What the node needs from its host: the kernel's NodeContext fits. */
export interface RaftHost {
  readonly nodeId: NodeId;
  readonly nowMs: Ms;
  readonly disk: Disk;
  readonly rng: Rng;
  send(target: NodeId, message: RaftMessage, sizeBytes?: number): void;
  setTimer(delayMs: Ms, label: string, fire: () => void): TimerHandle;
  cancelTimer(handle: TimerHandle): void;
  trace(kind: string, fields?: TraceFields): void;
}

/** Called by the node when its view of the committed log or its role changes. */
export interface RaftListener {
  /** Entries below `highWatermark` are committed; replay what you have not applied. */
  onHighWatermark?(highWatermark: number): void;
  /** This node became leader of `epoch`; its leader-change entry is at `epochStartOffset`. */
  onBecomeLeader?(epoch: number, epochStartOffset: number): void;
  /** This node stopped being leader. */
  onResign?(epoch: number): void;
}

export type RaftRole =
  | 'unattached'
  | 'prospective'
  | 'candidate'
  | 'leader'
  | 'follower'
  | 'observer';

export interface QuorumState {
  readonly epoch: number;
  readonly votedId: NodeId | null;
  readonly leaderId: NodeId | null;
}

export const QUORUM_STATE_FILE = 'quorum-state';

interface ReplicaProgress {
  /** The replica's log end offset, as its last valid fetch said. */
  endOffset: number;
  /** When it last fetched in this epoch (for check-quorum). */
  lastFetchMs: Ms;
}

interface ParkedFetch {
  readonly source: NodeId;
  readonly request: FetchRequest;
  readonly timer: TimerHandle;
}

/** No parked fetches to answer (a role change that was not a leader's). */
const NO_PARKED: readonly ParkedFetch[] = Object.freeze([]);

export class RaftNode {
  readonly host: RaftHost;
  readonly config: RaftConfig;
  readonly bugs: Bugs;
  readonly isVoter: boolean;
  readonly log: RaftLog;
  readonly #state: CheckpointFile<QuorumState>;
  readonly #listener: RaftListener;

  #role: RaftRole;
  #epoch: number;
  #votedId: NodeId | null;
  #leaderId: NodeId | null;
  #highWatermark = 0;

  // Election state.
  #electionTimer: TimerHandle | null = null;
  readonly #grants = new Set<NodeId>();
  readonly #voteTimers = new Map<NodeId, TimerHandle>();
  readonly #rejections = new Set<NodeId>();

  // Leader state.
  #epochStartOffset = 0;
  readonly #progress = new Map<NodeId, ReplicaProgress>();
  /** Scratch for #maybeAdvanceHighWatermark: each voter's log end offset. */
  readonly #voterOffsets: number[];
  /**
   * The parked fetches, oldest first, one per fetcher: a short list (the voters and observers), in
   * two arrays taking turns so that answering them all allocates nothing (a Map's clear made a new
   * table, and its copy an array, at every high watermark move).
   */
  #parked: ParkedFetch[] = objectArray();
  #parkedSpare: ParkedFetch[] = objectArray();
  /** Per fetcher, what its parked fetch's wait timer fires (see #fetchWaitOverOf). */
  readonly #fetchWaitsOver = new Map<NodeId, () => void>();
  #checkQuorumTimer: TimerHandle | null = null;
  readonly #beginQuorumAcked = new Set<NodeId>();
  #beginQuorumTimer: TimerHandle | null = null;

  // Fetcher state (follower, observer).
  #fetchTimer: TimerHandle | null = null;
  #requestTimer: TimerHandle | null = null;
  #fetchIdNext = 0;
  #fetchInFlight: number | null = null;
  /** When a follower last heard from its leader (a pre-vote is refused within the fetch timeout). */
  #lastLeaderContactMs: Ms = Number.NEGATIVE_INFINITY;
  #observerTargetIndex = 0;
  #changes = 0;

  constructor(host: RaftHost, config: RaftConfig, bugs: Bugs, listener: RaftListener = {}) {
    if (config.voters.length === 0) throw new AssertionError('a quorum needs at least one voter');
    this.host = host;
    this.config = raftConfigOf(config);
    this.bugs = bugs;
    this.#listener = listener;
    this.isVoter = config.voters.includes(host.nodeId);
    this.#voterOffsets = new Array<number>(config.voters.length).fill(0);
    this.log = new RaftLog(host.disk);
    this.#state = host.disk.checkpoint<QuorumState>(QUORUM_STATE_FILE);
    const persisted = this.#state.read() ?? { epoch: 0, votedId: null, leaderId: null };
    this.#epoch = persisted.epoch;
    this.#votedId = persisted.votedId;
    this.#leaderId = persisted.leaderId;
    this.#role = this.isVoter ? 'unattached' : 'observer';
  }

  // ---- views (for the host and for checkers) -------------------------------------------------

  get role(): RaftRole {
    return this.#role;
  }

  get epoch(): number {
    return this.#epoch;
  }

  get leaderId(): NodeId | null {
    return this.#leaderId;
  }

  get votedId(): NodeId | null {
    return this.#votedId;
  }

  get highWatermark(): number {
    return this.#highWatermark;
  }

  /** As leader: the offset of this epoch's leader-change entry (Kafka's LeaderState epochStartOffset). */
  get epochStartOffset(): number {
    return this.#epochStartOffset;
  }

  get isLeader(): boolean {
    return this.#role === 'leader';
  }

  get majority(): number {
    return Math.floor(this.config.voters.length / 2) + 1;
  }

  /**
   * How many times the node was entered (a message, a refused connection, a timer, an append, start
   * or shutdown): its state changes only then, so a checker re-reads it only when this moved.
   */
  get changes(): number {
    return this.#changes;
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Starts from the persisted state: a restarted leader does not resume leading. */
  start(): void {
    this.#changes++;
    if (!this.isVoter) {
      this.#becomeObserver();
      return;
    }
    if (this.#leaderId !== null && this.#leaderId !== this.host.nodeId) {
      this.#becomeFollower(this.#epoch, this.#leaderId);
      return;
    }
    // A restarted leader keeps its vote for itself: freeing it could elect a second leader in the epoch.
    this.#becomeUnattached(this.#epoch, this.#votedId);
  }

  /** Graceful shutdown: a leader hands over with EndQuorumEpoch (KIP-595). */
  shutdown(): void {
    this.#changes++;
    if (this.#role !== 'leader') return;
    const successors = this.config.voters
      .filter((voter) => voter !== this.host.nodeId)
      .map((voter) => ({ voter, endOffset: this.#progress.get(voter)?.endOffset ?? 0 }))
      .sort((a, b) => b.endOffset - a.endOffset || compareIds(a.voter, b.voter))
      .map((each) => each.voter);
    for (const voter of successors) {
      const request: EndQuorumEpochRequest = {
        kind: 'raft.end-quorum-epoch',
        epoch: this.#epoch,
        leaderId: this.host.nodeId,
        preferredSuccessors: successors,
      };
      this.host.send(voter, request, 64);
    }
    this.#trace('raft.resign', { epoch: this.#epoch, reason: 'shutdown' });
  }

  /** Appends a record as leader (a batch of one); returns its offset, or null when not the leader. */
  appendRecord(id: string, record: unknown, sizeBytes = 100): number | null {
    return this.appendBatch([{ id, record, sizeBytes }]);
  }

  /**
   * Appends records as leader in one batch (Kafka's atomic append: followers fetch it, and observers
   * replay it, whole); returns the last one's offset, or null when not the leader.
   */
  appendBatch(
    records: readonly {
      readonly id: string;
      readonly record: unknown;
      readonly sizeBytes: number;
    }[],
  ): number | null {
    this.#changes++;
    if (this.#role !== 'leader') return null;
    if (records.length === 0) throw new AssertionError('appendBatch: an empty batch');
    let offset = -1;
    for (let index = 0; index < records.length; index++) {
      const { id, record, sizeBytes } = records[index] as (typeof records)[number];
      const payload: RaftPayload = { type: 'record', id, record };
      offset = this.log.append(
        index < records.length - 1
          ? { epoch: this.#epoch, payload, sizeBytes, moreInBatch: true }
          : { epoch: this.#epoch, payload, sizeBytes },
      );
    }
    this.#afterLeaderAppend();
    return offset;
  }

  // ---- messages ------------------------------------------------------------------------------

  handle(source: NodeId, message: RaftMessage): void {
    this.#changes++;
    switch (message.kind) {
      case 'raft.vote':
        this.#onVote(source, message);
        return;
      case 'raft.vote-response':
        this.#onVoteResponse(source, message);
        return;
      case 'raft.begin-quorum-epoch':
        this.#onBeginQuorumEpoch(source, message);
        return;
      case 'raft.begin-quorum-epoch-response':
        if (this.#role === 'leader' && message.epoch === this.#epoch)
          this.#beginQuorumAcked.add(source);
        return;
      case 'raft.end-quorum-epoch':
        this.#onEndQuorumEpoch(message);
        return;
      case 'raft.fetch':
        this.#onFetch(source, message);
        return;
      case 'raft.fetch-response':
        this.#onFetchResponse(source, message);
        return;
    }
  }

  /** The connection to `target` was refused: a fetcher tries elsewhere, a candidate asks again. */
  unreachable(target: NodeId, message: RaftMessage): void {
    this.#changes++;
    if (message.kind === 'raft.vote') {
      this.#retryVote(target, message);
      return;
    }
    if (message.kind !== 'raft.fetch' || message.fetchId !== this.#fetchInFlight) return;
    this.#fetchInFlight = null;
    if (this.#role === 'observer' && target === this.#leaderId) this.#leaderId = null;
    this.#scheduleFetch(this.config.retryBackoffMs);
  }

  #setTimer(delayMs: Ms, label: string, fire: () => void): TimerHandle {
    return this.host.setTimer(delayMs, label, () => {
      this.#changes++;
      fire();
    });
  }

  // The timers set on every fetch (or reset by every response) fire these, made once per node:
  // through #setTimer each cost a wrapper and a closure, kept while the timer is queued. Each of
  // their handles is the only one of its kind at a time (setting one cancels the last, and so does
  // #leaveRole), so what a timer needs can wait in a field.

  readonly #onFetchDue = (): void => {
    this.#changes++;
    this.#requestTimer = null;
    this.#sendFetch();
  };

  /** The fetch and its target that the request timer (`raft.fetch-timeout`) waits on. */
  #retryFetchId = -1;
  #retryTarget: NodeId = '';

  readonly #onFetchRequestTimeout = (): void => {
    this.#changes++;
    this.#requestTimer = null;
    if (this.#fetchInFlight !== this.#retryFetchId) return;
    this.#fetchInFlight = null;
    if (this.#role === 'observer' && this.#retryTarget === this.#leaderId) this.#leaderId = null;
    this.#sendFetch();
  };

  readonly #onElectionTimeout = (): void => {
    this.#changes++;
    this.#electionTimer = null;
    if (this.#role === 'unattached' || this.#role === 'prospective' || this.#role === 'candidate') {
      this.#becomeProspective();
    }
  };

  readonly #onLeaderFetchTimeout = (): void => {
    this.#changes++;
    this.#fetchTimer = null;
    if (this.#role !== 'follower') return;
    this.#trace('raft.leader-lost', { epoch: this.#epoch, leader: this.#leaderId });
    this.#becomeProspective();
  };

  // ---- votes ---------------------------------------------------------------------------------

  #onVote(source: NodeId, request: VoteRequest): void {
    if (!this.isVoter) return;
    const granted = request.preVote ? this.#decidePreVote(request) : this.#decideVote(request);
    const response: VoteResponse = {
      kind: 'raft.vote-response',
      epoch: this.#epoch,
      requestEpoch: request.epoch,
      granted,
      preVote: request.preVote,
      leaderId: this.#leaderId,
    };
    this.host.send(source, response, 32);
  }

  #decidePreVote(request: VoteRequest): boolean {
    // A pre-vote names the epoch the candidate would stand in: one past its current epoch.
    if (request.epoch <= this.#epoch) return false;
    // A voter that hears from a leader refuses: this is what keeps a rejoining voter from
    // disrupting a healthy quorum (KIP-996).
    if (this.#role === 'leader') return false;
    if (
      this.#role === 'follower' &&
      this.host.nowMs - this.#lastLeaderContactMs < this.config.fetchTimeoutMs
    ) {
      return false;
    }
    return this.bugs.has('raft-vote-ignores-log') || this.#logIsUpToDate(request);
  }

  #decideVote(request: VoteRequest): boolean {
    if (request.epoch < this.#epoch)
      return this.#refuseVote(request, `its epoch ${request.epoch} is behind ${this.#epoch}`);
    if (request.epoch > this.#epoch) this.#becomeUnattached(request.epoch, null);
    if (this.#role === 'leader') return this.#refuseVote(request, 'this voter leads the epoch');
    if (this.#role === 'follower')
      return this.#refuseVote(request, `this voter follows ${this.#leaderId} in the epoch`);
    if (this.#votedId !== null) {
      if (this.#votedId === request.candidateId) return true;
      return this.#refuseVote(request, `this voter voted for ${this.#votedId} in the epoch`);
    }
    if (!this.bugs.has('raft-vote-ignores-log') && !this.#logIsUpToDate(request)) {
      return this.#refuseVote(
        request,
        `its log (last epoch ${request.lastEpoch}, end ${request.endOffset}) is behind this voter's (last epoch ${this.log.lastEpoch}, end ${this.log.endOffset})`,
      );
    }
    this.#votedId = request.candidateId;
    // Persist before answering; the bug answers with the vote only in the page cache.
    this.#persist(!this.bugs.has('raft-vote-not-persisted'));
    // Both logs' ends, so a story can tell whether the candidate's log was as up to date.
    this.#trace('raft.voted', {
      epoch: this.#epoch,
      candidate: request.candidateId,
      candidateLastEpoch: request.lastEpoch,
      candidateEndOffset: request.endOffset,
      lastEpoch: this.log.lastEpoch,
      endOffset: this.log.endOffset,
    });
    if (this.#role === 'unattached') this.#resetElectionTimer();
    return true;
  }

  /** A vote refused (not a pre-vote: those come and go with every election timeout), and why. */
  #refuseVote(request: VoteRequest, why: string): false {
    this.#trace('raft.vote-refused', { epoch: request.epoch, candidate: request.candidateId, why });
    return false;
  }

  #logIsUpToDate(request: VoteRequest): boolean {
    const lastEpoch = this.log.lastEpoch;
    return (
      request.lastEpoch > lastEpoch ||
      (request.lastEpoch === lastEpoch && request.endOffset >= this.log.endOffset)
    );
  }

  #onVoteResponse(source: NodeId, response: VoteResponse): void {
    if (response.epoch > this.#epoch) {
      this.#learnEpoch(response.epoch, response.leaderId);
      return;
    }
    const standing = response.preVote ? this.#role === 'prospective' : this.#role === 'candidate';
    if (!standing || response.requestEpoch !== this.#candidateEpoch()) return;
    if (response.granted) this.#grants.add(source);
    else this.#rejections.add(source);
    if (this.#grants.size >= this.majority) {
      if (response.preVote) this.#becomeCandidate();
      else this.#becomeLeader();
    } else if (this.#rejections.size > this.config.voters.length - this.majority) {
      // This round cannot succeed: wait out a randomised backoff, then try again.
      this.#trace('raft.election-lost', {
        epoch: this.#candidateEpoch(),
        preVote: response.preVote,
      });
      this.#becomeUnattached(this.#epoch, this.#votedId);
    }
  }

  /** The epoch an election round stands in: the next one for a pre-vote, the current one after. */
  #candidateEpoch(): number {
    return this.#role === 'prospective' ? this.#epoch + 1 : this.#epoch;
  }

  // ---- quorum epoch announcements ------------------------------------------------------------

  #onBeginQuorumEpoch(source: NodeId, request: BeginQuorumEpochRequest): void {
    if (!this.isVoter) return;
    if (
      request.epoch >= this.#epoch &&
      !(request.epoch === this.#epoch && this.#role === 'leader')
    ) {
      if (
        this.#role !== 'follower' ||
        this.#epoch !== request.epoch ||
        this.#leaderId !== request.leaderId
      ) {
        this.#becomeFollower(request.epoch, request.leaderId);
      }
    }
    const response = { kind: 'raft.begin-quorum-epoch-response', epoch: this.#epoch } as const;
    this.host.send(source, response, 16);
  }

  #onEndQuorumEpoch(request: EndQuorumEpochRequest): void {
    if (!this.isVoter || request.epoch !== this.#epoch || this.#role !== 'follower') return;
    if (this.#leaderId !== request.leaderId) return;
    // Elect soon, the preferred successors first.
    const rank = Math.max(0, request.preferredSuccessors.indexOf(this.host.nodeId));
    this.#lastLeaderContactMs = Number.NEGATIVE_INFINITY;
    this.#becomeUnattached(this.#epoch, this.#votedId);
    this.#setElectionTimer(this.config.retryBackoffMs * (1 + rank * 10));
  }

  // ---- fetch: the leader's side --------------------------------------------------------------

  #onFetch(source: NodeId, request: FetchRequest): void {
    if (this.#role !== 'leader') {
      this.#answerFetch(
        source,
        request,
        request.epoch > this.#epoch ? 'UNKNOWN_LEADER_EPOCH' : 'NOT_LEADER_OR_FOLLOWER',
      );
      return;
    }
    if (request.epoch < this.#epoch) {
      this.#answerFetch(source, request, 'FENCED_LEADER_EPOCH');
      return;
    }
    if (request.epoch > this.#epoch) {
      this.#answerFetch(source, request, 'UNKNOWN_LEADER_EPOCH');
      return;
    }
    if (request.fetchOffset > 0) {
      const local = this.log.endOffsetForEpoch(request.lastFetchedEpoch);
      if (local.epoch !== request.lastFetchedEpoch || request.fetchOffset > local.endOffset) {
        this.#answerFetch(source, request, 'NONE', local);
        return;
      }
    }
    const progress = this.#progress.get(source);
    if (progress !== undefined) {
      progress.endOffset = request.fetchOffset;
      progress.lastFetchMs = this.host.nowMs;
      this.#maybeAdvanceHighWatermark();
    }
    if (request.fetchOffset < this.log.endOffset) {
      this.#answerFetch(source, request, 'NONE');
      return;
    }
    // Nothing new: hold the fetch (long poll) until there is, or the wait runs out.
    this.#unpark(source);
    const timer = this.host.setTimer(
      this.config.fetchMaxWaitMs,
      'raft.fetch-wait',
      this.#fetchWaitsOver.get(source) ?? this.#newFetchWaitOver(source),
    );
    this.#parked.push({ source, request, timer });
  }

  /**
   * What the wait timer of `source`'s parked fetch fires: made once per fetcher, not once per
   * fetch (most fetches are parked). The fetch parked when it fires is the timer's own: every way
   * out of #parked (#unpark, #completeParkedFetches, #leaveRole) cancels the timer.
   */
  #newFetchWaitOver(source: NodeId): () => void {
    const over = () => {
      this.#changes++;
      const parked = this.#takeParked(source);
      if (parked === undefined) return;
      if (this.#role === 'leader') this.#answerFetch(source, parked.request, 'NONE');
    };
    this.#fetchWaitsOver.set(source, over);
    return over;
  }

  #answerFetch(
    source: NodeId,
    request: FetchRequest,
    error: FetchResponse['error'],
    divergingEpoch: FetchResponse['divergingEpoch'] = null,
  ): void {
    const entries =
      error === 'NONE' && divergingEpoch === null
        ? this.log.read(request.fetchOffset, request.maxBytes)
        : NO_ENTRIES;
    const response: FetchResponse = {
      kind: 'raft.fetch-response',
      fetchId: request.fetchId,
      error,
      epoch: this.#epoch,
      leaderId: this.#leaderId,
      divergingEpoch,
      entries,
      baseOffset: request.fetchOffset,
      highWatermark: this.#highWatermark,
    };
    let bytes = 64;
    for (const entry of entries) bytes += entry.sizeBytes;
    this.host.send(source, response, bytes);
  }

  /** Answers every parked fetch (new entries or a new high watermark). */
  #completeParkedFetches(): void {
    const parked = this.#parked;
    if (parked.length === 0) return;
    this.#parked = this.#parkedSpare;
    this.#parkedSpare = parked;
    for (let index = 0; index < parked.length; index++) {
      const fetch = parked[index] as ParkedFetch;
      this.host.cancelTimer(fetch.timer);
      this.#answerFetch(fetch.source, fetch.request, 'NONE');
    }
    parked.length = 0;
  }

  #unpark(source: NodeId): void {
    const parked = this.#takeParked(source);
    if (parked !== undefined) this.host.cancelTimer(parked.timer);
  }

  /** Takes `source`'s parked fetch out of the list, if it has one. */
  #takeParked(source: NodeId): ParkedFetch | undefined {
    const parked = this.#parked;
    for (let index = 0; index < parked.length; index++) {
      const fetch = parked[index] as ParkedFetch;
      if (fetch.source !== source) continue;
      removeAt(parked, index);
      return fetch;
    }
    return undefined;
  }

  #maybeAdvanceHighWatermark(): void {
    // A loop into an array kept for it, not a map over a closure: this runs on every fetch.
    const voters = this.config.voters;
    const offsets = this.#voterOffsets;
    for (let i = 0; i < voters.length; i++) {
      const voter = voters[i] as NodeId;
      offsets[i] =
        voter === this.host.nodeId
          ? this.log.endOffset
          : (this.#progress.get(voter)?.endOffset ?? 0);
    }
    // Sorted in place, largest first, by insertion (a handful of voters): Array.prototype.sort
    // copied the array into a work array of its own on every fetch (7 % of what a small fuzz
    // seed allocated).
    for (let i = 1; i < offsets.length; i++) {
      const offset = offsets[i] as number;
      let j = i - 1;
      for (; j >= 0 && (offsets[j] as number) < offset; j--) offsets[j + 1] = offsets[j] as number;
      offsets[j + 1] = offset;
    }
    const candidate = offsets[this.majority - 1] as number;
    if (candidate <= this.#highWatermark) return;
    // Only an entry of the leader's own epoch commits what precedes it (Raft §5.4.2); the bug
    // counts replicas of older entries too.
    if (candidate <= this.#epochStartOffset && !this.bugs.has('raft-commit-old-epoch')) return;
    this.#setHighWatermark(candidate);
    this.#completeParkedFetches();
  }

  /** After a batch is appended: flushed, counted, and sent to the fetches waiting for it. */
  #afterLeaderAppend(): void {
    // The leader flushes what it appends before it counts itself towards the high watermark.
    this.log.flush();
    if (this.config.voters.length === 1) this.#maybeAdvanceHighWatermark();
    this.#completeParkedFetches();
  }

  #checkQuorum(): void {
    if (this.#role !== 'leader') return;
    const windowMs = Math.floor((this.config.fetchTimeoutMs * 3) / 2);
    const nowMs = this.host.nowMs;
    let heard = 1;
    for (const [voter, progress] of this.#progress) {
      if (voter !== this.host.nodeId && nowMs - progress.lastFetchMs <= windowMs) heard++;
    }
    if (heard < this.majority && !this.bugs.has('raft-no-check-quorum')) {
      this.#trace('raft.resign', { epoch: this.#epoch, reason: 'check-quorum', heard });
      this.#becomeUnattached(this.#epoch, this.#votedId);
      return;
    }
    this.#checkQuorumTimer = this.#setTimer(this.#checkQuorumEveryMs(), 'raft.check-quorum', () =>
      this.#checkQuorum(),
    );
  }

  /**
   * Announces the epoch to every voter that has not acknowledged it, and again to any voter that
   * has not fetched for fetchTimeoutMs / 2 (Kafka's beginQuorumEpochTimeoutMs). That is how a
   * voter that lost track of the leader learns it again: cut off long enough to stop following,
   * it asks for pre-votes in vain (the others still hear from the leader) and fetches from nobody.
   */
  #sendBeginQuorumEpoch(): void {
    if (this.#role !== 'leader') return;
    const nowMs = this.host.nowMs;
    const silentMs = this.#beginQuorumEpochEveryMs();
    for (const voter of this.config.voters) {
      if (voter === this.host.nodeId) continue;
      const lastFetchMs = this.#progress.get(voter)?.lastFetchMs ?? Number.NEGATIVE_INFINITY;
      if (this.#beginQuorumAcked.has(voter) && nowMs - lastFetchMs < silentMs) continue;
      const request: BeginQuorumEpochRequest = {
        kind: 'raft.begin-quorum-epoch',
        epoch: this.#epoch,
        leaderId: this.host.nodeId,
      };
      this.host.send(voter, request, 32);
    }
    this.#beginQuorumTimer = this.#setTimer(silentMs, 'raft.begin-quorum-epoch', () =>
      this.#sendBeginQuorumEpoch(),
    );
  }

  // ---- fetch: the fetcher's side -------------------------------------------------------------

  #scheduleFetch(delayMs: Ms): void {
    if (this.#requestTimer !== null) this.host.cancelTimer(this.#requestTimer);
    this.#requestTimer = this.host.setTimer(delayMs, 'raft.fetch', this.#onFetchDue);
  }

  #fetchTarget(): NodeId {
    if (this.#leaderId !== null && this.#leaderId !== this.host.nodeId) return this.#leaderId;
    // An observer that knows no leader asks the voters in turn; any of them names the leader.
    const voters = this.config.voters;
    const target = voters[this.#observerTargetIndex % voters.length] as NodeId;
    this.#observerTargetIndex++;
    return target;
  }

  #sendFetch(): void {
    if (this.#role !== 'follower' && this.#role !== 'observer') return;
    // Whatever was appended from the last response is flushed before the next fetch reports it.
    this.log.flush();
    const fetchId = this.#fetchIdNext++;
    this.#fetchInFlight = fetchId;
    const request: FetchRequest = {
      kind: 'raft.fetch',
      fetchId,
      epoch: this.#epoch,
      replicaId: this.host.nodeId,
      fetchOffset: this.log.endOffset,
      lastFetchedEpoch: this.log.lastEpoch,
      maxBytes: this.config.fetchMaxBytes,
    };
    const target = this.#fetchTarget();
    this.host.send(target, request, 64);
    // No answer within the request timeout (a long poll answers well before): ask again.
    this.#scheduleRetry(fetchId, target);
  }

  #scheduleRetry(fetchId: number, target: NodeId): void {
    if (this.#requestTimer !== null) this.host.cancelTimer(this.#requestTimer);
    this.#retryFetchId = fetchId;
    this.#retryTarget = target;
    this.#requestTimer = this.host.setTimer(
      this.config.requestTimeoutMs,
      'raft.fetch-timeout',
      this.#onFetchRequestTimeout,
    );
  }

  #onFetchResponse(source: NodeId, response: FetchResponse): void {
    if (response.fetchId !== this.#fetchInFlight) return;
    if (this.#role !== 'follower' && this.#role !== 'observer') return;
    this.#fetchInFlight = null;
    if (response.epoch > this.#epoch) {
      this.#learnEpoch(response.epoch, response.leaderId);
      if (this.#role === 'observer') this.#scheduleFetch(0);
      return;
    }
    if (response.error !== 'NONE') {
      if (this.#role === 'observer') {
        this.#leaderId = response.leaderId !== source ? response.leaderId : null;
      }
      this.#scheduleFetch(this.config.retryBackoffMs);
      return;
    }
    if (response.epoch < this.#epoch) {
      this.#scheduleFetch(this.config.retryBackoffMs);
      return;
    }
    if (this.#role === 'observer') this.#leaderId = source;
    this.#lastLeaderContactMs = this.host.nowMs;
    if (this.#role === 'follower') this.#resetFetchTimer();
    if (response.divergingEpoch !== null) {
      const diverging = response.divergingEpoch;
      const local = this.log.endOffsetForEpoch(diverging.epoch);
      const truncateTo = Math.min(diverging.endOffset, local.endOffset);
      this.#trace('raft.truncate', {
        from: this.log.endOffset,
        to: truncateTo,
        epoch: diverging.epoch,
      });
      this.log.truncateTo(truncateTo);
      if (this.#highWatermark > truncateTo) {
        // Committed entries are being removed: impossible in a correct quorum, and exactly what the
        // checkers must see (raft-log-matching, raft-hw-monotonic) rather than a crash here.
        this.#trace('raft.truncate-below-hw', {
          highWatermark: this.#highWatermark,
          to: truncateTo,
        });
        this.#highWatermark = truncateTo;
      }
      this.#scheduleFetch(0);
      return;
    }
    if (response.baseOffset === this.log.endOffset) {
      for (const entry of response.entries) this.log.append(entry);
    }
    const highWatermark = Math.min(response.highWatermark, this.log.endOffset);
    if (highWatermark > this.#highWatermark) this.#setHighWatermark(highWatermark);
    this.#scheduleFetch(0);
  }

  // ---- roles ---------------------------------------------------------------------------------

  #becomeObserver(): void {
    this.#role = 'observer';
    this.#trace('raft.role', { role: 'observer', epoch: this.#epoch });
    this.#scheduleFetch(0);
  }

  #becomeUnattached(epoch: number, votedId: NodeId | null): void {
    const wasLeader = this.#role === 'leader';
    // The fetches parked at it, before #leaveRole drops them (and cancels their timers).
    const parked = wasLeader ? this.#parked.slice() : NO_PARKED;
    this.#leaveRole();
    this.#role = 'unattached';
    this.#epoch = epoch;
    this.#votedId = votedId;
    this.#leaderId = null;
    this.#persist(true);
    this.#trace('raft.role', { role: 'unattached', epoch });
    if (wasLeader) this.#listener.onResign?.(epoch);
    this.#refuseParked(parked);
    this.#resetElectionTimer();
  }

  #becomeFollower(epoch: number, leaderId: NodeId): void {
    const wasLeader = this.#role === 'leader';
    // The fetches parked at it, before #leaveRole drops them (and cancels their timers).
    const parked = wasLeader ? this.#parked.slice() : NO_PARKED;
    this.#leaveRole();
    this.#role = 'follower';
    if (epoch !== this.#epoch) this.#votedId = null;
    this.#epoch = epoch;
    this.#leaderId = leaderId;
    this.#persist(true);
    this.#lastLeaderContactMs = this.host.nowMs;
    this.#trace('raft.role', { role: 'follower', epoch, leader: leaderId });
    if (wasLeader) this.#listener.onResign?.(epoch);
    this.#refuseParked(parked);
    this.#resetFetchTimer();
    this.#scheduleFetch(0);
  }

  /** Pre-vote: ask whether an election would succeed, without touching any epoch. */
  #becomeProspective(): void {
    this.#leaveRole();
    this.#role = 'prospective';
    this.#leaderId = null;
    this.#grants.clear();
    this.#rejections.clear();
    this.#grants.add(this.host.nodeId);
    this.#trace('raft.role', { role: 'prospective', epoch: this.#epoch });
    this.#requestVotes(true);
    this.#resetElectionTimer();
    if (this.#grants.size >= this.majority) this.#becomeCandidate();
  }

  #becomeCandidate(): void {
    this.#leaveRole();
    this.#role = 'candidate';
    this.#epoch += 1;
    this.#votedId = this.host.nodeId;
    this.#leaderId = null;
    this.#persist(true);
    this.#grants.clear();
    this.#rejections.clear();
    this.#grants.add(this.host.nodeId);
    this.#trace('raft.role', { role: 'candidate', epoch: this.#epoch });
    this.#requestVotes(false);
    this.#resetElectionTimer();
    if (this.#grants.size >= this.majority) this.#becomeLeader();
  }

  #becomeLeader(): void {
    this.#leaveRole();
    this.#role = 'leader';
    this.#leaderId = this.host.nodeId;
    this.#persist(true);
    const nowMs = this.host.nowMs;
    this.#progress.clear();
    for (const voter of this.config.voters) {
      if (voter !== this.host.nodeId)
        this.#progress.set(voter, { endOffset: 0, lastFetchMs: nowMs });
    }
    this.#beginQuorumAcked.clear();
    this.#epochStartOffset = this.log.endOffset;
    this.#trace('raft.role', {
      role: 'leader',
      epoch: this.#epoch,
      epochStartOffset: this.#epochStartOffset,
    });
    // The leader's first act in a new epoch is an entry of that epoch.
    this.log.append({
      epoch: this.#epoch,
      payload: { type: 'leader-change', leaderId: this.host.nodeId },
      sizeBytes: 32,
    });
    this.#afterLeaderAppend();
    this.#sendBeginQuorumEpoch();
    this.#checkQuorumTimer = this.#setTimer(this.#checkQuorumEveryMs(), 'raft.check-quorum', () =>
      this.#checkQuorum(),
    );
    this.#listener.onBecomeLeader?.(this.#epoch, this.#epochStartOffset);
  }

  /** A message showed a newer epoch: follow its leader if named, else wait unattached. */
  #learnEpoch(epoch: number, leaderId: NodeId | null): void {
    if (!this.isVoter) {
      this.#epoch = epoch;
      this.#leaderId = leaderId;
      this.#persist(true);
      return;
    }
    if (leaderId !== null && leaderId !== this.host.nodeId) this.#becomeFollower(epoch, leaderId);
    else this.#becomeUnattached(epoch, null);
  }

  /**
   * A leader that steps down answers the fetches parked at it at once, NOT_LEADER_OR_FOLLOWER
   * with its new epoch and leader (KafkaRaftClient completes its fetch purgatory so on becoming a
   * follower or resigning), so that its fetchers go to the new leader rather than wait out their
   * request timeout.
   */
  #refuseParked(parked: readonly ParkedFetch[]): void {
    for (const { source, request } of parked)
      this.#answerFetch(source, request, 'NOT_LEADER_OR_FOLLOWER');
  }

  #leaveRole(): void {
    for (const timer of [
      this.#electionTimer,
      this.#checkQuorumTimer,
      this.#beginQuorumTimer,
      this.#fetchTimer,
      this.#requestTimer,
    ]) {
      if (timer !== null) this.host.cancelTimer(timer);
    }
    this.#electionTimer = null;
    this.#checkQuorumTimer = null;
    this.#beginQuorumTimer = null;
    this.#fetchTimer = null;
    this.#requestTimer = null;
    this.#fetchInFlight = null;
    for (const parked of this.#parked) this.host.cancelTimer(parked.timer);
    this.#parked.length = 0;
    for (const timer of this.#voteTimers.values()) this.host.cancelTimer(timer);
    this.#voteTimers.clear();
  }

  #requestVotes(preVote: boolean): void {
    const request: VoteRequest = {
      kind: 'raft.vote',
      epoch: preVote ? this.#epoch + 1 : this.#epoch,
      candidateId: this.host.nodeId,
      lastEpoch: this.log.lastEpoch,
      endOffset: this.log.endOffset,
      preVote,
    };
    for (const voter of this.config.voters)
      if (voter !== this.host.nodeId) this.#sendVote(voter, request);
  }

  /**
   * Sends a vote request, and asks again after the request timeout while it goes unanswered; at
   * most one request (or retry) per voter is outstanding.
   */
  #sendVote(voter: NodeId, request: VoteRequest): void {
    this.host.send(voter, request, 48);
    this.#setVoteTimer(voter, this.config.requestTimeoutMs, request);
  }

  /** Kafka's candidate keeps asking the voters whose answer it has not recorded, in the same round. */
  #retryVote(voter: NodeId, request: VoteRequest): void {
    if (this.#awaitsVote(voter, request))
      this.#setVoteTimer(voter, this.config.retryBackoffMs, request);
  }

  #setVoteTimer(voter: NodeId, delayMs: Ms, request: VoteRequest): void {
    const previous = this.#voteTimers.get(voter);
    if (previous !== undefined) this.host.cancelTimer(previous);
    const timer = this.#setTimer(delayMs, 'raft.vote-retry', () => {
      this.#voteTimers.delete(voter);
      if (this.#awaitsVote(voter, request)) this.#sendVote(voter, request);
    });
    this.#voteTimers.set(voter, timer);
  }

  #awaitsVote(voter: NodeId, request: VoteRequest): boolean {
    const standing = request.preVote ? this.#role === 'prospective' : this.#role === 'candidate';
    return (
      standing &&
      request.epoch === this.#candidateEpoch() &&
      request.endOffset === this.log.endOffset &&
      !this.#grants.has(voter) &&
      !this.#rejections.has(voter)
    );
  }

  // ---- timers --------------------------------------------------------------------------------

  #checkQuorumEveryMs(): Ms {
    return Math.max(1, Math.floor(this.config.fetchTimeoutMs / 2));
  }

  /** Kafka's beginQuorumEpochTimeoutMs: fetchTimeoutMs / 2. */
  #beginQuorumEpochEveryMs(): Ms {
    return Math.max(1, Math.floor(this.config.fetchTimeoutMs / 2));
  }

  #electionTimeoutMs(): Ms {
    return this.config.electionTimeoutMs + this.host.rng.int(0, this.config.electionBackoffMaxMs);
  }

  #resetElectionTimer(): void {
    this.#setElectionTimer(this.#electionTimeoutMs());
  }

  #setElectionTimer(delayMs: Ms): void {
    if (this.#electionTimer !== null) this.host.cancelTimer(this.#electionTimer);
    this.#electionTimer = this.host.setTimer(
      delayMs,
      'raft.election-timeout',
      this.#onElectionTimeout,
    );
  }

  #resetFetchTimer(): void {
    if (this.#fetchTimer !== null) this.host.cancelTimer(this.#fetchTimer);
    this.#fetchTimer = this.host.setTimer(
      this.config.fetchTimeoutMs,
      'raft.fetch-timeout-leader',
      this.#onLeaderFetchTimeout,
    );
  }

  // ---- state ---------------------------------------------------------------------------------

  #setHighWatermark(highWatermark: number): void {
    if (highWatermark < this.#highWatermark) {
      throw new AssertionError(
        `${this.host.nodeId}: high watermark would move back from ${this.#highWatermark} to ${highWatermark}`,
      );
    }
    this.#highWatermark = highWatermark;
    this.#listener.onHighWatermark?.(highWatermark);
  }

  /** Writes the quorum state; `durably` flushes it before anything is sent. */
  #persist(durably: boolean): void {
    const state: QuorumState = {
      epoch: this.#epoch,
      votedId: this.#votedId,
      leaderId: this.#leaderId,
    };
    if (durably) this.#state.writeDurably(state, 32);
    else this.#state.write(state, 32);
  }

  #trace(kind: string, fields: TraceFields): void {
    this.host.trace(kind, fields);
  }
}

function compareIds(a: NodeId, b: NodeId): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type { RaftEntry };
