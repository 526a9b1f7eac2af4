// The settings a scenario (or `--set key=value`) may change, by Kafka's names, each parsed and
// checked, and applied to a run. An unknown key is an error that names the closest known one.

import type { KafkaRunSpec } from '../properties/kafka-harness.ts';
import type { ProducerConfig } from '../sim/kafka/clients/producer.ts';

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

type Value = string | number | boolean;

/** A largest value, and why it is the largest. */
export interface Limit {
  readonly max: number;
  readonly why: string;
}

/**
 * The most kafkasim takes (a cluster, a topic, a run): past them a run would not finish in useful
 * time or memory. The same bounds hold for a scenario file's fields.
 */
export const LIMITS = {
  brokers: { max: 64, why: 'the most brokers kafkasim simulates' },
  controllers: { max: 15, why: 'the most controllers kafkasim simulates' },
  partitions: { max: 1_000, why: 'the most partitions a topic has in kafkasim' },
  /** Every topic's partitions together (a follower's fetch carries them all). */
  clusterPartitions: { max: 2_000, why: 'the most partitions a cluster has in kafkasim' },
  phaseMs: { max: 3_600_000, why: 'an hour of simulated time, the longest phase' },
  ms: { max: 86_400_000, why: 'a day' },
  /** Java's int, which Kafka's count settings are. */
  count: { max: 2_147_483_647, why: "Java's largest int, as in Kafka" },
} as const satisfies Readonly<Record<string, Limit>>;

interface Setting {
  readonly description: string;
  readonly type: 'ms' | 'count' | 'boolean' | 'acks';
  /** The smallest value allowed (numbers). */
  readonly min?: number;
  /** A producer setting: the producer config field it sets (a producer's own config may set it too). */
  readonly producerField?: keyof ProducerConfig;
  /** The largest (numbers; else LIMITS.ms or LIMITS.count by type), and why. */
  readonly max?: Limit;
  apply(spec: KafkaRunSpec, value: number | boolean | string): KafkaRunSpec;
}

function producerSetting(key: keyof ProducerConfig): Setting['apply'] {
  return (spec, value) => ({ ...spec, producer: { ...spec.producer, [key]: value } });
}

function replicaSetting(key: string): Setting['apply'] {
  return (spec, value) => ({ ...spec, replica: { ...spec.replica, [key]: value } });
}

function topicSetting(key: string): Setting['apply'] {
  return (spec, value) => ({
    ...spec,
    topics: spec.topics.map((topic) => ({ ...topic, [key]: value })),
  });
}

export const SETTINGS: Readonly<Record<string, Setting>> = {
  brokers: {
    description: 'brokers in the cluster',
    type: 'count',
    min: 1,
    max: LIMITS.brokers,
    apply: (spec, value) => ({ ...spec, brokers: value as number }),
  },
  controllers: {
    description: 'KRaft controllers (voters of the metadata quorum)',
    type: 'count',
    min: 1,
    max: LIMITS.controllers,
    apply: (spec, value) => ({ ...spec, controllers: value as number }),
  },
  'replication.factor': {
    description: 'replication factor of every topic',
    type: 'count',
    min: 1,
    apply: topicSetting('replicationFactor'),
  },
  'num.partitions': {
    description: 'partitions of every topic',
    type: 'count',
    min: 1,
    max: LIMITS.partitions,
    apply: topicSetting('partitions'),
  },
  'min.insync.replicas': {
    description: 'min.insync.replicas of every topic',
    type: 'count',
    min: 1,
    apply: topicSetting('minInsyncReplicas'),
  },
  'unclean.leader.election.enable': {
    description: 'allow electing a replica outside the ISR (and ELR), losing data',
    type: 'boolean',
    apply: topicSetting('uncleanLeaderElection'),
  },
  'replica.lag.time.max.ms': {
    description: 'how long a follower may lag before it leaves the ISR',
    type: 'ms',
    min: 1,
    apply: replicaSetting('replicaLagTimeMaxMs'),
  },
  'replica.fetch.wait.max.ms': {
    description: "how long a leader holds a follower's empty fetch (long poll)",
    type: 'ms',
    min: 0,
    apply: replicaSetting('replicaFetchWaitMaxMs'),
  },
  'replica.fetch.max.bytes': {
    description: 'most bytes a follower fetch returns (at least one batch)',
    type: 'count',
    min: 1,
    apply: replicaSetting('replicaFetchMaxBytes'),
  },
  'replica.socket.timeout.ms': {
    description: 'how long a follower waits for a fetch answer',
    type: 'ms',
    min: 1,
    apply: replicaSetting('replicaSocketTimeoutMs'),
  },
  'replica.high.watermark.checkpoint.interval.ms': {
    description: 'how often brokers checkpoint their high watermarks',
    type: 'ms',
    min: 1,
    apply: replicaSetting('highWatermarkCheckpointIntervalMs'),
  },
  'flush.ms': {
    description: 'flush every log this often (default: never; the OS writes back after 30 s)',
    type: 'ms',
    min: 1,
    apply: replicaSetting('flushIntervalMs'),
  },
  'controller.quorum.fetch.max.bytes': {
    description:
      "most bytes a controller's metadata fetch asks for, at least one entry (not a Kafka setting: Kafka fixes 8 MiB; 64 KiB here; brokers keep 64 KiB)",
    type: 'count',
    min: 1,
    apply: (spec, value) => ({ ...spec, controllerFetchMaxBytes: value as number }),
  },
  'metadata.max.idle.interval.ms': {
    description:
      'how often the active controller writes a NoOp record to the metadata log (0: never)',
    type: 'ms',
    min: 0,
    apply: (spec, value) => ({ ...spec, metadataMaxIdleIntervalMs: value as number }),
  },
  'broker.session.timeout.ms': {
    description: 'how long a silent broker keeps its session before it is fenced',
    type: 'ms',
    min: 1,
    apply: (spec, value) => ({ ...spec, brokerSessionTimeoutMs: value as number }),
  },
  acks: {
    description: "every producer's acks: 0, 1 or all",
    type: 'acks',
    apply: (spec, value) => ({
      ...spec,
      producers: spec.producers.map((producer) => ({
        ...producer,
        acks: value as '0' | '1' | 'all',
      })),
    }),
  },
  retries: {
    description: 'retries per batch',
    type: 'count',
    min: 0,
    producerField: 'retries',
    apply: producerSetting('retries'),
  },
  'request.timeout.ms': {
    description: 'how long a producer waits for a produce answer',
    type: 'ms',
    min: 1,
    producerField: 'requestTimeoutMs',
    apply: producerSetting('requestTimeoutMs'),
  },
  'delivery.timeout.ms': {
    description: 'how long a record may take from send to its outcome',
    type: 'ms',
    min: 1,
    producerField: 'deliveryTimeoutMs',
    apply: producerSetting('deliveryTimeoutMs'),
  },
  'enable.idempotence': {
    description: 'idempotent producers (producer id and sequence numbers)',
    type: 'boolean',
    apply: (spec, value) => ({
      ...spec,
      producers: spec.producers.map((producer) => ({ ...producer, idempotent: value as boolean })),
    }),
  },
  'max.in.flight.requests.per.connection': {
    description: 'most unanswered produce requests per broker',
    type: 'count',
    min: 1,
    producerField: 'maxInFlightRequestsPerConnection',
    apply: producerSetting('maxInFlightRequestsPerConnection'),
  },
  'retry.backoff.ms': {
    description: "a producer's first retry backoff (later ones double, ±20 %)",
    type: 'ms',
    min: 0,
    producerField: 'retryBackoffMs',
    apply: producerSetting('retryBackoffMs'),
  },
  'retry.backoff.max.ms': {
    description: "the longest a producer's retry backoff grows",
    type: 'ms',
    min: 0,
    producerField: 'retryBackoffMaxMs',
    apply: producerSetting('retryBackoffMaxMs'),
  },
  'fault.phase.ms': {
    description: 'length of the fault phase (the workload runs through it)',
    type: 'ms',
    min: 1,
    max: LIMITS.phaseMs,
    apply: (spec, value) => ({ ...spec, faultPhaseMs: value as number }),
  },
  'heal.phase.ms': {
    description: 'length of the heal phase',
    type: 'ms',
    min: 1,
    max: LIMITS.phaseMs,
    apply: (spec, value) => ({ ...spec, healPhaseMs: value as number }),
  },
};

/** The setting of that name, if any (own names only: `constructor` or `__proto__` are none). */
export function settingOf(key: string): Setting | undefined {
  return Object.hasOwn(SETTINGS, key) ? SETTINGS[key] : undefined;
}

/** Parses a setting's value (from a scenario or `--set`); throws ScenarioError naming `where`. */
export function parseSetting(key: string, raw: Value, where: string): number | boolean | string {
  const setting = settingOf(key);
  if (setting === undefined) throw new ScenarioError(`${where}: unknown setting "${key}"`);
  const text = String(raw).trim();
  switch (setting.type) {
    case 'boolean':
      if (text === 'true' || text === 'false') return text === 'true';
      throw new ScenarioError(`${where}: ${key} must be true or false (got "${text}")`);
    case 'acks':
      if (text === '0' || text === '1' || text === 'all') return text;
      if (text === '-1') return 'all';
      throw new ScenarioError(`${where}: acks must be 0, 1 or all (got "${text}")`);
    default: {
      const value = Number(text);
      const min = setting.min ?? 0;
      const max = setting.max ?? (setting.type === 'ms' ? LIMITS.ms : LIMITS.count);
      if (!/^-?\d+$/.test(text) || value < min) {
        throw new ScenarioError(`${where}: ${key} must be a whole number ≥ ${min} (got "${text}")`);
      }
      if (value > max.max)
        throw new ScenarioError(
          `${where}: ${key} must be at most ${max.max}, ${max.why} (got ${text})`,
        );
      return value;
    }
  }
}

/** Applies settings, in order, to a run's spec. */
export function applySettings(
  spec: KafkaRunSpec,
  settings: Readonly<Record<string, Value>>,
  where: string,
): KafkaRunSpec {
  let result = spec;
  for (const [key, raw] of Object.entries(settings)) {
    const setting = settingOf(key);
    if (setting === undefined) throw new ScenarioError(`${where}: unknown setting "${key}"`);
    result = setting.apply(result, parseSetting(key, raw, `${where}.${key}`));
  }
  return result;
}
