import jepsen from './jepsen-2013-unclean-election-loses-a-lone-leaders-writes.ts';
import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'jepsen-2013-without-unclean-election-nothing-is-lost',
  summary: 'Jepsen 2013 without unclean election: the partition stays offline, nothing is lost',
  description: [
    "The Jepsen 2013 schedule again, with Kafka's default unclean.leader.election.enable=false.",
    'With min.insync.replicas 1 the ISR shrinks to the leader alone, which goes on acknowledging',
    'acks=all writes, and at 25 s it is killed. The followers were never in sync with those',
    'writes, so the controller will not elect them: the partition has no leader and every write',
    'fails until the old leader returns. It comes back only at the heal, and after an unclean',
    'shutdown (a kill) it may not lead again either, so the partition stays offline to the end:',
    'the run reports offline-after-unclean-shutdowns, an allowed outcome, and not a single',
    'acknowledged write is lost. This is the choice Kafka makes by default: unavailability',
    'rather than silent data loss; an operator can still force an unclean election.',
  ].join(' '),
  // The same cluster, workload and schedule as the sibling, with Kafka's default: no unclean election.
  topics: jepsen.topics.map((topic) => ({ ...topic, uncleanLeaderElection: false })),
  producers: jepsen.producers,
  consumers: jepsen.consumers,
  timeline: jepsen.timeline,
  faultPhaseMs: jepsen.faultPhaseMs,
  healPhaseMs: jepsen.healPhaseMs,
  expect: { allowed: ['offline-after-unclean-shutdowns'] },
});
