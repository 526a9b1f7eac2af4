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
    '(lossy-crashes), a risk the durability contract accepts when the ISR may shrink to one.',
    'Then the controller elects it again: the restart was unclean, so it is not eligible (ELR)',
    'any more, but it is the last known leader, and KIP-966 keeps electing that one once it is',
    'unfenced, as an unclean election (RECOVERING), even with unclean election off. It leads',
    'with an empty log, and when the followers reconnect at the heal they truncate to it: the',
    'writes they held, committed before 10 s, are gone too (unclean-election), the loss KIP-966',
    'set out to close and kept for availability. With `--set min.insync.replicas=2` the leader',
    'would have refused the lone writes instead (NOT_ENOUGH_REPLICAS).',
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
  expect: { allowed: ['lossy-crashes', 'unclean-election'] },
});
