// Swarm profiles for the metadata quorum: layers of random faults (fault-arbitraries.ts) shaped to
// make one kind of protocol trouble likely, each the schedule family that finds one historical
// bug of sim/kafka/bugs.ts. Every fault is still plain data drawn by fast-check; what the layers
// add is aim: role references resolved when a fault fires (raft-harness.ts, resolveQuorumRole),
// faults that wait for a role (awaitMs), and the timings that open each bug's window.

import type { RaftConfig } from '../sim/kafka/raft/raft-node.ts';
import type { NodeId } from '../sim/kernel/network.ts';
import type { Ms } from '../sim/kernel/time.ts';
import type { FaultProfile, FaultScheduleOptions } from './fault-arbitraries.ts';
import { voterIds } from './raft-harness.ts';

export interface QuorumProfile {
  readonly name: string;
  /** The fault layers for a quorum of `voters`, firing within [0, phaseMs). */
  faults(voters: number, phaseMs: Ms): FaultProfile;
  /** Raft settings the profile runs with (a small fetch cap, say). */
  readonly raft?: Partial<Omit<RaftConfig, 'voters'>>;
}

/** [fromMs, toMs) clamped into a fault phase of `phaseMs`, never empty. */
function within(phaseMs: Ms, fromMs: Ms, toMs: Ms): { startMs: Ms; endMs: Ms } {
  const startMs = Math.min(fromMs, phaseMs - 1);
  return { startMs, endMs: Math.max(startMs + 1, Math.min(toMs, phaseMs)) };
}

/** One layer over the whole fault phase (or the part `startMs`, `endMs` say). */
function layer(
  phaseMs: Ms,
  nodes: readonly NodeId[],
  rest: Omit<FaultScheduleOptions, 'nodes' | 'startMs' | 'endMs'> &
    Partial<Pick<FaultScheduleOptions, 'startMs' | 'endMs'>>,
): FaultScheduleOptions {
  return { nodes, startMs: 0, endMs: phaseMs, ...rest };
}

/**
 * Voters fall behind, cut off or down for seconds, while leaders keep failing: a voter missing
 * committed entries asks for votes, and only the log comparison (Raft §5.4.1) stops it.
 */
export const STALE_VOTER_PROFILE: QuorumProfile = {
  name: 'stale-voter',
  faults: (_voters, phaseMs) => [
    layer(phaseMs, ['@follower'], {
      families: ['isolate', 'bounce'],
      faultsMin: 1,
      faultsMax: 4,
      isolateMs: { min: 2_000, max: 8_000 },
      bounceDownMs: { min: 2_000, max: 8_000 },
    }),
    layer(phaseMs, ['@leader'], {
      families: ['bounce'],
      faultsMin: 2,
      faultsMax: 8,
      bounceDownMs: { min: 500, max: 5_000 },
    }),
  ],
};

/**
 * Raft's Figure 8 in Kafka's form. A leader cut off from the others writes entries nobody fetches
 * (until check-quorum stops it); the others elect a leader that dies at once, its leader-change
 * entry of a later epoch on its disk only (a fault awaiting `@new-leader`); the network heals and
 * the old leader, its log now the longest, wins again; its followers fetch its old-epoch entries a
 * few at a time (a small fetch cap over slowed links) before its own leader-change entry; frequent
 * crashes of whoever is `@new-leader` land inside that catch-up. The high watermark may pass the
 * old-epoch entries only once an entry of the leader's epoch is on a majority (Raft §5.4.2):
 * otherwise the returning voter with the later epoch wins and overwrites committed entries. With
 * five voters the survivors of the crash would elect among themselves before the later-epoch
 * voter returns: crashes of any voter keep them short of a majority.
 */
export const FIGURE_8_PROFILE: QuorumProfile = {
  name: 'figure-8',
  faults: (voters, phaseMs) => {
    const ids = voterIds(voters);
    const middle = within(phaseMs, 2_000, Math.floor((phaseMs * 2) / 3));
    const layers: FaultScheduleOptions[] = [
      layer(phaseMs, ids, {
        ...within(phaseMs, 0, 1_000),
        families: ['slow'],
        unslow: false,
        faultsMin: voters,
        faultsMax: voters,
        slowExtraLatencyMs: { min: 10, max: 50 },
      }),
      layer(phaseMs, ['@leader'], {
        ...middle,
        families: ['isolate'],
        faultsMin: 1,
        faultsMax: 2,
        isolateMs: { min: 3_000, max: 9_000 },
      }),
      layer(phaseMs, ['@new-leader'], {
        ...middle,
        families: ['bounce'],
        faultsMin: 1,
        faultsMax: 1,
        bounceDownMs: { min: 4_000, max: 12_000 },
        awaitMs: { bounce: phaseMs },
      }),
      layer(phaseMs, ['@new-leader'], {
        families: ['bounce'],
        faultsMin: 80,
        faultsMax: 160,
        bounceDownMs: { min: 4_000, max: 12_000 },
      }),
    ];
    if (voters >= 5) {
      layers.push(
        layer(phaseMs, ids, {
          families: ['bounce'],
          faultsMin: 2,
          faultsMax: 8,
          bounceDownMs: { min: 3_000, max: 12_000 },
        }),
      );
    }
    return layers;
  },
  // Two entries a fetch: catching up on a leader's old-epoch tail takes a dozen round trips. The
  // slowest link (2 × 50 ms more) still carries more than the leader appends (1 KB/s).
  raft: { fetchMaxBytes: 256 },
};

/**
 * Elections after leader failures, and a power cut (back within milliseconds) of whichever voter
 * just granted its vote: a vote not flushed before the answer (KIP-595) is gone, and the vote
 * request of a rival candidate, still in flight, lands on the restarted voter.
 */
export const POWER_CYCLED_VOTER_PROFILE: QuorumProfile = {
  name: 'power-cycled-voter',
  faults: (_voters, phaseMs) => [
    layer(phaseMs, ['@leader'], {
      families: ['bounce'],
      crashKinds: ['kill', 'powerFailure'],
      faultsMin: 6,
      faultsMax: 14,
      bounceDownMs: { min: 100, max: 1_800 },
    }),
    layer(phaseMs, ['@voted'], {
      families: ['bounce'],
      crashKinds: ['powerFailure'],
      faultsMin: 12,
      faultsMax: 30,
      bounceDownMs: { min: 1, max: 3 },
      awaitMs: { bounce: phaseMs },
    }),
  ],
};

/**
 * Partitions among the voters only, so the brokers always bridge the sides: a leader cut off from
 * a majority of voters still reaches the brokers, and only check-quorum (KAFKA-15489) makes it
 * resign instead of feeding them stale metadata.
 */
export const BRIDGED_LEADER_PROFILE: QuorumProfile = {
  name: 'bridged-leader',
  faults: (voters, phaseMs) => [
    layer(phaseMs, [...voterIds(voters), '@leader', '@leader'], {
      ...within(phaseMs, 2_000, Math.floor(phaseMs / 2)),
      families: ['partition'],
      partitionShapes: ['two-way', 'one-way'],
      faultsMin: 1,
      faultsMax: 3,
    }),
  ],
};

/** Every profile above. */
export const QUORUM_PROFILES: readonly QuorumProfile[] = [
  STALE_VOTER_PROFILE,
  FIGURE_8_PROFILE,
  POWER_CYCLED_VOTER_PROFILE,
  BRIDGED_LEADER_PROFILE,
];
