import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'acks-all-survives-a-leader-crash',
  summary: 'The leader of a partition crashes mid-stream; no acks=all write is lost',
  description: [
    'A topic with replication factor 3 and min.insync.replicas 2 takes a steady stream of acks=all',
    'writes. The leader acknowledges a write only once every member of the ISR (in-sync replicas)',
    'has it, so when the leader process is killed the controller can elect a follower from the ISR',
    'that already holds every acknowledged write. Watch the timeline: the crash at 15 s, the',
    'session timeout that fences the dead broker, the new leader in leader epoch 1, the producer',
    'retrying the writes that went unanswered meanwhile (a burst of acknowledgements right after',
    'the election), and at the heal the old leader coming back as a follower, truncating anything',
    'it alone had appended if it had any (such writes were never acknowledged), and rejoining the',
    'ISR. The checkers then find',
    'every acknowledged write on every replica, at the offset it was acknowledged at.',
  ].join(' '),
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
  producers: [{ topic: 'orders', acks: 'all', everyMs: 100 }],
  consumers: [['orders']],
  timeline: [{ atMs: 15_000, kind: 'crash', node: '@leader', crash: 'kill' }],
  faultPhaseMs: 35_000,
  healPhaseMs: 25_000,
});
