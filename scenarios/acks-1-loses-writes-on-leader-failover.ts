import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'acks-1-loses-writes-on-leader-failover',
  summary: 'acks=1 writes acknowledged by a leader cut off from its followers vanish when it fails',
  description: [
    'With acks=1 the leader acknowledges a write as soon as it has appended it to its own log,',
    'before any follower has fetched it. Here the leader of `orders` is cut off from both',
    'followers at 10 s (it still reaches the producer and the controllers) and keeps',
    'acknowledging acks=1 writes that only it holds; its high watermark stops moving, because the',
    'followers fetch nothing. At 12 s it is killed. The controller fences it after the session',
    'timeout and elects a follower from the ISR; when the old leader comes back it truncates its',
    'log to the new leader (look for the truncation line), and the writes it acknowledged alone',
    'are gone. The checker reports them as allowed losses (acks-1): acks=1 promises nothing more.',
    'Compare acks-all-survives-a-leader-crash.',
  ].join(' '),
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
  producers: [{ topic: 'orders', acks: '1', everyMs: 50 }],
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
  faultPhaseMs: 40_000,
  healPhaseMs: 40_000,
  expect: { allowed: ['acks-1'] },
});
