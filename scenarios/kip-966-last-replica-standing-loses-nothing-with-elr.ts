import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'kip-966-last-replica-standing-loses-nothing-with-elr',
  summary:
    'KIP-966: the last ISR member loses power; ELR keeps it from leading with a truncated log',
  description: [
    'Kafka does not fsync each write: it relies on replication, and a power failure loses the',
    'unflushed tail of a log. That is safe while another ISR member has the data, but the ISR can',
    'shrink to one. Here, on RF 3 with min ISR 2, replica 1 and then replica 2 are cut off from the',
    'leader (at 10 s and 20 s), the ISR shrinks to the leader alone and the acks=all writes in',
    'flight wait (below min ISR the high watermark does not move); then the leader loses power',
    'at 30 s and comes back a second later without its unflushed records. With eligible leader replicas (KIP-966, on in KRaft), the replicas that',
    'left the ISR while caught up stay eligible, and a broker back from an unclean shutdown may',
    'not lead until it has caught up, so the controller elects a replica that still has every',
    'acknowledged write and nothing is lost. With `--bug no-elr` the last ISR member is re-elected',
    'with what its disk kept, and the writes it had acknowledged are gone: acked-write-durable.',
  ].join(' '),
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
  producers: [{ topic: 'orders', acks: 'all', everyMs: 50 }],
  consumers: [['orders']],
  timeline: [
    { atMs: 10_000, kind: 'partition', groups: [['@replica-0'], ['@replica-1']], mode: 'silent' },
    {
      atMs: 20_000,
      kind: 'partition',
      groups: [['@replica-0'], ['@replica-1', '@replica-2']],
      mode: 'silent',
    },
    { atMs: 30_000, kind: 'bounce', node: '@replica-0', crash: 'powerFailure', downMs: 1_000 },
  ],
  faultPhaseMs: 55_000,
  healPhaseMs: 40_000,
  demonstrates: [{ bug: 'no-elr', violations: ['acked-write-durable'], allowed: [] }],
});
