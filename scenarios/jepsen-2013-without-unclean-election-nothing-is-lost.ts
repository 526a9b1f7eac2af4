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
  topics: [
    {
      name: 'orders',
      partitions: 1,
      replicationFactor: 3,
      minInsyncReplicas: 1,
      uncleanLeaderElection: false,
    },
  ],
  producers: [{ topic: 'orders', acks: 'all', everyMs: 50 }],
  consumers: [['orders']],
  timeline: [
    {
      atMs: 10_000,
      kind: 'partition',
      groups: [['@replica-0'], ['@replica-1', '@replica-2']],
      mode: 'silent',
    },
    { atMs: 25_000, kind: 'crash', node: '@replica-0', crash: 'kill' },
  ],
  faultPhaseMs: 50_000,
  healPhaseMs: 40_000,
  expect: { allowed: ['offline-after-unclean-shutdowns'] },
});
