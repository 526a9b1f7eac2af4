import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'a-slow-follower-leaves-the-isr-and-rejoins',
  summary: 'A follower on a slow link leaves the ISR, and rejoins once it catches up',
  description: [
    'The ISR (in-sync replicas) is not "every follower": it is the followers that keep up. A',
    'follower that has not caught up to the leader within replica.lag.time.max.ms is removed, so',
    'that acks=all writes stop waiting for it. Here the links of one follower drop to 200 bytes/s',
    'at 10 s, too little for the write rate; at 25 s they are fast again. Watch the timeline:',
    'while the slow follower is still in the ISR, the high watermark stalls and moves in jumps and',
    'acks=all writes are acknowledged late, in bursts; once it has lagged for',
    'replica.lag.time.max.ms the leader proposes an ISR shrink naming it, the controller accepts',
    'it, the high watermark jumps to the log end and a backlog of writes is acknowledged at once',
    '(the remaining ISR of two still meets min.insync.replicas 2). After the link recovers the',
    'follower fetches what it missed and the leader proposes an ISR expand. Nothing is lost.',
  ].join(' '),
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
  producers: [{ topic: 'orders', acks: 'all', everyMs: 100 }],
  consumers: [['orders']],
  timeline: [
    {
      atMs: 10_000,
      kind: 'slow',
      node: '@replica-2',
      extraLatencyMs: 0,
      bandwidthBytesPerSec: 200,
    },
    { atMs: 25_000, kind: 'unslow' },
  ],
  faultPhaseMs: 35_000,
  healPhaseMs: 25_000,
});
