import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'kip-903-a-restarted-replica-rejoins-only-in-its-new-broker-epoch',
  summary:
    'KIP-903: a replica that lost its log rejoins the ISR only on fetches of its new incarnation',
  description: [
    "A leader judges whether a follower has caught up by the follower's last fetch. If that fetch",
    'came from before the follower crashed, it vouches for a log the follower no longer has.',
    "KIP-903 (with KIP-380's broker epochs) closes this: every fetch carries the broker epoch",
    "of the follower's incarnation, the leader takes a follower into the ISR only on a fetch of",
    'its current one, and the controller refuses an ISR change naming an old one.',
    'Here, on RF 3 with min ISR 2: at 8 s replica 2 loses power before flushing and replica 1',
    "loses its disk; both restart, but replica 2's fetches to the leader are held (a clog) so",
    'its new incarnation never fetches. The ISR shrinks to the leader alone. A step waits for',
    "the moment an ISR member's log ends below the high watermark, and then kills the leader.",
    'With the fix, replica 2 stays out of the ISR (its only fetch with a log is its old',
    "incarnation's), the moment never comes, and nothing is lost. With `--bug no-broker-epoch`",
    'the leader takes replica 2 back into the ISR on its pre-crash fetch; the leader is killed,',
    'replica 2 is elected with an empty log, and the others truncate to it: acked-write-durable',
    'breaks (the acks=1 writes it drops that were never committed are allowed losses; the',
    'story shows the ISR join and the two broker epochs).',
  ].join(' '),
  cluster: { controllers: 1, brokers: 3 },
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
  producers: [
    { topic: 'orders', acks: 'all', everyMs: 78 },
    { topic: 'orders', acks: '1', everyMs: 87 },
  ],
  consumers: [],
  timeline: [
    { atMs: 8_000, awaitMs: 60_000, kind: 'crash', node: '@leader-of-behind-isr', crash: 'kill' },
    { atMs: 8_006, kind: 'bounce', node: '@replica-2', crash: 'powerFailure', downMs: 506 },
    { atMs: 8_006, kind: 'bounce', node: '@replica-1', crash: 'diskLoss', downMs: 978 },
    { atMs: 8_216, kind: 'clog', source: '@replica-2', target: '@leader' },
  ],
  faultPhaseMs: 17_800,
  healPhaseMs: 40_000,
  demonstrates: [
    { bug: 'no-broker-epoch', violations: ['acked-write-durable'], allowed: ['acks-1'] },
  ],
});
