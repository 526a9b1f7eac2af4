import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'admin-creates-a-topic-with-three-replicas',
  summary: "The seed's admin example: create test-topic with 1 partition and replication factor 3",
  description: [
    "The seed document's first example: an admin client creates `test-topic` with one partition",
    'and replication factor 3 on a cluster of three brokers. In KRaft mode the request goes to the',
    'active controller, which assigns the three replicas round-robin over the brokers, writes the',
    'topic and its partition to the metadata log, and picks the first replica of the assignment as',
    'leader with every replica in the ISR (in-sync replicas). Watch the timeline: the controller',
    'quorum elects its leader, the brokers register and are unfenced, then at 5 s the partition',
    'gets its leader in epoch 0 with a full ISR. No data is written; every invariant holds.',
  ].join(' '),
  cluster: { controllers: 3, brokers: 3 },
  topics: [{ name: 'test-topic', partitions: 1, replicationFactor: 3, minInsyncReplicas: 1 }],
  faultPhaseMs: 10_000,
  healPhaseMs: 10_000,
});
