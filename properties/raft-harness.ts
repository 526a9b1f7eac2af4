// One run of the metadata quorum on its own: voters (controllers) and observers (brokers) running
// the Raft layer, a fault schedule, then the heal phase, with every invariant checked after every
// event and the liveness checks at the end:
//   leader-elected-after-heal  a leader is elected within the staleness bound after healing, and
//                              the quorum commits new entries after that
//   (observers catching up is metadata-staleness-bounded, checked per event)

import { type Fault, healEverything, scheduleFaults, type TimedFault } from '../sim/faults.ts';
import { type Bugs, NO_BUGS } from '../sim/kafka/bugs.ts';
import type { RaftMessage } from '../sim/kafka/raft/messages.ts';
import { QuorumMachine } from '../sim/kafka/raft/quorum-machine.ts';
import {
  DEFAULT_RAFT_CONFIG,
  type RaftConfig,
  type RaftNode,
} from '../sim/kafka/raft/raft-node.ts';
import type { NodeId } from '../sim/kernel/network.ts';
import type { Ms } from '../sim/kernel/time.ts';
import type { TraceEvent } from '../sim/kernel/trace.ts';
import { World } from '../sim/kernel/world.ts';
import { RaftChecker, stalenessBoundMs } from './raft-checker.ts';
import { type CheckedRun, checkedRunOf, ViolationLog } from './violation.ts';

export interface QuorumRunOptions {
  readonly seed: number | string;
  readonly voters: number;
  readonly observers: number;
  readonly bugs?: Bugs;
  readonly faults?: readonly TimedFault[];
  /** Faults fire during [0, faultPhaseMs); then everything heals. */
  readonly faultPhaseMs: Ms;
  readonly healPhaseMs: Ms;
  readonly appendEveryMs?: Ms;
  readonly raft?: Partial<Omit<RaftConfig, 'voters'>>;
  /** Receives every trace event (for tests that look at the run). */
  readonly onTraceEvent?: (event: TraceEvent) => void;
  /** The checker re-reads every node after every event, skipping nothing (see RaftChecker). */
  readonly fullChecks?: boolean;
}

export interface QuorumRunResult extends CheckedRun {
  readonly committed: number;
  readonly world: World<RaftMessage>;
}

export function voterIds(count: number): NodeId[] {
  return Array.from({ length: count }, (_, index) => `c${index + 1}`);
}

export function observerIds(count: number): NodeId[] {
  return Array.from({ length: count }, (_, index) => `b${index + 1}`);
}

export function quorumMachineOf(world: World<RaftMessage>, node: NodeId): QuorumMachine | null {
  return world.node(node).machine as QuorumMachine | null;
}

export function runQuorum(options: QuorumRunOptions): QuorumRunResult {
  const voters = voterIds(options.voters);
  const observers = observerIds(options.observers);
  // A small fetch cap (a few dozen entries) makes catching up take several fetches, as with a
  // large metadata log in Kafka: more interleavings for the checkers to see.
  const config: RaftConfig = {
    ...DEFAULT_RAFT_CONFIG,
    fetchMaxBytes: 2_048,
    ...options.raft,
    voters,
  };
  const bugs = options.bugs ?? NO_BUGS;
  const log = new ViolationLog();
  let checker: RaftChecker | null = null;
  const world = new World<RaftMessage>({
    seed: options.seed,
    trace: {
      ...(options.onTraceEvent === undefined
        ? { sinkFilter: (kind: string) => RaftChecker.TRACE_KINDS.includes(kind) }
        : {}),
      sink: (event) => {
        checker?.onTraceEvent(event);
        options.onTraceEvent?.(event);
      },
    },
  });
  const machineOptions = { raft: config, bugs, appendEveryMs: options.appendEveryMs ?? 100 };
  for (const node of [...voters, ...observers])
    world.addNode(node, (context) => new QuorumMachine(context, machineOptions));
  const raftChecker = new RaftChecker(
    world,
    config,
    observers,
    (host) => (host.machine as QuorumMachine | null)?.raft ?? null,
    log,
    { fullChecks: options.fullChecks ?? false },
  );
  checker = raftChecker;
  world.scheduler.addStepCheck(() => raftChecker.check());
  for (const node of [...voters, ...observers]) world.node(node).start();

  scheduleFaults(
    world,
    options.faults ?? [],
    (reference) => resolveQuorumRole(world, voters, reference),
    options.faultPhaseMs,
  );
  const liveness = new LivenessWatch(world, voters);
  world.scheduler.addStepCheck(() => liveness.observe());
  world.at(options.faultPhaseMs, 'heal-phase', () => {
    healEverything(world);
    liveness.healedAt(world.nowMs, raftChecker.committedLength);
  });
  const endMs = options.faultPhaseMs + options.healPhaseMs;
  world.runFor(endMs, 50_000_000);
  liveness.finish(log, stalenessBoundMs(config), raftChecker.committedLength);
  checkVotersCaughtUp(world, voters, raftChecker.committedLength, log);
  return {
    ...checkedRunOf(log, world),
    committed: raftChecker.committedLength,
    world,
  };
}

/** Entries a voter may still lack at the end: a fetch or two in flight. */
const CAUGHT_UP_SLACK = 50;

/**
 * After the heal every running voter follows the leader and holds what the quorum committed, or
 * nearly: a voter that lost track of the leader for good (fetching from nobody) is a liveness bug
 * that leader election alone does not show.
 */
function checkVotersCaughtUp(
  world: World<RaftMessage>,
  voters: readonly NodeId[],
  committed: number,
  log: ViolationLog,
): void {
  for (const voter of voters) {
    const raft = (world.node(voter).machine as QuorumMachine | null)?.raft;
    if (raft === undefined || raft.log.endOffset >= committed - CAUGHT_UP_SLACK) continue;
    log.report({
      invariant: 'metadata-staleness-bounded',
      atMs: world.nowMs,
      message: `voter ${voter} holds ${raft.log.endOffset} entries at the end, the quorum committed ${committed}`,
      nodes: [voter],
    });
  }
}

/**
 * Roles a fault may name, resolved when it fires (null when no voter fits, and the fault does nothing):
 *   `@leader`           the metadata leader of the highest epoch
 *   `@new-leader`       that leader while nothing of its own epoch is committed yet (its high
 *                       watermark has not passed its leader-change entry)
 *   `@follower`         a voter following it
 *   `@voted`            a voter that granted its vote in its epoch and knows no leader yet (Kafka's
 *                       UnattachedState with a voted key): the vote is all it holds of the election
 */
export const QUORUM_ROLES = ['@leader', '@new-leader', '@follower', '@voted'] as const;

export function resolveQuorumRole(
  world: World<RaftMessage>,
  voters: readonly NodeId[],
  reference: NodeId,
): NodeId | null {
  return resolveVoterRole(
    voters,
    (voter) => quorumMachineOf(world, voter)?.raft ?? null,
    reference,
  );
}

/** A QUORUM_ROLES reference over any host of the voters' Raft nodes (a whole cluster's controllers too). */
export function resolveVoterRole(
  voters: readonly NodeId[],
  raftOf: (voter: NodeId) => RaftNode | null,
  reference: NodeId,
): NodeId | null {
  switch (reference) {
    case '@leader':
      return highestLeader(voters, raftOf);
    case '@new-leader': {
      const leader = highestLeader(voters, raftOf);
      const raft = leader === null ? null : raftOf(leader);
      return raft !== null && raft.highWatermark <= raft.epochStartOffset ? leader : null;
    }
    case '@follower': {
      // Loops, not finds over closures: a fault awaiting a role asks after every event.
      const leader = highestLeader(voters, raftOf);
      for (const voter of voters)
        if (voter !== leader && raftOf(voter)?.role === 'follower') return voter;
      return null;
    }
    case '@voted':
      for (const voter of voters) {
        const raft = raftOf(voter);
        if (raft?.role === 'unattached' && raft.votedId !== null && raft.votedId !== voter)
          return voter;
      }
      return null;
    default:
      return null;
  }
}

/** The up voter leading the highest epoch, if any. */
function highestLeader(
  voters: readonly NodeId[],
  raftOf: (voter: NodeId) => RaftNode | null,
): NodeId | null {
  let leader: NodeId | null = null;
  let epoch = -1;
  for (const voter of voters) {
    const raft = raftOf(voter);
    if (raft?.isLeader && raft.epoch > epoch) {
      leader = voter;
      epoch = raft.epoch;
    }
  }
  return leader;
}

/** Watches who leads after the heal, for the liveness checks. */
class LivenessWatch {
  readonly #world: World<RaftMessage>;
  readonly #voters: readonly NodeId[];
  #healedAtMs: Ms | null = null;
  #committedAtHeal = 0;
  #leader: string | null = null;
  #leaderSinceMs: Ms = 0;

  constructor(world: World<RaftMessage>, voters: readonly NodeId[]) {
    this.#world = world;
    this.#voters = voters;
  }

  healedAt(atMs: Ms, committed: number): void {
    this.#healedAtMs = atMs;
    this.#committedAtHeal = committed;
  }

  observe(): void {
    if (this.#healedAtMs === null) return;
    let current: string | null = null;
    let epoch = -1;
    for (const voter of this.#voters) {
      const raft = quorumMachineOf(this.#world, voter)?.raft;
      if (raft?.isLeader && raft.epoch > epoch) {
        current = `${voter}@${raft.epoch}`;
        epoch = raft.epoch;
      }
    }
    if (current !== this.#leader) {
      this.#leader = current;
      this.#leaderSinceMs = this.#world.nowMs;
    }
  }

  finish(log: ViolationLog, boundMs: Ms, committed: number): void {
    const healedAtMs = this.#healedAtMs;
    if (healedAtMs === null) return;
    const atMs = this.#world.nowMs;
    if (this.#leader === null) {
      log.report({
        invariant: 'leader-elected-after-heal',
        atMs,
        message: `no metadata leader ${atMs - healedAtMs} ms after the heal`,
      });
    } else if (this.#leaderSinceMs > healedAtMs + boundMs) {
      log.report({
        invariant: 'leader-elected-after-heal',
        atMs,
        message: `the metadata leader ${this.#leader} took over at ${this.#leaderSinceMs} ms, more than ${boundMs} ms after the heal at ${healedAtMs} ms`,
      });
    } else if (committed <= this.#committedAtHeal) {
      log.report({
        invariant: 'leader-elected-after-heal',
        atMs,
        message: `the metadata quorum committed nothing after the heal (still ${committed} entries)`,
      });
    }
  }
}

export type { Fault };
