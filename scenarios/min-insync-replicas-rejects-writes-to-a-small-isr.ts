import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'min-insync-replicas-rejects-writes-to-a-small-isr',
  summary: 'With both followers cut off, the leader refuses acks=all writes: NOT_ENOUGH_REPLICAS',
  description: [
    'min.insync.replicas is the floor under acks=all. A leader acknowledges an acks=all write once',
    'every ISR member has it, so without a floor an ISR shrunk to the leader alone would',
    'acknowledge writes that a single disk holds. Here the topic has replication factor 3 and',
    'min.insync.replicas 2, and both followers are cut off from the leader from 10 s to 25 s.',
    'Watch the timeline: first the high watermark stalls and acks=all writes wait (those already',
    'appended end as info: TIMEOUT, indeterminate, they may yet appear); after',
    'replica.lag.time.max.ms the leader shrinks the ISR to itself, and from then on it rejects',
    'every acks=all write before appending it, with NOT_ENOUGH_REPLICAS: the producer, with',
    'retries=5, retries and gives up, a definite failure since nothing was written. When the',
    'network heals, the followers catch up and rejoin the ISR, the high watermark moves again and',
    'writes are acknowledged. Availability is traded for durability: no acknowledged write is lost.',
  ].join(' '),
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
  producers: [{ topic: 'orders', acks: 'all', everyMs: 100, config: { retries: 5 } }],
  consumers: [['orders']],
  timeline: [
    {
      atMs: 10_000,
      kind: 'partition',
      groups: [['@replica-0'], ['@replica-1', '@replica-2']],
      mode: 'silent',
    },
    { atMs: 25_000, kind: 'heal' },
  ],
  faultPhaseMs: 35_000,
  healPhaseMs: 25_000,
});
