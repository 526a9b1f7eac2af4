import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'controller-failover-keeps-the-cluster-working',
  summary: 'The active controller dies; a new one is elected and handles the next broker failure',
  description: [
    'In KRaft mode the cluster metadata (brokers, topics, leaders, ISRs) is a Raft log replicated',
    'by the controller quorum; one controller, the Raft leader, is active and makes every',
    'decision. Here the active controller is killed at 15 s. The two remaining voters are a',
    'majority: once they have heard nothing from it for controller.quorum.fetch.timeout.ms they',
    'hold an election, and the winner becomes the active controller in a higher metadata epoch (an',
    'epoch can pass without a leader: a candidate that did not win still used it)',
    'after replaying the log to its end. Data does not pass through the',
    'controller, so producers keep writing to the partition leaders during the failover. At 22 s',
    'the leader of `orders` is killed as well, to show the new controller at work: it fences the',
    'broker after the session timeout and elects a new leader from the ISR. At the heal, the old',
    'controller restarts and rejoins the quorum as a follower (the timeline shows its restart;',
    '--verbose shows its Raft role). No acknowledged write is lost.',
  ].join(' '),
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
  producers: [{ topic: 'orders', acks: 'all', everyMs: 100 }],
  consumers: [['orders']],
  timeline: [
    { atMs: 15_000, kind: 'crash', node: '@controller', crash: 'kill' },
    { atMs: 22_000, kind: 'crash', node: '@leader', crash: 'kill' },
  ],
  faultPhaseMs: 40_000,
  healPhaseMs: 30_000,
});
