import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'kip-279-fast-failovers-truncate-a-divergent-epoch',
  summary:
    'KIP-279: after two fast failovers, a replica truncates the epoch the new leader never had',
  description: [
    'Leader epochs let a follower find where its log diverges from the leader: it sends its last',
    'epoch, and the leader answers with the end offset of that epoch in its own log. KIP-101 got',
    'one case wrong, fixed by KIP-279: when the leader never had that epoch at all. Here, on RF 3',
    'with min ISR 2, replica 1 is cut off from the leader at 10 s, the leader dies at 12 s, and',
    'replica 1 is elected (epoch 1) while cut off from replica 2, which it cannot replicate to. It',
    'appends acks=1 writes (and acks=all ones it cannot commit) in epoch 1 and dies at 24 s;',
    'replica 2 leads epoch 2 without ever having seen epoch 1. When replica 1 returns at 35 s it',
    'asks about epoch 1. The fixed leader answers with the largest epoch it has at or below 1',
    '(epoch 0) and where that epoch ends, and replica 1 truncates its whole epoch-1 suffix (look',
    'for the diverging-epoch truncation): only acks=1 writes are lost, as allowed. With',
    '`--bug epoch-lookup-kip101` the leader answers with the start of its next larger epoch, so',
    'replica 1 truncates too little, keeps epoch-1 records the leader never had, and rejoins the',
    'ISR with them: the replicas disagree below the high watermark (committed-prefix-agrees) and',
    'acknowledged writes are missing from one replica (acked-write-durable).',
  ].join(' '),
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
  producers: [
    { topic: 'orders', acks: 'all', everyMs: 50 },
    { topic: 'orders', acks: '1', everyMs: 50 },
  ],
  consumers: [['orders']],
  timeline: [
    { atMs: 10_000, kind: 'partition', groups: [['@replica-0'], ['@replica-1']], mode: 'silent' },
    { atMs: 12_000, kind: 'crash', node: '@replica-0', crash: 'kill' },
    {
      atMs: 18_000,
      kind: 'partition',
      groups: [['@replica-0', '@replica-2'], ['@replica-1']],
      mode: 'silent',
    },
    { atMs: 24_000, kind: 'crash', node: '@replica-1', crash: 'kill' },
    { atMs: 35_000, kind: 'heal' },
    { atMs: 35_000, kind: 'restart', node: '@replica-1' },
  ],
  faultPhaseMs: 50_000,
  healPhaseMs: 40_000,
  expect: { allowed: ['acks-1'] },
  demonstrates: [
    {
      bug: 'epoch-lookup-kip101',
      violations: ['acked-write-durable', 'committed-prefix-agrees'],
      allowed: ['acks-1'],
    },
  ],
});
