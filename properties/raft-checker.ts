// The metadata quorum's invariants (KAFKA.md), checked after every event:
//   raft-election-safety        at most one leader per epoch; persisted epochs never decrease
//   raft-log-matching           committed entries agree on every voter; a committed entry is never
//                               lost (it stays on a majority of the voters' disks)
//   raft-hw-monotonic           a node's high watermark never decreases within an incarnation and
//                               never passes what a leader committed
//   metadata-staleness-bounded  an observer (broker) with two-way connectivity to a majority of the
//                               voters and to the current leader has applied every record
//                               committed more than 1.5 × fetch timeout + 2 × election timeout
//                               ago, plus a round trip to each voter and to the leader on its
//                               links as they are now (a leaderless observer asks the voters in
//                               turn: on slowed links, each ask takes its round trip)
// The checker reads each node's disk (the truth a restart rebuilds from) and running state. A
// voter's disk loss is outside the contract: every Raft violation after one is reported as an
// allowed loss (`voter-disk-loss`).

import { RAFT_LOG_FILE, type RaftEntry } from '../sim/kafka/raft/log.ts';
import type { RaftMessage } from '../sim/kafka/raft/messages.ts';
import {
  QUORUM_STATE_FILE,
  type QuorumState,
  type RaftConfig,
  type RaftNode,
} from '../sim/kafka/raft/raft-node.ts';
import { objectArray } from '../sim/kernel/arrays.ts';
import type { CheckpointFile, LogFile } from '../sim/kernel/disk.ts';
import type { Message, Network, NodeId } from '../sim/kernel/network.ts';
import type { NodeHost } from '../sim/kernel/node.ts';
import type { Clock, Ms } from '../sim/kernel/time.ts';
import type { TraceEvent } from '../sim/kernel/trace.ts';
import type { World } from '../sim/kernel/world.ts';
import { ActivityWatch } from './activity.ts';
import type { Violation, ViolationLog } from './violation.ts';

/** How a checker finds a node's Raft state: the running node, or null while it is down. */
export type RaftOf<M extends Message> = (host: NodeHost<M>) => RaftNode | null;

interface CommittedEntry {
  readonly epoch: number;
  readonly id: string;
  readonly atMs: Ms;
}

interface LogView {
  /** Length of the log prefix verified to match the committed entries. */
  verifiedUpTo: number;
  /** The entry at verifiedUpTo - 1 when verified (a different object there means a rewrite). */
  lastVerified: RaftEntry | undefined;
  durableEpoch: number;
  /** The disagreeing entry last reported (an ongoing disagreement is reported once). */
  reportedEntry: RaftEntry | undefined;
  /**
   * The node's log and quorum-state files as last looked up, in incarnation `filesIncarnation`
   * (see #logFile): a lookup per check allocated a closure each time.
   */
  logFile: LogFile<RaftEntry> | null;
  quorumFile: CheckpointFile<QuorumState> | null;
  filesIncarnation: number;
}

interface HighWatermarkView {
  incarnation: number;
  highWatermark: number;
  /** Whether "HW past what was committed" was reported in the episode going on (one report each). */
  reportedPast: boolean;
}

/** What a node looked like at the last full check: all equal means its Raft state is unchanged. */
interface NodeStamp {
  readonly host: NodeHost<Message>;
  status: string;
  incarnation: number;
  raft: RaftNode | null;
  changes: number;
  /** It moved since the last check. */
  moved: boolean;
}

/**
 * What moved since the last check: the nodes (their stamps' `moved`), whether any changed status,
 * or everything. One object per checker, filled in again at every check that finds a move: the
 * checks run after every event, and a new object and set each time were most of what they
 * allocated.
 */
interface Moved {
  all: boolean;
  statusMoved: boolean;
  /** Per node, in the order of the voters then the observers. */
  stamps: readonly NodeStamp[];
}

/**
 * Whether the node at `index` (voters first, then observers) is to be checked: it moved, or
 * everything is (`moved` null or `all`).
 */
function has(moved: Moved | null, index: number): boolean {
  return moved === null || moved.all || (moved.stamps[index] as NodeStamp).moved;
}

interface ObserverView {
  connectedSinceMs: Ms | null;
  leader: NodeId | null;
  /** When it becomes too stale if nothing moves (infinity: it cannot). */
  staleAtMs: Ms;
  /**
   * Its staleness bound on its links as they were at `linkedVersion`, before the voters it cannot
   * reach (RaftChecker.#boundFor).
   */
  boundMs: Ms;
  /** The voters it could not reach at `linkedVersion`, as bits by their index. */
  unreachable: number;
  /**
   * Since `connectedSinceMs`: every voter it could not reach at some moment, as bits (it may have
   * spent a request timeout on each, one coming back or another going down in the meantime), and
   * the bound that makes (RaftChecker.#stretchBound).
   */
  unreachableSeen: number;
  stretchBoundMs: Ms;
  /**
   * Whether it had two-way links to `linkedLeader` and to a majority of running voters at
   * connectivity version `linkedVersion` (RaftChecker.#linkedToQuorum).
   */
  linked: boolean;
  linkedLeader: NodeId | null;
  linkedVersion: number;
}

function newObserverView(): ObserverView {
  return {
    connectedSinceMs: null,
    leader: null,
    staleAtMs: Number.POSITIVE_INFINITY,
    boundMs: 0,
    unreachable: 0,
    unreachableSeen: 0,
    stretchBoundMs: 0,
    linked: false,
    linkedLeader: null,
    linkedVersion: -1,
  };
}

function logOf(host: NodeHost<Message>): LogFile<RaftEntry> {
  return host.disk.log<RaftEntry>(RAFT_LOG_FILE);
}

export function entryId(entry: RaftEntry): string {
  return entry.payload.type === 'record'
    ? entry.payload.id
    : `leader-change:${entry.payload.leaderId}`;
}

/** The staleness bound: 1.5 × fetch timeout + 2 × the longest election timeout. */
export function stalenessBoundMs(config: Omit<RaftConfig, 'voters'>): Ms {
  return (
    Math.floor((config.fetchTimeoutMs * 3) / 2) +
    2 * (config.electionTimeoutMs + config.electionBackoffMaxMs)
  );
}

export class RaftChecker<M extends Message = RaftMessage> {
  readonly #world: World<M>;
  /** The world's network and clock, held: read at every check. */
  readonly #network: Network<M>;
  readonly #clock: Clock;
  readonly #raftOf: RaftOf<M>;
  readonly #log: ViolationLog;
  readonly #voters: readonly NodeId[];
  readonly #observers: readonly NodeId[];
  readonly #leaders = new Map<number, NodeId>();
  readonly #committed: CommittedEntry[] = objectArray();
  readonly #views = new Map<NodeId, LogView>();
  /** Voters and observers; an observer added during the run (add-broker) joins at the next check. */
  #nodes: readonly NodeId[];
  readonly #highWatermarks = new Map<NodeId, HighWatermarkView>();
  readonly #observerViews = new Map<NodeId, ObserverView>();
  /**
   * The same views by node index (#nodes'), and the observers' by observer index: the checks after
   * a move read them for every voter or observer, and a map lookup by name each was much of their
   * cost (small seeds, three to five voters: a third of the events move some node).
   */
  #viewAt: LogView[] = objectArray();
  #observerViewAt: ObserverView[] = objectArray();
  readonly #stalenessBoundMs: Ms;
  readonly #requestTimeoutMs: Ms;
  #voterDiskLost: NodeId | null = null;
  readonly #reportedLeaders = new Set<string>();
  /** Per node (in #nodes' order), its state when last stamped; and the network's topology then. */
  #stamps: NodeStamp[] = objectArray();
  /** The nodes entered since the last check: only their Raft state or status can have moved. */
  #entered: ActivityWatch<M> | null = null;
  /** The caller's watch, looked at before every check (see the `activity` option), if any. */
  readonly #sharedActivity: ActivityWatch<M> | null;
  /** The shared watch's look this checker last stamped after (its `looks`). */
  #lastLook = 0;
  /** What the last check found moved (see Moved). */
  readonly #movedNow: Moved = { all: false, statusMoved: false, stamps: [] };
  /** Some node moved: #stampAll found one, or (until the next stamp) the last check did. */
  #anyMoved = false;
  #topologyVersion = -1;
  /** Moves with the topology and whenever a node's status moved (see #linkedToQuorum). */
  #connectivityVersion = 0;
  /** The earliest moment a connected observer could become too stale with nothing else moving. */
  #staleAtMs: Ms = Number.POSITIVE_INFINITY;
  /** The committed entries' count and the current leader at the last check. */
  #committedChecked = -1;
  #leaderChecked: NodeId | null = null;
  /** Set by #stampAll: some node went down, came up or restarted. */
  #statusMoved = false;
  /** Check everything after every event, skipping nothing (to test that skipping changes nothing). */
  readonly #fullChecks: boolean;

  constructor(
    world: World<M>,
    config: RaftConfig,
    observers: readonly NodeId[],
    raftOf: RaftOf<M>,
    log: ViolationLog,
    options: {
      readonly fullChecks?: boolean;
      /**
       * A watch over the voters then the observers that the caller looks at (ActivityWatch.look)
       * before every check, shared with its other checks: the nodes' activity is read once per
       * event instead of once per check.
       */
      readonly activity?: ActivityWatch<M>;
    } = {},
  ) {
    this.#fullChecks = options.fullChecks ?? false;
    this.#sharedActivity = options.activity ?? null;
    this.#world = world;
    this.#network = world.network;
    this.#clock = world.scheduler.clock;
    this.#raftOf = raftOf;
    this.#log = log;
    this.#voters = config.voters;
    this.#observers = observers;
    this.#stalenessBoundMs = stalenessBoundMs(config);
    this.#requestTimeoutMs = config.requestTimeoutMs;
    this.#nodes = [];
    this.#stampNew();
  }

  get majority(): number {
    return Math.floor(this.#voters.length / 2) + 1;
  }

  /** Entries known committed so far (the longest high watermark any leader reached). */
  get committedLength(): number {
    return this.#committed.length;
  }

  /** The trace kinds onTraceEvent reads. */
  static readonly TRACE_KINDS: readonly string[] = ['node.crash'];

  /** Feed every trace event here (those of TRACE_KINDS suffice): the checker notes voters' disk losses. */
  onTraceEvent(event: TraceEvent): void {
    if (
      event.kind === 'node.crash' &&
      event.fields?.['crash'] === 'diskLoss' &&
      this.#voters.includes(event.node)
    ) {
      this.#voterDiskLost ??= event.node;
      const view = this.#views.get(event.node);
      if (view !== undefined) {
        view.verifiedUpTo = 0;
        view.lastVerified = undefined;
        view.durableEpoch = 0;
        view.logFile = null;
        view.quorumFile = null;
      }
    }
  }

  /**
   * Runs the per-event checks, after every event. A node's Raft state changes only when the node
   * runs (RaftNode.changes) or its host goes down, up or restarts; connectivity only with the
   * topology; staleness otherwise only with time. So only the nodes that moved are checked again
   * (#checkAll says when every node is), and nothing when nothing moved: the checks would find what
   * they found at the last check.
   */
  check(): void {
    if (this.#nothingMoved()) return;
    const moved = this.#moved();
    if (this.#fullChecks) this.#checkAll(null);
    else if (moved !== null) this.#checkAll(moved);
  }

  /**
   * #moved's answer null, told the short way in the common case: a shared watch whose look (the
   * next after the last check's) found at most one node entered, nothing moved at the last check,
   * and that node's stamp still holds. It then takes the look in, as #moved would (its other
   * writes would store what is there); false leaves everything to #moved. The checks after most
   * events end here: #moved's way (its stamp loops, the Moved record) cost about three times as
   * much per event, where nearly every event moves nothing the checker reads.
   */
  #nothingMoved(): boolean {
    const shared = this.#sharedActivity;
    if (shared === null || this.#fullChecks || this.#anyMoved) return false;
    const looks = shared.looks;
    const count = shared.lookedCount;
    if (
      looks !== this.#lastLook + 1 ||
      count > 1 ||
      this.#network.topologyVersion !== this.#topologyVersion ||
      this.#clock.nowMs >= this.#staleAtMs ||
      this.#stamps.length !== this.#voters.length + this.#observers.length
    )
      return false;
    if (count === 1 && !this.#holds(this.#stamps[shared.lookedAt(0)] as NodeStamp)) return false;
    this.#lastLook = looks;
    return true;
  }

  /** Whether the node's Raft state and status are as `stamp` holds them (#restamp's test). */
  #holds(stamp: NodeStamp): boolean {
    const host = stamp.host;
    const raft = this.#raftOf(host as NodeHost<M>);
    return (
      stamp.changes === (raft?.changes ?? 0) &&
      stamp.raft === raft &&
      stamp.status === host.status &&
      stamp.incarnation === host.incarnation
    );
  }

  /**
   * What moved since the last check: null when nothing did (no node, no link, no staleness
   * deadline passed); otherwise the nodes that moved, and `all` when the topology moved or a
   * staleness deadline passed.
   */
  #moved(): Moved | null {
    const topologyMoved = this.#world.network.topologyVersion !== this.#topologyVersion;
    this.#topologyVersion = this.#world.network.topologyVersion;
    // A broker was added: stamp every node afresh.
    if (this.#stamps.length !== this.#voters.length + this.#observers.length) this.#stampNew();
    this.#statusMoved = false;
    const anyMoved = this.#stampAll();
    if (topologyMoved || this.#statusMoved) this.#connectivityVersion++;
    const stale = this.#world.nowMs >= this.#staleAtMs;
    if (!anyMoved && !topologyMoved && !stale) return null;
    const moved = this.#movedNow;
    moved.all = topologyMoved || stale;
    moved.statusMoved = this.#statusMoved;
    moved.stamps = this.#stamps;
    return moved;
  }

  /**
   * Takes in the nodes and stamps every one afresh: when made (not at the first check, a path the
   * next run's first check took in #moved's optimised code, compiled without its feedback, which it
   * threw away), and when a broker is added.
   */
  #stampNew(): void {
    this.#addNodes();
    this.#stamps = this.#newStamps();
    this.#anyMoved = false;
    this.#connectivityVersion++;
    // A new watch visits every node at its first look: each new stamp is filled in. (A shared
    // watch visits every node at the look that finds the node added, before this check.)
    this.#entered = this.#sharedActivity ?? new ActivityWatch(this.#world, this.#nodes);
  }

  /**
   * A blank stamp per node. Apart from #moved: a closure there (it reads `this`) made every check
   * allocate its context, though the closure is only made when a node is added.
   */
  #newStamps(): NodeStamp[] {
    return this.#nodes.map((node) => ({
      host: this.#world.node(node) as NodeHost<Message>,
      status: '',
      incarnation: -1,
      raft: null,
      changes: -1,
      moved: false,
    }));
  }

  /** Takes in the observers added since the last call (the observers' list is live). */
  #addNodes(): void {
    this.#nodes = [...this.#voters, ...this.#observers];
    for (const node of this.#nodes) {
      if (this.#views.has(node)) continue;
      const view: LogView = {
        verifiedUpTo: 0,
        lastVerified: undefined,
        durableEpoch: 0,
        reportedEntry: undefined,
        logFile: null,
        quorumFile: null,
        filesIncarnation: -1,
      };
      this.#views.set(node, view);
      // The files the node holds now, looked up here (a lookup of a file that exists creates
      // nothing): #filesOf's and #logFile's first lookups otherwise ran in a run's first checks
      // only, compiled without feedback, and the next run's first checks threw away #checkLeaders'
      // and #logFile's optimised code. Written by #filesOf, as at those lookups: a field V8 saw
      // written only once is taken as constant, and its first change (a restart) threw away the
      // code that read it.
      const host = this.#world.node(node);
      this.#filesOf(view, host);
      if (host.disk.has(RAFT_LOG_FILE)) view.logFile = logOf(host);
      if (host.disk.has(QUORUM_STATE_FILE))
        view.quorumFile = host.disk.checkpoint<QuorumState>(QUORUM_STATE_FILE);
    }
    for (const observer of this.#observers)
      if (!this.#observerViews.has(observer)) this.#observerViews.set(observer, newObserverView());
    this.#viewAt = this.#nodes.map((node) => this.#views.get(node) as LogView);
    this.#observerViewAt = this.#observers.map(
      (observer) => this.#observerViews.get(observer) as ObserverView,
    );
  }

  /**
   * Brings the stamps of the nodes entered since the last check up to date (a node not entered
   * kept its Raft state and status) and marks those that moved; whether any did.
   */
  #stampAll(): boolean {
    // Indexed: a for-of here allocated an iterator per check.
    if (this.#anyMoved)
      for (let index = 0; index < this.#stamps.length; index++)
        (this.#stamps[index] as NodeStamp).moved = false;
    this.#anyMoved = false;
    const shared = this.#sharedActivity;
    let watch: ActivityWatch<M>;
    let missed = false;
    if (shared !== null) {
      // A check skipped after some look missed which nodes were entered then: restamp them all.
      missed = shared.looks !== this.#lastLook + 1;
      this.#lastLook = shared.looks;
      watch = shared;
    } else {
      watch = this.#entered as ActivityWatch<M>;
      watch.look();
    }
    if (missed) for (let index = 0; index < watch.size; index++) this.#restamp(index);
    else {
      const count = watch.lookedCount;
      for (let position = 0; position < count; position++) this.#restamp(watch.lookedAt(position));
    }
    return this.#anyMoved;
  }

  #restamp(index: number): void {
    const stamp = this.#stamps[index] as NodeStamp;
    const host = stamp.host;
    const raft = this.#raftOf(host as NodeHost<M>);
    const changes = raft?.changes ?? 0;
    if (
      stamp.changes === changes &&
      stamp.raft === raft &&
      stamp.status === host.status &&
      stamp.incarnation === host.incarnation
    )
      return;
    if (stamp.status !== host.status || stamp.incarnation !== host.incarnation)
      this.#statusMoved = true;
    stamp.changes = changes;
    stamp.raft = raft;
    stamp.status = host.status;
    stamp.incarnation = host.incarnation;
    stamp.moved = true;
    this.#anyMoved = true;
  }

  /**
   * Runs the checks over the nodes that moved (`moved` null: over every node). A node that did not
   * move would give what it gave at the last check, unless what the checks compare it with moved
   * too: the committed entries (then every log and high watermark is checked again), the leader or
   * the topology (then every observer's staleness), or time (a staleness deadline passed).
   */
  #checkAll(moved: Moved | null): void {
    this.#checkLeaders(moved);
    this.#recordCommits();
    let committedMoved = this.#committed.length !== this.#committedChecked;
    for (let index = 0; index < this.#nodes.length; index++)
      if (committedMoved || has(moved, index))
        this.#checkNodeLog(
          this.#nodes[index] as NodeId,
          this.#hostAt(index),
          this.#viewAt[index] as LogView,
        );
    this.#checkCommittedOnMajority();
    // A lost entry shortens the committed log: every high watermark is compared with it again.
    committedMoved ||= this.#committed.length !== this.#committedChecked;
    this.#checkHighWatermarks(committedMoved ? null : moved);
    this.#committedChecked = this.#committed.length;
    if (this.#observers.length === 0) return;
    const leader = this.#currentLeader();
    // An observer's staleness moves with its own state, the leader, the committed entries, and
    // connectivity (the topology, or a node going down or up); a voter's other steps leave it.
    const everyObserver =
      moved === null ||
      moved.all ||
      moved.statusMoved ||
      committedMoved ||
      leader !== this.#leaderChecked;
    this.#leaderChecked = leader;
    this.#staleAtMs = Number.POSITIVE_INFINITY;
    const voterCount = this.#voters.length;
    for (let index = 0; index < this.#observers.length; index++) {
      const observer = this.#observers[index] as NodeId;
      if (everyObserver || has(moved, voterCount + index))
        this.#checkStaleness(observer, leader, this.#hostAt(voterCount + index));
      const staleAtMs = (this.#observerViewAt[index] as ObserverView).staleAtMs;
      if (staleAtMs < this.#staleAtMs) this.#staleAtMs = staleAtMs;
    }
  }

  #report(violation: Omit<Violation, 'atMs'>): void {
    const atMs = this.#world.nowMs;
    if (this.#voterDiskLost !== null) {
      this.#log.allow({
        reason: 'voter-disk-loss',
        atMs,
        message: `after ${this.#voterDiskLost} lost its disk: ${violation.message}`,
      });
      return;
    }
    this.#log.report({ ...violation, atMs });
  }

  #checkLeaders(moved: Moved | null): void {
    for (let index = 0; index < this.#voters.length; index++) {
      if (!has(moved, index)) continue;
      const voter = this.#voters[index] as NodeId;
      const host = this.#hostAt(index);
      const raft = this.#raftOf(host);
      if (raft?.isLeader) {
        const known = this.#leaders.get(raft.epoch);
        if (known === undefined) this.#leaders.set(raft.epoch, voter);
        else if (known !== voter && !this.#reportedLeaders.has(`${raft.epoch}|${voter}`)) {
          // Once per (epoch, second leader): the condition holds for as long as both lead.
          this.#reportedLeaders.add(`${raft.epoch}|${voter}`);
          this.#report({
            invariant: 'raft-election-safety',
            message: `two metadata leaders in epoch ${raft.epoch}: ${known} and ${voter}`,
            nodes: [known, voter],
            epoch: raft.epoch,
          });
        }
      }
      const view = this.#viewAt[index] as LogView;
      const durable = host.disk.has(QUORUM_STATE_FILE)
        ? this.#quorumFile(view, host).readDurable()
        : undefined;
      const durableEpoch = durable?.epoch ?? 0;
      if (durableEpoch < view.durableEpoch) {
        this.#report({
          invariant: 'raft-election-safety',
          message: `${voter}'s persisted epoch went back from ${view.durableEpoch} to ${durableEpoch}`,
          nodes: [voter],
          epoch: durableEpoch,
        });
      }
      view.durableEpoch = Math.max(view.durableEpoch, durableEpoch);
    }
  }

  /** A leader's high watermark commits its log up to there. */
  #recordCommits(): void {
    for (let index = 0; index < this.#voters.length; index++) {
      const host = this.#hostAt(index);
      const raft = this.#raftOf(host);
      if (raft === null || !raft.isLeader || raft.highWatermark <= this.#committed.length) continue;
      const log = this.#logFile(this.#viewAt[index] as LogView, host);
      const upTo = Math.min(raft.highWatermark, log.length);
      for (let offset = this.#committed.length; offset < upTo; offset++) {
        const entry = log.at(offset);
        this.#committed.push({ epoch: entry.epoch, id: entryId(entry), atMs: this.#world.nowMs });
      }
    }
  }

  /**
   * The host of the node at `index` (voters first, then observers), as its stamp holds it: a
   * node's host is the same object for the whole run, and a lookup by name per use was a good
   * part of the checks' cost. The stamps are up to date with the nodes after #moved.
   */
  #hostAt(index: number): NodeHost<M> {
    return (this.#stamps[index] as NodeStamp).host as unknown as NodeHost<M>;
  }

  /**
   * The node's Raft log file, for a node that holds one (or is up: the lookup creates it). A disk
   * keeps its file objects until it is lost (a crash, which ends the incarnation; nothing deletes
   * these files), so the one looked up in this incarnation is still the disk's.
   */
  #logFile(view: LogView, host: NodeHost<M>): LogFile<RaftEntry> {
    this.#filesOf(view, host);
    view.logFile ??= logOf(host);
    return view.logFile;
  }

  /** The node's quorum-state file, for a node that holds one (as #logFile). */
  #quorumFile(view: LogView, host: NodeHost<M>): CheckpointFile<QuorumState> {
    this.#filesOf(view, host);
    view.quorumFile ??= host.disk.checkpoint<QuorumState>(QUORUM_STATE_FILE);
    return view.quorumFile;
  }

  /** Forgets the files looked up in an earlier incarnation. */
  #filesOf(view: LogView, host: NodeHost<M>): void {
    if (view.filesIncarnation === host.incarnation) return;
    view.filesIncarnation = host.incarnation;
    view.logFile = null;
    view.quorumFile = null;
  }

  /**
   * Verifies, incrementally, how much of a node's log agrees with the committed entries. A
   * different entry at a committed offset is fine while it is an uncommitted leftover the leader
   * will truncate (another epoch, above the node's own high watermark); it breaks the invariant
   * when it has the committed entry's epoch (two entries of one epoch at one offset) or when the
   * node already treats it as committed (below its high watermark).
   */
  #checkNodeLog(node: NodeId, host: NodeHost<M>, view: LogView): void {
    if (!host.disk.has(RAFT_LOG_FILE)) {
      view.verifiedUpTo = 0;
      view.lastVerified = undefined;
      return;
    }
    const log = this.#logFile(view, host);
    if (view.verifiedUpTo > log.length) {
      view.verifiedUpTo = log.length;
      view.lastVerified = log.length === 0 ? undefined : log.at(log.length - 1);
    } else if (view.verifiedUpTo > 0 && log.at(view.verifiedUpTo - 1) !== view.lastVerified) {
      view.verifiedUpTo = 0;
      view.lastVerified = undefined;
    }
    const end = Math.min(log.length, this.#committed.length);
    for (let offset = view.verifiedUpTo; offset < end; offset++) {
      const entry = log.at(offset);
      const committed = this.#committed[offset] as CommittedEntry;
      if (entry.epoch === committed.epoch && entryId(entry) === committed.id) {
        view.verifiedUpTo = offset + 1;
        view.lastVerified = entry;
        continue;
      }
      const highWatermark = this.#raftOf(host)?.highWatermark ?? 0;
      if (
        (entry.epoch === committed.epoch || offset < highWatermark) &&
        view.reportedEntry !== entry
      ) {
        // Once per disagreeing entry: it stays until the node truncates it.
        view.reportedEntry = entry;
        const why =
          entry.epoch === committed.epoch
            ? 'in the same epoch'
            : `below its high watermark ${highWatermark}`;
        this.#report({
          invariant: 'raft-log-matching',
          message: `${node} holds ${entryId(entry)} (epoch ${entry.epoch}) at offset ${offset} ${why}, where ${committed.id} (epoch ${committed.epoch}) was committed`,
          nodes: [node],
          epoch: entry.epoch,
          offset,
          value: committed.id,
          committedAtMs: committed.atMs,
          heldInstead: {
            node,
            value: entryId(entry),
            highWatermark,
            epoch: entry.epoch,
            committedEpoch: committed.epoch,
          },
        });
      }
      return;
    }
  }

  /** Every committed entry stays on a majority of the voters' disks. */
  #checkCommittedOnMajority(): void {
    const length = this.#committed.length;
    if (length === 0) return;
    // The common case, without allocating: a majority holds every committed entry.
    let holding = 0;
    for (let index = 0; index < this.#voters.length; index++)
      if ((this.#viewAt[index] as LogView).verifiedUpTo >= length) holding++;
    if (holding >= this.majority) return;
    const held = this.#voters.map((voter) => (this.#views.get(voter) as LogView).verifiedUpTo);
    held.sort((a, b) => b - a);
    const onMajority = held[this.majority - 1] as number;
    if (onMajority < length) {
      const holders = this.#voters.filter(
        (voter) => (this.#views.get(voter) as LogView).verifiedUpTo > onMajority,
      );
      const lost = this.#committed[onMajority] as CommittedEntry;
      this.#report({
        invariant: 'raft-log-matching',
        message: `committed entry ${lost.id} at offset ${onMajority} is lost: only on ${holders.join(', ') || 'no voter'}, not a majority of ${this.#voters.length}`,
        nodes: holders,
        offset: onMajority,
        epoch: lost.epoch,
        value: lost.id,
        committedAtMs: lost.atMs,
        holders: Object.fromEntries(holders.map((holder) => [holder, 'holds it'])),
      });
      // Report a lost entry once: forget what can no longer be on a majority.
      this.#committed.length = onMajority;
    }
  }

  #checkHighWatermarks(moved: Moved | null): void {
    const voterCount = this.#voters.length;
    for (let index = 0; index < voterCount; index++)
      if (has(moved, index))
        this.#checkHighWatermark(this.#voters[index] as NodeId, this.#hostAt(index));
    for (let index = 0; index < this.#observers.length; index++)
      if (has(moved, voterCount + index))
        this.#checkHighWatermark(
          this.#observers[index] as NodeId,
          this.#hostAt(voterCount + index),
        );
  }

  #checkHighWatermark(node: NodeId, host: NodeHost<M>): void {
    const raft = this.#raftOf(host);
    if (raft === null) return;
    const highWatermark = raft.highWatermark;
    let seen = this.#highWatermarks.get(node);
    if (seen === undefined || seen.incarnation !== host.incarnation) {
      seen = { incarnation: host.incarnation, highWatermark, reportedPast: false };
      this.#highWatermarks.set(node, seen);
    }
    if (highWatermark < seen.highWatermark) {
      this.#report({
        invariant: 'raft-hw-monotonic',
        message: `${node}'s metadata high watermark went back from ${seen.highWatermark} to ${highWatermark}`,
        nodes: [node],
        offset: highWatermark,
      });
    }
    seen.highWatermark = highWatermark;
    if (highWatermark <= this.#committed.length || raft.isLeader) {
      seen.reportedPast = false;
      return;
    }
    // Once per episode in an incarnation: reported again only after it ended.
    if (seen.reportedPast) return;
    seen.reportedPast = true;
    this.#report({
      invariant: 'raft-hw-monotonic',
      message: `${node}'s metadata high watermark ${highWatermark} says offsets 0–${highWatermark - 1} are committed; the checker holds ${committedRange(this.#committed.length)} committed (what a leader's high watermark committed and a majority of voters still holds)`,
      nodes: [node],
      offset: highWatermark,
    });
  }

  /** The up voter that leads the highest epoch, if any. */
  #currentLeader(): NodeId | null {
    let leader: NodeId | null = null;
    let epoch = -1;
    for (let index = 0; index < this.#voters.length; index++) {
      const host = this.#hostAt(index);
      const raft = this.#raftOf(host);
      if (raft?.isLeader && host.status === 'up' && raft.epoch > epoch) {
        leader = this.#voters[index] as NodeId;
        epoch = raft.epoch;
      }
    }
    return leader;
  }

  #checkStaleness(observer: NodeId, leader: NodeId | null, host: NodeHost<M>): void {
    // A broker added during the run (add-broker) gets its view when first seen.
    let view = this.#observerViews.get(observer);
    if (view === undefined) {
      view = newObserverView();
      this.#observerViews.set(observer, view);
    }
    const raft = this.#raftOf(host);
    const connected =
      raft !== null &&
      host.status === 'up' &&
      leader !== null &&
      this.#linkedToQuorum(view, observer, leader);
    view.staleAtMs = Number.POSITIVE_INFINITY;
    if (!connected || leader !== view.leader) {
      view.connectedSinceMs = connected ? this.#world.nowMs : null;
      view.leader = connected ? leader : null;
      this.#startStretch(view);
      if (connected) view.staleAtMs = this.#staleAt(view, this.#world.nowMs, raft.highWatermark);
      return;
    }
    const nowMs = this.#world.nowMs;
    const since = view.connectedSinceMs;
    if (since === null) return;
    view.stretchBoundMs = Math.max(view.stretchBoundMs, this.#stretchBound(view));
    view.staleAtMs = this.#staleAt(view, since, raft.highWatermark);
    if (nowMs - since < view.stretchBoundMs) return;
    const cutoffMs = nowMs - view.stretchBoundMs;
    const required = this.#committedBefore(cutoffMs);
    if (raft.highWatermark < required) {
      this.#report({
        invariant: 'metadata-staleness-bounded',
        message: `${observer} has applied ${raft.highWatermark === 0 ? 'no metadata' : `metadata up to offset ${raft.highWatermark - 1} only`}, though the quorum had committed up to offset ${required - 1} by ${cutoffMs} ms, ${view.stretchBoundMs} ms ago (its bound: ${this.#stalenessBoundMs} ms of timeouts, 1.5 × the fetch timeout and 2 × the longest election timeout; ${view.boundMs - this.#stalenessBoundMs} ms of round trips; ${view.stretchBoundMs - view.boundMs} ms of request timeouts), and it could reach the leader ${leader} and a majority of voters both ways since ${since} ms`,
        nodes: [observer, leader],
        offset: raft.highWatermark,
        sinceMs: since,
      });
      // Once per episode: wait for the next stretch of connectivity.
      view.connectedSinceMs = nowMs;
      this.#startStretch(view);
      view.staleAtMs = this.#staleAt(view, nowMs, raft.highWatermark);
    }
  }

  /**
   * An observer connected since `since` with high watermark `highWatermark` is too stale once the
   * bound has passed both since then and since the entry at its high watermark was committed.
   */
  #staleAt(view: ObserverView, since: Ms, highWatermark: number): Ms {
    const next = this.#committed[highWatermark];
    if (next === undefined) return Number.POSITIVE_INFINITY;
    return Math.max(since, next.atMs) + view.stretchBoundMs;
  }

  /**
   * Whether `observer` has two-way links to `leader` and to a majority of running voters. Both move
   * only with the topology or a node's status (#connectivityVersion): the answer is kept until
   * then. Staleness is checked at most steps of an observer's Raft node, and each answer asked the
   * network about up to eight links, two map lookups each: the most of what a check cost.
   */
  #linkedToQuorum(view: ObserverView, observer: NodeId, leader: NodeId): boolean {
    const version = this.#connectivityVersion;
    // With fullChecks, asked afresh every time (a test holds both ways to the same verdicts).
    if (view.linkedVersion === version && view.linkedLeader === leader && !this.#fullChecks)
      return view.linked;
    view.linked =
      this.#world.network.isConnected(observer, leader) && this.#reachesMajority(observer);
    view.boundMs = this.#boundFor(observer, view);
    view.linkedLeader = leader;
    view.linkedVersion = version;
    return view.linked;
  }

  /**
   * The staleness bound for `observer` on its links as they are now: the timeouts' bound, plus a
   * round trip on its slowest link to a voter for each voter and once more. An observer that
   * knows no leader asks the voters in turn until one names it, then fetches from the leader:
   * up to one round trip per voter and one to the leader, each as long as the link makes it (a
   * slowed link's 600 ms each way made a 5-voter discovery take ~5 s, past the timeouts' 7 s
   * bound after a stale leader's resignation: small seed 22755). On links of the default 1–3 ms
   * it adds a few tens of ms. A voter it cannot reach (down, or cut off either way) never answers:
   * asking it costs a request timeout, and so does one request already on its way to a node that
   * is gone when the stretch begins (a voter that had not yet heard of the election named the
   * old leader). Small seed 83601: the leader lost power, a voter named it to b2 just before
   * the next election, and b2 then asked it again, a partitioned voter and a crashed one in turn,
   * 2 s each, learning the new leader 8 s after it was elected, past the timeouts' 7 s bound.
   * Here the links' part, and the voters it cannot reach now as bits in `view.unreachable`
   * (#stretchBound adds their timeouts).
   */
  #boundFor(observer: NodeId, view: ObserverView): Ms {
    const network = this.#world.network;
    let roundTripMs = 0;
    let unreachable = 0;
    for (let index = 0; index < this.#voters.length; index++) {
      const voter = this.#voters[index] as NodeId;
      const tripMs =
        network.longestTripMs(observer, voter) + network.longestTripMs(voter, observer);
      if (tripMs > roundTripMs) roundTripMs = tripMs;
      if (this.#hostAt(index).status !== 'up' || !network.isConnected(observer, voter))
        unreachable |= 1 << index;
    }
    view.unreachable = unreachable;
    return this.#stalenessBoundMs + (this.#voters.length + 1) * roundTripMs;
  }

  /** A new stretch of connectivity: no voter seen unreachable in it yet but those now. */
  #startStretch(view: ObserverView): void {
    view.unreachableSeen = 0;
    view.stretchBoundMs = this.#stretchBound(view);
  }

  /**
   * The bound over the stretch so far: `boundMs`, and a request timeout for every voter the
   * observer could not reach at some moment of it and one more (see #boundFor). Notes the voters
   * it cannot reach now as seen.
   */
  #stretchBound(view: ObserverView): Ms {
    view.unreachableSeen |= view.unreachable;
    let voters = 0;
    for (let bits = view.unreachableSeen; bits !== 0; bits &= bits - 1) voters++;
    return view.boundMs + (voters + 1) * this.#requestTimeoutMs;
  }

  /** Whether `observer` has two-way links to a majority of running voters (stops once it does). */
  #reachesMajority(observer: NodeId): boolean {
    const network = this.#world.network;
    let reached = 0;
    for (let index = 0; index < this.#voters.length; index++) {
      const voter = this.#voters[index] as NodeId;
      if (this.#hostAt(index).status !== 'up' || !network.isConnected(observer, voter)) continue;
      reached++;
      if (reached >= this.majority) return true;
    }
    return false;
  }

  /** How many committed entries were committed at or before `cutoffMs`. */
  #committedBefore(cutoffMs: Ms): number {
    let low = 0;
    let high = this.#committed.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((this.#committed[middle] as CommittedEntry).atMs <= cutoffMs) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** `offsets 0–25`, or `no offset` for an empty committed log. */
function committedRange(length: number): string {
  return length === 0 ? 'no offset' : length === 1 ? 'offset 0' : `offsets 0–${length - 1}`;
}
