import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'controlled-shutdown-moves-leadership-first',
  summary:
    'Decommissioning the leader: controlled shutdown moves leadership first, nothing is lost',
  description: [
    'Taking a broker out of service the polite way. At 15 s the broker that leads `orders` is',
    'stopped gracefully: before it exits it asks the controller for a controlled shutdown, and the',
    'controller moves leadership of every partition it leads to another ISR member and removes it',
    'from the ISRs, so clients are redirected at once instead of waiting for a session timeout to',
    'fence a dead broker. Only then does the broker shut down, flushing its logs and writing a',
    'clean-shutdown marker; the admin then unregisters it, and it stays out through the heal.',
    'Watch the timeline: the shutdown request, the controller electing the new leader for leader',
    'epoch 1 within milliseconds, the unregistration, and acks=all writes carrying on without a',
    'pause. A write the old leader had appended but not yet committed, if any, is retried by the',
    'producer on the new leader. The partition keeps two replicas, which still meet min.insync.replicas 2, and no',
    'acknowledged write is lost.',
  ].join(' '),
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
  producers: [{ topic: 'orders', acks: 'all', everyMs: 100 }],
  consumers: [['orders']],
  timeline: [{ atMs: 15_000, kind: 'remove-broker', node: '@leader' }],
  faultPhaseMs: 30_000,
  healPhaseMs: 20_000,
});
