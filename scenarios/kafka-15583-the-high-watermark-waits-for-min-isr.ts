import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'kafka-15583-the-high-watermark-waits-for-min-isr',
  summary:
    'KAFKA-15583: the high watermark does not advance while the ISR is below min.insync.replicas',
  description: [
    'A leader whose ISR shrinks below min.insync.replicas refuses acks=all writes, but it has',
    'appended some already. KAFKA-15583 made it hold its high watermark there too: a record',
    'committed by the leader alone would be exposed to consumers though only one replica has it,',
    'and the replicas that left the ISR, still eligible to lead (the ELR, KIP-966), lack it. Here,',
    'on RF 3 with min ISR 2: at 8 s the leader is cut off from both followers, which leave the',
    'ISR for the ELR; at 39.5 s the leader loses power before its page cache reached the disk. With',
    'the fix its high watermark waited at the last offset both followers had, an ELR member is',
    'elected with every committed record, and nothing committed is lost (the writes past the high',
    'watermark were never acknowledged). With `--bug hw-ignores-min-isr` the high watermark moved',
    'past them while the ISR was the leader alone; the new leader lacks them and the old one',
    'truncates to it: committed-read-stable breaks (and the records the old leader alone held',
    'and lost in the power failure are lossy-crashes losses, which the contract allows).',
  ].join(' '),
  cluster: { controllers: 1, brokers: 3 },
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
  producers: [{ topic: 'orders', acks: 'all', everyMs: 94 }],
  consumers: [],
  timeline: [
    {
      atMs: 8_000,
      kind: 'partition',
      groups: [['@replica-1', '@replica-2'], ['@replica-0']],
      mode: 'reject',
    },
    { atMs: 39_533, kind: 'bounce', node: '@leader', crash: 'powerFailure', downMs: 6_624 },
  ],
  faultPhaseMs: 40_914,
  healPhaseMs: 40_000,
  demonstrates: [
    {
      bug: 'hw-ignores-min-isr',
      violations: ['committed-read-stable'],
      allowed: ['lossy-crashes'],
    },
  ],
});
