// Every named scenario, one file each, named as a sentence. `kafkasim list` shows them in this
// order (first the seed's examples and the basics of acks and the ISR, then cluster operations,
// then the known shortest schedules of KAFKA.md); `kafkasim run NAME` runs one.

import aNewBrokerRegistersAndJoinsTheMetadata from './a-new-broker-registers-and-joins-the-metadata.ts';
import aSlowFollowerLeavesTheIsrAndRejoins from './a-slow-follower-leaves-the-isr-and-rejoins.ts';
import acks0LosesWritesSilently from './acks-0-loses-writes-silently.ts';
import acks1LosesWritesOnLeaderFailover from './acks-1-loses-writes-on-leader-failover.ts';
import acksAllSurvivesALeaderCrash from './acks-all-survives-a-leader-crash.ts';
import adminCreatesATopicWithThreeReplicas from './admin-creates-a-topic-with-three-replicas.ts';
import anIsolatedLeaderLosesOnlyAcks1Writes from './an-isolated-leader-loses-only-acks-1-writes.ts';
import controlledShutdownMovesLeadershipBeforeABrokerLeaves from './controlled-shutdown-moves-leadership-first.ts';
import controllerFailoverKeepsTheClusterWorking from './controller-failover-keeps-the-cluster-working.ts';
import jepsen2013UncleanElectionLosesWritesALoneLeaderAcknowledged from './jepsen-2013-unclean-election-loses-a-lone-leaders-writes.ts';
import jepsen2013WithoutUncleanElectionThePartitionWaitsOffline from './jepsen-2013-without-unclean-election-nothing-is-lost.ts';
import kafka7128AFollowerJoinsTheIsrOnlyPastTheEpochStart from './kafka-7128-isr-join-waits-for-the-epoch-start.ts';
import kafka15583TheHighWatermarkWaitsForMinIsr from './kafka-15583-the-high-watermark-waits-for-min-isr.ts';
import kip101LeaderEpochsKeepWritesAStaleHighWatermarkWouldTruncate from './kip-101-epoch-truncation-keeps-acked-writes.ts';
import kip279ADivergentEpochIsTruncatedAfterFastFailovers from './kip-279-fast-failovers-truncate-a-divergent-epoch.ts';
import kip903ARestartedReplicaRejoinsOnlyInItsNewBrokerEpoch from './kip-903-a-restarted-replica-rejoins-only-in-its-new-broker-epoch.ts';
import kip966TheLastReplicaStandingIsNotReElectedAfterLosingPower from './kip-966-last-replica-standing-loses-nothing-with-elr.ts';
import minInsyncReplicasRejectsWritesWhenTheIsrIsTooSmall from './min-insync-replicas-rejects-writes-to-a-small-isr.ts';
import aLoneLeaderLosingPowerLosesWritesWhenMinIsrIs1 from './min-isr-1-loses-writes-to-a-power-failure.ts';
import producerSendsTenKeyedMessagesWithAcksAll from './producer-sends-ten-keyed-messages-with-acks-all.ts';
import type { Scenario } from './scenario.ts';
import uncleanLeaderElectionLosesAcknowledgedWrites from './unclean-leader-election-loses-acknowledged-writes.ts';

export const SCENARIOS: readonly Scenario[] = [
  adminCreatesATopicWithThreeReplicas,
  producerSendsTenKeyedMessagesWithAcksAll,
  acksAllSurvivesALeaderCrash,
  acks1LosesWritesOnLeaderFailover,
  acks0LosesWritesSilently,
  minInsyncReplicasRejectsWritesWhenTheIsrIsTooSmall,
  aSlowFollowerLeavesTheIsrAndRejoins,
  anIsolatedLeaderLosesOnlyAcks1Writes,
  controllerFailoverKeepsTheClusterWorking,
  aNewBrokerRegistersAndJoinsTheMetadata,
  controlledShutdownMovesLeadershipBeforeABrokerLeaves,
  uncleanLeaderElectionLosesAcknowledgedWrites,
  aLoneLeaderLosingPowerLosesWritesWhenMinIsrIs1,
  kip101LeaderEpochsKeepWritesAStaleHighWatermarkWouldTruncate,
  kip279ADivergentEpochIsTruncatedAfterFastFailovers,
  kafka7128AFollowerJoinsTheIsrOnlyPastTheEpochStart,
  kafka15583TheHighWatermarkWaitsForMinIsr,
  kip966TheLastReplicaStandingIsNotReElectedAfterLosingPower,
  kip903ARestartedReplicaRejoinsOnlyInItsNewBrokerEpoch,
  jepsen2013UncleanElectionLosesWritesALoneLeaderAcknowledged,
  jepsen2013WithoutUncleanElectionThePartitionWaitsOffline,
];

/** The flagship scenario: what `npm start` runs. */
export const FLAGSHIP = 'acks-all-survives-a-leader-crash';

/** The named scenarios that show `bug` step by step (its `demonstrates`), in the registry's order. */
export function scenariosShowing(bug: string): string[] {
  return SCENARIOS.filter((scenario) =>
    scenario.demonstrates.some((demonstration) => demonstration.bug === bug),
  ).map((scenario) => scenario.name);
}

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((scenario) => scenario.name === name);
}
