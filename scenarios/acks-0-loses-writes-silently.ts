import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'acks-0-loses-writes-silently',
  summary: 'acks=0 writes get no answer at all, so their loss on a leader failover goes unnoticed',
  description: [
    'With acks=0 the producer sends and forgets: the broker never answers, so the producer counts',
    'a write as done the moment it leaves, knows no offset for it and has nothing to retry. Here',
    'the leader of `orders` is cut off from both followers at 10 s and killed at 12 s; the',
    'producer sends 100 writes, from 7 s to 12 s. Those the leader appended after 10 s never',
    'reached a follower, and the follower the controller elects after the session timeout does',
    'not have them: the old leader truncates them when it comes back. Nothing in the producer',
    'notices: its history shows only successes, without offsets, and it never retries. Only the',
    'checker, which compares what was sent with what the replicas hold after healing, finds the',
    'missing records and reports them as allowed losses (acks-0); the final table shows the log',
    'ending where the followers stopped fetching.',
  ].join(' '),
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
  producers: [{ topic: 'orders', acks: '0', everyMs: 50, count: 100 }],
  consumers: [['orders']],
  timeline: [
    {
      atMs: 10_000,
      kind: 'partition',
      groups: [['@replica-0'], ['@replica-1', '@replica-2']],
      mode: 'silent',
    },
    { atMs: 12_000, kind: 'crash', node: '@replica-0', crash: 'kill' },
  ],
  faultPhaseMs: 25_000,
  healPhaseMs: 25_000,
  expect: { allowed: ['acks-0'] },
});
