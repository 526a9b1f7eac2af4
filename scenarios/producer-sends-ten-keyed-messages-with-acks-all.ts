import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'producer-sends-ten-keyed-messages-with-acks-all',
  summary: "The seed's producer example: acks=all, retries=5, key-0..key-9 / message-0..message-9",
  description: [
    "The seed document's second example: a producer with acks=all and retries=5 sends ten keyed",
    'records, key-0/message-0 to key-9/message-9, to `test-topic` (1 partition, replication',
    'factor 3). A common misreading is that acks=all waits for every follower: it waits for every',
    'member of the ISR (in-sync replicas), the replicas that have kept up with the leader. A',
    'follower that falls behind leaves the ISR and stops delaying writes, and',
    'min.insync.replicas bounds how small the ISR may get before the leader refuses acks=all',
    "writes (NOT_ENOUGH_REPLICAS). Here it is Kafka's broker default of 1, so the leader alone",
    'could acknowledge if both followers fell out; scenarios that promise durability set 2. With',
    'no fault, the timeline shows the ten writes acknowledged at offsets 0 to 9 and the table shows',
    'all three replicas holding them.',
  ].join(' '),
  cluster: { controllers: 3, brokers: 3 },
  topics: [{ name: 'test-topic', partitions: 1, replicationFactor: 3, minInsyncReplicas: 1 }],
  producers: [
    {
      topic: 'test-topic',
      acks: 'all',
      everyMs: 100,
      count: 10,
      keyPrefix: 'key',
      valuePrefix: 'message',
      config: { retries: 5 },
    },
  ],
  consumers: [['test-topic']],
  faultPhaseMs: 12_000,
  healPhaseMs: 10_000,
});
