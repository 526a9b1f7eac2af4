// Runs a scenario: its cluster, workload and timeline through the harness with every checker on,
// and returns a report as data (the CLI renders it): the verdict against the scenario's expected
// outcome, the violations and allowed losses, a timeline of the events that matter, and the final
// state of every partition. Everything here is simulated time; the CLI adds wall-clock figures.

import { REPLICAS_MAX } from '../properties/data-checker.ts';
import {
  FAST_PRODUCER_CONFIG,
  FAST_REPLICA_CONFIG,
  type KafkaRunResult,
  type KafkaRunSpec,
  runKafka,
} from '../properties/kafka-harness.ts';
import type { HeldInstead, LeaderlessPartition } from '../properties/violation.ts';
import { DEFAULT_REPLICA_CONFIG } from '../sim/kafka/broker/replica-manager.ts';
import type { BugName } from '../sim/kafka/bugs.ts';
import { ClientConfigError } from '../sim/kafka/clients/client-metadata.ts';
import type { History } from '../sim/kafka/clients/history.ts';
import { resolveProducerConfig } from '../sim/kafka/clients/producer.ts';
import { DEFAULT_BROKER_CONFIG } from '../sim/kafka/kraft/broker-node.ts';
import type { KraftCluster } from '../sim/kafka/kraft/cluster.ts';
import { DEFAULT_RAFT_CONFIG } from '../sim/kafka/raft/raft-node.ts';
import { DEFAULT_LATENCY, latencyMaxMs } from '../sim/kernel/network.ts';
import type { Ms } from '../sim/kernel/time.ts';
import type { TraceEvent } from '../sim/kernel/trace.ts';
import { type Expectation, expectationFor, type Scenario } from './scenario.ts';
import { applySettings, LIMITS, ScenarioError, settingOf } from './settings.ts';
import {
  buildPartitionRows,
  buildQuorumRows,
  type PartitionRow,
  type QuorumRow,
  type TimelineEntry,
  TimelineRecorder,
} from './timeline.ts';
import { validateScenario } from './validate.ts';

export interface RunOptions {
  readonly seed: number;
  readonly bugs: readonly BugName[];
  /** `--set key=value`, applied after the scenario's own settings. */
  readonly sets: Readonly<Record<string, string>>;
  /** Keep every trace event in the timeline (`--verbose`). */
  readonly verbose?: boolean;
  /** Every trace event, as it happens (`--trace FILE`). */
  readonly traceSink?: (event: TraceEvent) => void;
  /**
   * Record the timeline (default true). The fuzzer keeps only the verdict, the counts and the
   * trace hash of a seed, so it runs without: the recorder looks at the cluster after every
   * event. Nothing it does changes the run (the same events, the same trace hash).
   */
  readonly timeline?: boolean;
}

export interface ViolationReport {
  readonly invariant: string;
  readonly atMs: Ms;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: number;
  readonly value?: string;
  readonly nodes?: readonly string[];
  readonly epoch?: number;
  /** A lost record's: when it was committed, and what became of it on each broker that held it. */
  readonly committedAtMs?: Ms;
  readonly holders?: Readonly<Record<string, string>>;
  /** A metadata staleness: since when the observer had reached the leader and a majority. */
  readonly sinceMs?: Ms;
  /** A disagreement: what one node holds where the committed record or entry sat. */
  readonly heldInstead?: HeldInstead;
  /** A partition left without a leader: its replicas, ISR, ELR and last known leader at the end. */
  readonly leaderless?: LeaderlessPartition;
  readonly message: string;
}

export interface AllowedLossReport {
  readonly reason: string;
  readonly atMs: Ms;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: number;
  readonly value?: string;
  readonly message: string;
}

export interface ScenarioReport {
  readonly scenario: string;
  readonly seed: number;
  readonly mode: 'kraft';
  readonly bugs: readonly BugName[];
  /** The outcome is the expected one. */
  readonly ok: boolean;
  readonly expected: Expectation;
  readonly violations: readonly ViolationReport[];
  readonly allowedLosses: readonly AllowedLossReport[];
  /** How often each invariant broke (also past the kept examples). */
  readonly counts: Readonly<Record<string, number>>;
  /** How many losses of each reason were allowed (also past the kept examples). */
  readonly allowedCounts: Readonly<Record<string, number>>;
  readonly stats: { readonly events: number; readonly simulatedMs: Ms };
  readonly traceHash: string;
  /** Settings in force (the scenario's, then `--set`), and warnings about them. */
  readonly settings: Readonly<Record<string, string>>;
  readonly warnings: readonly string[];
  readonly timeline: readonly TimelineEntry[];
  readonly partitions: readonly PartitionRow[];
  /** Each metadata voter's state at the end. */
  readonly quorum: readonly QuorumRow[];
  readonly history: History;
  /** Why the outcome is (not) the expected one, one line each. */
  readonly verdict: readonly string[];
}

/** The run's spec: the scenario, its settings, `--set`; throws ScenarioError on an impossible one. */
export function scenarioSpec(
  scenario: Scenario,
  options: RunOptions,
): { spec: KafkaRunSpec; warnings: string[] } {
  const base: KafkaRunSpec = {
    seed: options.seed,
    controllers: scenario.cluster.controllers,
    brokers: scenario.cluster.brokers,
    bugs: new Set(options.bugs),
    topics: scenario.topics,
    producers: scenario.producers,
    consumers: scenario.consumers,
    faults: scenario.timeline,
    faultPhaseMs: scenario.faultPhaseMs,
    healPhaseMs: scenario.healPhaseMs,
  };
  const spec = overridingProducerConfigs(
    applySettings(applySettings(base, scenario.settings, 'settings'), options.sets, '--set'),
    options.sets,
  );
  const warnings = checkSpec(spec);
  // What --set changes is checked as the scenario's own settings are: a timeline step past a
  // shortened fault phase, or a node a smaller cluster no longer has, is the same mistake.
  if (Object.keys(options.sets).length > 0) {
    const sets = Object.entries(options.sets).map(([key, value]) => `${key}=${value}`);
    validateScenario(
      { ...scenario, settings: { ...scenario.settings, ...options.sets } },
      `with --set ${sets.join(' ')}`,
    );
  }
  return { spec, warnings };
}

/**
 * A --set of a producer setting wins over a producer's own config of the same field (the report
 * says it was applied; it was not, when a producer set the field itself).
 */
function overridingProducerConfigs(
  spec: KafkaRunSpec,
  sets: Readonly<Record<string, string>>,
): KafkaRunSpec {
  const fields = Object.keys(sets)
    .map((key) => settingOf(key)?.producerField)
    .filter((field) => field !== undefined);
  if (fields.length === 0) return spec;
  return {
    ...spec,
    producers: spec.producers.map((producer) => {
      if (producer.config === undefined) return producer;
      const config = Object.fromEntries(
        Object.entries(producer.config).filter(([field]) => !(fields as string[]).includes(field)),
      );
      return { ...producer, config };
    }),
  };
}

/** Impossible configurations are errors; legal but surprising ones are warnings. */
export function checkSpec(spec: KafkaRunSpec): string[] {
  const warnings: string[] = [];
  checkProducers(spec);
  checkReplicaTimings(spec);
  if (spec.controllers < 1)
    throw new ScenarioError(`controllers must be ≥ 1 (got ${spec.controllers})`);
  if (spec.brokers < 1) throw new ScenarioError(`brokers must be ≥ 1 (got ${spec.brokers})`);
  spec.topics.forEach((topic, index) => {
    const where = `topics[${index}] (${topic.name})`;
    if (!(topic.partitions >= 1))
      throw new ScenarioError(`${where}: partitions must be ≥ 1 (got ${topic.partitions})`);
    if (!(topic.replicationFactor >= 1))
      throw new ScenarioError(
        `${where}: replication factor must be ≥ 1 (got ${topic.replicationFactor})`,
      );
    if (topic.replicationFactor > spec.brokers) {
      throw new ScenarioError(
        `${where}: replication factor ${topic.replicationFactor} is more than the ${spec.brokers} brokers`,
      );
    }
    if (topic.replicationFactor > REPLICAS_MAX) {
      throw new ScenarioError(
        `${where}: replication factor ${topic.replicationFactor} is more than ${REPLICAS_MAX}, the most replicas per partition the data checker follows`,
      );
    }
    if (!(topic.minInsyncReplicas >= 1))
      throw new ScenarioError(
        `${where}: min.insync.replicas must be ≥ 1 (got ${topic.minInsyncReplicas})`,
      );
    if (topic.minInsyncReplicas > topic.replicationFactor) {
      warnings.push(
        `${where}: min.insync.replicas ${topic.minInsyncReplicas} > replication factor ${topic.replicationFactor}; Kafka uses the smaller (${topic.replicationFactor}) as the effective min ISR`,
      );
    }
  });
  const partitions = spec.topics.reduce((sum, topic) => sum + topic.partitions, 0);
  if (partitions > LIMITS.clusterPartitions.max)
    throw new ScenarioError(
      `the topics have ${partitions} partitions together: at most ${LIMITS.clusterPartitions.max}, ${LIMITS.clusterPartitions.why}`,
    );
  if (spec.faultPhaseMs < 1 || spec.healPhaseMs < 1)
    throw new ScenarioError('fault.phase.ms and heal.phase.ms must be ≥ 1');
  // Legal, but the run's own settings may then break checks by themselves: say which and why.
  const heartbeatMs = DEFAULT_BROKER_CONFIG.heartbeatIntervalMs;
  const sessionMs = spec.brokerSessionTimeoutMs;
  if (sessionMs !== undefined && sessionMs < 2 * heartbeatMs)
    warnings.push(
      `broker.session.timeout.ms ${sessionMs} is under twice broker.heartbeat.interval.ms (${heartbeatMs}), which Kafka logs as an error: brokers are fenced between their heartbeats, and the after-heal checks may fail for that alone`,
    );
  const replica = { ...DEFAULT_REPLICA_CONFIG, ...FAST_REPLICA_CONFIG, ...spec.replica };
  const lagMs = replica.replicaLagTimeMaxMs;
  if (spec.healPhaseMs < lagMs)
    warnings.push(
      `heal.phase.ms ${spec.healPhaseMs} is under replica.lag.time.max.ms (${lagMs}): the after-heal checks judge the cluster at the end of the heal, which may come before it has recovered (elections, fetches, ISR joins)`,
    );
  // An empty long poll is answered after replica.fetch.wait.max.ms: its answer needs a round trip
  // more, or every idle follower's fetch times out (Kafka's rule only asks for the wait itself).
  const roundTripMs = 2 * latencyMaxMs(DEFAULT_LATENCY);
  if (replica.replicaSocketTimeoutMs < replica.replicaFetchWaitMaxMs + roundTripMs)
    warnings.push(
      `replica.socket.timeout.ms ${replica.replicaSocketTimeoutMs} leaves less than a round trip (up to ${roundTripMs} ms on kafkasim's links) past replica.fetch.wait.max.ms ${replica.replicaFetchWaitMaxMs}: followers' fetches may time out before their answers arrive, and the after-heal checks may fail for that alone`,
    );
  // The checks' bounds assume a metadata fetch makes its round trip within the fetch timeout.
  const fetchTimeoutMs = spec.raft?.fetchTimeoutMs ?? DEFAULT_RAFT_CONFIG.fetchTimeoutMs;
  for (const step of spec.faults ?? []) {
    if (step.kind !== 'slow') continue;
    const slowRoundTripMs = 2 * step.extraLatencyMs + roundTripMs;
    if (slowRoundTripMs < fetchTimeoutMs) continue;
    warnings.push(
      `the slow step at ${step.atMs} ms adds ${step.extraLatencyMs} ms each way to ${step.node}'s links: a round trip may then take ${slowRoundTripMs} ms, as long as the metadata fetch timeout (${fetchTimeoutMs} ms) within which metadata-staleness-bounded and the after-heal checks assume links answer, and they may fail for that alone`,
    );
  }
  return warnings;
}

export function runScenario(scenario: Scenario, options: RunOptions): ScenarioReport {
  const { spec, warnings } = scenarioSpec(scenario, options);
  const recorder =
    options.timeline === false ? null : new TimelineRecorder(options.verbose ?? false);
  const traceSink = options.traceSink;
  const result = runKafka({
    ...spec,
    trace: {
      ...(recorder === null
        ? traceSink === undefined
          ? {}
          : { sink: traceSink }
        : {
            sink: (event: TraceEvent) => {
              recorder.onTraceEvent(event);
              traceSink?.(event);
            },
            // Without --trace, only what the timeline shows becomes an object.
            ...(traceSink === undefined
              ? { sinkFilter: (kind: string) => recorder.wants(kind) }
              : {}),
          }),
    },
    ...(recorder === null ? {} : { sample: (run: KraftCluster) => recorder.sample(run) }),
  });
  const expected = expectationFor(scenario, options.bugs);
  const violations = result.violations.map((violation) => ({ ...violation }));
  const allowedLosses = result.allowed.map((loss) => ({ ...loss }));
  const verdict = judge(result, expected);
  return {
    scenario: scenario.name,
    seed: options.seed,
    mode: 'kraft',
    bugs: options.bugs,
    ok: verdict.ok,
    expected,
    violations,
    allowedLosses,
    counts: Object.fromEntries(result.counts),
    allowedCounts: Object.fromEntries(result.allowedCounts),
    stats: { events: result.events, simulatedMs: result.simulatedMs },
    traceHash: result.traceHash,
    settings: Object.fromEntries(
      Object.entries({ ...scenario.settings, ...options.sets }).map(([key, value]) => [
        key,
        String(value),
      ]),
    ),
    warnings,
    timeline: recorder === null ? [] : recorder.entries(result),
    partitions: buildPartitionRows(result),
    quorum: buildQuorumRows(result),
    history: result.history,
    verdict: verdict.lines,
  };
}

/** Exactly the expected invariants broken, and every expected allowed loss shown. */
function judge(result: KafkaRunResult, expected: Expectation): { ok: boolean; lines: string[] } {
  const lines: string[] = [];
  const broken = [...result.counts.keys()];
  for (const invariant of expected.violations) {
    lines.push(
      broken.includes(invariant)
        ? `expected ${invariant}: broken, as this scenario shows`
        : `expected ${invariant} to break: it held`,
    );
  }
  for (const invariant of broken) {
    if (!expected.violations.includes(invariant))
      lines.push(`unexpected: ${invariant} broke ${result.counts.get(invariant)} time(s)`);
  }
  const reasons = new Set(result.allowedCounts.keys());
  for (const reason of expected.allowed) {
    lines.push(
      reasons.has(reason)
        ? `expected allowed loss ${reason}: shown`
        : `expected allowed loss ${reason}: not shown`,
    );
  }
  const ok =
    expected.violations.every((invariant) => broken.includes(invariant)) &&
    broken.every((invariant) => expected.violations.includes(invariant)) &&
    expected.allowed.every((reason) => reasons.has(reason));
  return { ok, lines };
}

/** Kafka's own rules on the follower's fetch timings (KafkaConfig refuses to start otherwise). */
function checkReplicaTimings(spec: KafkaRunSpec): void {
  const replica = { ...DEFAULT_REPLICA_CONFIG, ...FAST_REPLICA_CONFIG, ...spec.replica };
  const wait = replica.replicaFetchWaitMaxMs;
  if (wait > replica.replicaSocketTimeoutMs)
    throw new ScenarioError(
      `replica.fetch.wait.max.ms ${wait} is above replica.socket.timeout.ms ${replica.replicaSocketTimeoutMs}: Kafka requires the socket timeout to be at least the fetch wait, to prevent unnecessary socket timeouts`,
    );
  if (wait > replica.replicaLagTimeMaxMs)
    throw new ScenarioError(
      `replica.fetch.wait.max.ms ${wait} is above replica.lag.time.max.ms ${replica.replicaLagTimeMaxMs}: Kafka requires the fetch wait to be at most the lag time, to prevent frequent changes in ISR`,
    );
}

/** The producer config's field names that Kafka's settings name otherwise. */
const KAFKA_PRODUCER_NAMES: Readonly<Record<string, string>> = {
  deliveryTimeoutMs: 'delivery.timeout.ms',
  requestTimeoutMs: 'request.timeout.ms',
  lingerMs: 'linger.ms',
  maxInFlightRequestsPerConnection: 'max.in.flight.requests.per.connection',
  enableIdempotence: 'enable.idempotence',
  retries: 'retries',
};

/**
 * Each producer's settings together, as the harness builds them (`--set` may have moved one, so
 * that Kafka's rules no longer hold: a request timeout above the delivery timeout, …).
 */
function checkProducers(spec: KafkaRunSpec): void {
  spec.producers.forEach((producer, index) => {
    try {
      resolveProducerConfig(
        {
          ...FAST_PRODUCER_CONFIG,
          ...spec.producer,
          ...producer.config,
          bootstrapBrokers: ['b1'],
          acks: producer.acks,
          enableIdempotence: producer.idempotent ?? false,
          history: null as unknown as History,
        },
        `p${index + 1}`,
      );
    } catch (error) {
      if (!(error instanceof ClientConfigError)) throw error;
      // The producer speaks of its config's fields; settings and --set use Kafka's names.
      const message = error.message.replace(/\b[a-z][A-Za-z]*\b/g, (word) =>
        Object.hasOwn(KAFKA_PRODUCER_NAMES, word) ? (KAFKA_PRODUCER_NAMES[word] as string) : word,
      );
      throw new ScenarioError(`producers[${index}] (p${index + 1}): ${message}`);
    }
  });
}
