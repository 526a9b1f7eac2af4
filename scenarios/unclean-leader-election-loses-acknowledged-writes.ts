import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'unclean-leader-election-loses-acknowledged-writes',
  summary: 'unclean.leader.election.enable elects a stale replica and acknowledged writes vanish',
  description: [
    'unclean.leader.election.enable trades durability for availability: when no replica of the',
    'ISR can lead, the controller may elect any live replica, even one far behind. Here (min ISR 1)',
    'one follower is killed at 10 s; acks=all writes wait until it is fenced and dropped from the',
    'ISR, then the other two keep acknowledging them. At 20 s both of them are killed, and at 22 s the stale',
    'follower comes back. It is the only live replica and it is not in the ISR: a clean election is',
    'impossible, so with unclean election enabled the controller elects it (look for the new',
    'leader with a log far shorter than the high watermark before). Every write acknowledged',
    'after 10 s is gone; when the other replicas return at the heal they truncate their logs to',
    'the new leader. The checker reports these losses as allowed (unclean-election), because the',
    'setting asked for them. With `--set unclean.leader.election.enable=false` nothing is lost',
    'and the partition stays offline instead, even after the heal: the ISR members that return were',
    'killed, an unclean shutdown, so they may not lead either (offline-after-unclean-shutdowns).',
  ].join(' '),
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 1 }],
  producers: [{ topic: 'orders', acks: 'all', everyMs: 100 }],
  consumers: [['orders']],
  timeline: [
    { atMs: 10_000, kind: 'crash', node: '@replica-2', crash: 'kill' },
    { atMs: 20_000, kind: 'crash', node: '@replica-0', crash: 'kill' },
    { atMs: 20_000, kind: 'crash', node: '@replica-1', crash: 'kill' },
    { atMs: 22_000, kind: 'restart', node: '@replica-2' },
  ],
  faultPhaseMs: 40_000,
  healPhaseMs: 30_000,
  settings: { 'unclean.leader.election.enable': true },
  expect: { allowed: ['unclean-election'] },
});
