import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'kip-101-epoch-truncation-keeps-acked-writes',
  summary: 'KIP-101 (KRaft form): truncating to a stale high watermark would lose acked writes',
  description: [
    "A follower learns the leader's high watermark only from the next fetch response, so its own",
    'lags behind. Before KIP-101, a follower that started following a new leader truncated its log',
    'to its own high watermark and refetched, which can throw away acknowledged writes. Here, on',
    'RF 3 with min ISR 2: replicas 1 and 2 are cut off from each other at 12 s; the leader is',
    'killed at 15 s while the high watermark of replica 2 lags; replica 1 is elected, and replica',
    '2, which cannot reach it, starts following it. At 26.5 s replica 1 dies too before replica 2',
    'has refetched, and replica 2 is elected, alone in the ISR, so it refuses acks=all writes',
    '(NOT_ENOUGH_REPLICAS) until the heal. With leader epochs (KIP-101), replica 2 asks the',
    'leader for the end offset of its last epoch and truncates only a divergent suffix: it keeps',
    'every acknowledged write and the run holds. With `--bug truncate-to-hw` it truncates to its',
    'stale high watermark instead; look for that truncation, for its election without the record,',
    'and for the acked-write-durable violation once the last replica that held the record drops it',
    "at the heal (the explanation tells the record's story).",
  ].join(' '),
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
  producers: [{ topic: 'orders', acks: 'all', everyMs: 50 }],
  consumers: [['orders']],
  timeline: [
    { atMs: 12_000, kind: 'partition', groups: [['@replica-1'], ['@replica-2']], mode: 'silent' },
    { atMs: 15_013, kind: 'crash', node: '@replica-0', crash: 'kill' },
    { atMs: 26_500, kind: 'crash', node: '@replica-1', crash: 'kill' },
  ],
  faultPhaseMs: 50_000,
  healPhaseMs: 40_000,
  demonstrates: [{ bug: 'truncate-to-hw', violations: ['acked-write-durable'], allowed: [] }],
});
