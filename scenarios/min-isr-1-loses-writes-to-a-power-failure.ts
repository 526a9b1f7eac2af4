import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'min-isr-1-loses-writes-to-a-power-failure',
  summary:
    'min ISR 1: writes acknowledged by a lone leader vanish when it loses power before flushing',
  description: [
    'Kafka acknowledges writes from memory: it does not fsync each one, and counts on the other',
    'ISR members to hold a copy. With min.insync.replicas 1 there may be no other copy. Here the',
    'leader is cut off from both followers at 10 s, shrinks the ISR to itself and keeps',
    'acknowledging acks=all writes alone; at 25 s it loses power and restarts a second later',
    'with only what its disk had flushed (nothing: the OS had not written the log back yet). The',
    'writes it acknowledged alone now exist nowhere: the checker reports them as allowed losses',
    '(lossy-crashes), a risk the durability contract accepts when the ISR may shrink to one. No',
    'replica is eligible to lead any more (the followers left the ISR behind, the old leader',
    'restarted uncleanly), so the partition stays offline and later writes time out: the run also',
    'reports offline-after-unclean-shutdowns. With `--set min.insync.replicas=2` the leader would',
    'have refused those writes instead (NOT_ENOUGH_REPLICAS).',
  ].join(' '),
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 1 }],
  producers: [{ topic: 'orders', acks: 'all', everyMs: 200 }],
  consumers: [['orders']],
  timeline: [
    {
      atMs: 10_000,
      kind: 'partition',
      groups: [['@replica-0'], ['@replica-1', '@replica-2']],
      mode: 'silent',
    },
    { atMs: 25_000, kind: 'bounce', node: '@replica-0', crash: 'powerFailure', downMs: 1_000 },
  ],
  faultPhaseMs: 50_000,
  healPhaseMs: 40_000,
  expect: { allowed: ['lossy-crashes', 'offline-after-unclean-shutdowns'] },
});
