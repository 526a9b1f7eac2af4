import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'an-isolated-leader-loses-only-acks-1-writes',
  summary:
    'An isolated leader keeps acknowledging acks=1 writes that are lost; acks=all ones time out',
  description: [
    'A network partition puts the leader of `orders` on one side with two producers, one with',
    'acks=1 and one with acks=all; the followers and the controllers are on the other side, from',
    '10 s to 33 s. The isolated leader does not know it has been replaced: it keeps appending and',
    'acknowledges every acks=1 write at once. The acks=all writes need the ISR, and the followers',
    'fetch nothing, so its high watermark stalls; it proposes an ISR shrink the controller never',
    'receives. Meanwhile the controller fences the silent broker after its session timeout and',
    'elects a follower in leader epoch 1. acks=all writes whose delivery.timeout.ms runs out end as',
    'info (TIMEOUT: indeterminate, never acknowledged); the rest are retried on the new leader after',
    'the heal and acknowledged there. When the partition heals, the old leader learns of epoch 1 and',
    'truncates everything it appended alone (look for the truncation line): the acks=1 writes it',
    'acknowledged are gone (allowed: acks-1), while every acknowledged acks=all write survives.',
  ].join(' '),
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
  producers: [
    { topic: 'orders', acks: '1', everyMs: 100 },
    { topic: 'orders', acks: 'all', everyMs: 100 },
  ],
  consumers: [['orders']],
  timeline: [
    {
      atMs: 10_000,
      kind: 'partition',
      groups: [
        ['@replica-0', 'p1', 'p2'],
        ['@replica-1', '@replica-2', 'c1', 'c2', 'c3'],
      ],
      mode: 'silent',
    },
    { atMs: 33_000, kind: 'heal' },
  ],
  faultPhaseMs: 40_000,
  healPhaseMs: 30_000,
  expect: { allowed: ['acks-1'] },
});
