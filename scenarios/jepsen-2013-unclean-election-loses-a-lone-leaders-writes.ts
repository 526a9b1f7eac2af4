import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'jepsen-2013-unclean-election-loses-a-lone-leaders-writes',
  summary: 'Jepsen 2013: min ISR 1, the lone leader dies, an unclean election loses its writes',
  description: [
    "Kyle Kingsbury's 2013 Jepsen analysis of Kafka in one schedule. With min.insync.replicas 1,",
    'acks=all means "every ISR member", and the ISR may be the leader alone. Here the leader is',
    'cut off from both followers at 10 s; after replica.lag.time.max.ms it shrinks the ISR to',
    'itself and goes on acknowledging acks=all writes that only it holds. At 25 s it is killed.',
    'No ISR member is left alive, and with unclean.leader.election.enable the controller elects a',
    'follower from outside the ISR (look for the leader with the shorter log): every write',
    'acknowledged by the lone leader since the shrink is gone, and the old leader truncates them',
    'when it returns. The checker reports them as allowed (unclean-election): the configuration',
    'chose availability. Compare the sibling scenario without unclean election, where the',
    'partition stays offline instead, and min.insync.replicas 2, which would have refused the',
    'writes in the first place.',
  ].join(' '),
  topics: [
    {
      name: 'orders',
      partitions: 1,
      replicationFactor: 3,
      minInsyncReplicas: 1,
      uncleanLeaderElection: true,
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
  expect: { allowed: ['unclean-election'] },
});
