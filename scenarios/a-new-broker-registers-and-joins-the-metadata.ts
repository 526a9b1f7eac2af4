import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'a-new-broker-registers-and-joins-the-metadata',
  summary: 'A fourth broker registers with the controller, is unfenced and appears in the metadata',
  description: [
    'Growing a KRaft cluster: a new broker only needs the controller quorum. At 15 s a fourth',
    'broker starts; it sends a BrokerRegistration to the active controller, which writes a',
    'registration record (a new broker epoch) to the metadata log, fenced at first. The broker',
    'fetches the metadata log like every broker, and once it has caught up and heartbeats, the',
    'controller unfences it with another record that every broker and client then learns. Watch',
    'the timeline for b4: registered, then unfenced: running. Note what does not happen: Kafka',
    'never moves existing partitions by itself, so `orders` keeps its three replicas on b1-b3',
    '(see the table) and b4 holds nothing until a reassignment or a new topic uses it. The',
    'producer is not disturbed and nothing is lost.',
  ].join(' '),
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
  producers: [{ topic: 'orders', acks: 'all', everyMs: 100 }],
  consumers: [['orders']],
  timeline: [{ atMs: 15_000, kind: 'add-broker' }],
  faultPhaseMs: 25_000,
  healPhaseMs: 15_000,
});
