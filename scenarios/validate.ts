// Checks a scenario, written in TypeScript or loaded from JSON, before anything runs: every field
// has the right type, every name (topic, node, role, trigger, setting, bug, invariant) is known,
// and the configuration is possible. The first problem found is a ScenarioError of one line that
// names the path and the problem: `timeline[2].node: unknown broker "b7" (brokers are b1..b3, or
// a role such as @leader)`. Values are treated as unknown: a JSON file can hold anything.

import { REPLICAS_MAX } from '../properties/data-checker.ts';
import {
  CONTROLLER_ROLES,
  isTriggerName,
  PARTITION_ROLES,
  TRIGGERS,
} from '../properties/data-roles.ts';
import type { Step } from '../properties/kafka-harness.ts';
import { FAST_PRODUCER_CONFIG } from '../properties/kafka-harness.ts';
import { BUG_NAMES, isBugName } from '../sim/kafka/bugs.ts';
import { ClientConfigError } from '../sim/kafka/clients/client-metadata.ts';
import type { History } from '../sim/kafka/clients/history.ts';
import { type ProducerConfig, resolveProducerConfig } from '../sim/kafka/clients/producer.ts';
import { CRASH_KINDS } from '../sim/kernel/disk.ts';
import type { Scenario } from './scenario.ts';
import {
  applySettings,
  LIMITS,
  type Limit,
  parseSetting,
  ScenarioError,
  SETTINGS,
} from './settings.ts';
import { closest, unknownName } from './suggest.ts';

// ---- "did you mean" -------------------------------------------------------------------------
// ---- the vocabulary -------------------------------------------------------------------------

/** The fields of a scenario, in the order the JSON form writes them. */
export const SCENARIO_FIELDS = [
  'name',
  'summary',
  'description',
  'seed',
  'cluster',
  'topics',
  'producers',
  'consumers',
  'timeline',
  'faultPhaseMs',
  'healPhaseMs',
  'settings',
  'expect',
  'demonstrates',
] as const satisfies readonly (keyof Scenario)[];

export const CLUSTER_FIELDS = ['controllers', 'brokers'] as const;
export const TOPIC_FIELDS = [
  'name',
  'partitions',
  'replicationFactor',
  'minInsyncReplicas',
  'uncleanLeaderElection',
] as const;
export const PRODUCER_FIELDS = [
  'topic',
  'acks',
  'idempotent',
  'everyMs',
  'burst',
  'count',
  'startMs',
  'partition',
  'keyPrefix',
  'valuePrefix',
  'config',
] as const;
export const EXPECT_FIELDS = ['violations', 'allowed'] as const;
export const DEMONSTRATION_FIELDS = ['bug', 'violations', 'allowed'] as const;

/** The harness sets these itself (from the producer's own fields, or per client; pendingMax is its bound on the records in flight, not a Kafka setting). */
type HarnessProducerKey =
  | 'bootstrapBrokers'
  | 'history'
  | 'process'
  | 'acks'
  | 'enableIdempotence'
  | 'pendingMax';
type ProducerConfigKey = Exclude<keyof ProducerConfig, HarnessProducerKey>;

/** The keys a producer's `config` may set (a Record, so a new ProducerConfig key must be listed). */
const PRODUCER_CONFIG_KEY_SET: Readonly<Record<ProducerConfigKey, true>> = {
  retries: true,
  requestTimeoutMs: true,
  deliveryTimeoutMs: true,
  maxInFlightRequestsPerConnection: true,
  retryBackoffMs: true,
  retryBackoffMaxMs: true,
  metadataMaxAgeMs: true,
  batchSize: true,
  lingerMs: true,
};
export const PRODUCER_CONFIG_KEYS = Object.keys(PRODUCER_CONFIG_KEY_SET) as ProducerConfigKey[];

/** The invariant ids of KAFKA.md's table. */
export const INVARIANTS = [
  'acked-write-durable',
  'committed-prefix-agrees',
  'committed-read-stable',
  'leader-in-isr',
  'isr-valid',
  'hw-within-log',
  'single-leader-per-epoch',
  'no-duplicates',
  'raft-election-safety',
  'metadata-staleness-bounded',
  'raft-log-matching',
  'raft-hw-monotonic',
  'zk-single-controller',
  'compaction-keeps-latest',
  'retention-safe',
  'leader-elected-after-heal',
  'writes-resolve',
  'acked-fully-replicated',
] as const;

/** Reasons a loss is allowed by the durability contract (AllowedLoss.reason). */
export const ALLOWED_LOSS_REASONS = [
  'acks-0',
  'acks-1',
  'lossy-crashes',
  'unclean-election',
  'last-replica-standing',
  'voter-disk-loss',
  'offline-after-unclean-shutdowns',
] as const;

/** Role references resolveDataRole knows (properties/data-roles.ts), besides `@replica-N`. */
export const DATA_ROLES = PARTITION_ROLES;
const REPLICA_ROLE = /^@replica-(\d+)$/;

type FieldType = 'node' | 'broker' | 'nodes' | 'groups' | 'crash' | 'mode' | 'duration' | 'rate';

interface StepShape {
  readonly required: Readonly<Record<string, FieldType>>;
  readonly optional?: Readonly<Record<string, FieldType>>;
}

/** Every step kind (a Record over Step['kind'], so a new fault kind must be listed) and its fields. */
const STEP_SHAPES: Readonly<Record<Step['kind'], StepShape>> = {
  partition: { required: { groups: 'groups', mode: 'mode' } },
  'partition-one-way': { required: { sources: 'nodes', targets: 'nodes', mode: 'mode' } },
  isolate: { required: { node: 'node', mode: 'mode' }, optional: { healAfterMs: 'duration' } },
  heal: { required: {} },
  crash: { required: { node: 'node', crash: 'crash' } },
  bounce: { required: { node: 'node', crash: 'crash', downMs: 'duration' } },
  restart: { required: { node: 'node' } },
  stop: { required: { node: 'node' } },
  pause: { required: { node: 'node', durationMs: 'duration' } },
  slow: {
    required: { node: 'node', extraLatencyMs: 'duration' },
    optional: { bandwidthBytesPerSec: 'rate' },
  },
  unslow: { required: {} },
  clog: { required: { source: 'node', target: 'node' } },
  release: { required: {} },
  'add-broker': { required: {} },
  'remove-broker': { required: { node: 'broker' } },
};

export const STEP_KINDS = Object.keys(STEP_SHAPES) as Step['kind'][];
const BLOCK_MODES = ['silent', 'reject'];
const ACKS = ['0', '1', 'all'];

/** The fields of a step of this kind, in the order the JSON form writes them. */
export function stepFields(kind: Step['kind']): readonly string[] {
  const shape = STEP_SHAPES[kind];
  return [
    'atMs',
    'kind',
    ...Object.keys(shape.required),
    ...Object.keys(shape.optional ?? {}),
    'awaitMs',
    'when',
  ];
}

// ---- value checks ---------------------------------------------------------------------------

/** A problem at a path; validateScenario turns it into a ScenarioError with the source. */
class Problem extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(problem);
  }
}

function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** A value as an error message shows it: `"3"`, `3.5`, `null`, `an array`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function expected(what: string, value: unknown): string {
  return `expected ${what}, got ${describeValue(value)}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectAt(value: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw new Problem(path, expected('an object', value));
  return value;
}

function arrayAt(value: unknown, path: string, what = 'an array'): readonly unknown[] {
  if (!Array.isArray(value)) throw new Problem(path, expected(what, value));
  return value;
}

function stringAt(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new Problem(path, expected('a string', value));
  return value;
}

function booleanAt(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new Problem(path, expected('true or false', value));
  return value;
}

/** A seed is any whole number a double holds exactly, as --seed takes. */
const SEED_LIMIT = {
  max: Number.MAX_SAFE_INTEGER,
  why: 'the largest whole number JSON numbers hold exactly',
} as const satisfies Limit;

/** The most sends one burst of a workload makes (each is a record in the history). */
const BURST_LIMIT = { max: 10_000, why: 'the most sends one burst makes' } as const satisfies Limit;

function wholeAt(value: unknown, path: string, min: number, max?: Limit): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new Problem(path, expected('a whole number', value));
  if (value < min) throw new Problem(path, `must be ≥ ${min} (got ${value})`);
  const most = max ?? LIMITS.count;
  if (value > most.max)
    throw new Problem(path, `must be at most ${most.max}, ${most.why} (got ${value})`);
  return value;
}

function textAt(value: unknown, path: string): string {
  const text = stringAt(value, path);
  if (text.trim() === '') throw new Problem(path, 'must not be empty');
  return text;
}

/** Every key of `object` is one of `fields`; `what` describes the object for the hint. */
function checkFields(
  object: Record<string, unknown>,
  fields: readonly string[],
  path: string,
  what: string,
): void {
  for (const key of Object.keys(object)) {
    if (fields.includes(key)) continue;
    throw new Problem(path, unknownName('field', key, fields, `${what} has ${fields.join(', ')}`));
  }
}

function requireField(object: Record<string, unknown>, key: string, path: string): unknown {
  if (object[key] === undefined) throw new Problem(path, `missing field "${key}"`);
  return object[key];
}

function range(prefix: string, count: number): string {
  return count === 1 ? `${prefix}1` : `${prefix}1..${prefix}${count}`;
}

// ---- the scenario -----------------------------------------------------------------------------

interface EffectiveTopic {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
}

/** What later checks need to know: counts and topics after the scenario's settings. */
interface Context {
  readonly brokers: number;
  readonly controllers: number;
  readonly faultPhaseMs: number;
  readonly topics: readonly EffectiveTopic[];
  readonly producers: number;
  readonly consumers: number;
  readonly settings: ReadonlyMap<string, number | boolean | string>;
}

/**
 * Checks a scenario; throws a ScenarioError of one line, `source: path: problem` (`source: ` only
 * when given), on the first problem found.
 */
export function validateScenario(scenario: Scenario, source?: string): void {
  const prefix = source === undefined ? '' : `${source}: `;
  try {
    checkScenario(scenario);
  } catch (error) {
    if (error instanceof Problem) {
      const path = error.path === '' ? '' : `${error.path}: `;
      throw new ScenarioError(`${prefix}${path}${error.problem}`);
    }
    if (error instanceof ScenarioError) throw new ScenarioError(`${prefix}${error.message}`);
    throw error;
  }
}

function checkScenario(value: unknown): void {
  const scenario = objectAt(value, '');
  checkFields(scenario, SCENARIO_FIELDS, '', 'a scenario');
  const name = stringAt(requireField(scenario, 'name', ''), 'name');
  if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(name))
    throw new Problem(
      'name',
      `${describeValue(name)} is not kebab-case (lowercase words joined by "-")`,
    );
  const summary = textAt(requireField(scenario, 'summary', ''), 'summary');
  if (summary.includes('\n')) throw new Problem('summary', 'must be one line');
  textAt(requireField(scenario, 'description', ''), 'description');
  if (scenario['seed'] !== undefined) wholeAt(scenario['seed'], 'seed', 0, SEED_LIMIT);
  const cluster = checkCluster(requireField(scenario, 'cluster', ''));
  const faultPhaseMs = wholeAt(
    requireField(scenario, 'faultPhaseMs', ''),
    'faultPhaseMs',
    1,
    LIMITS.phaseMs,
  );
  wholeAt(requireField(scenario, 'healPhaseMs', ''), 'healPhaseMs', 1, LIMITS.phaseMs);
  const settings = checkSettings(requireField(scenario, 'settings', ''));
  const producers = arrayAt(requireField(scenario, 'producers', ''), 'producers');
  const consumers = arrayAt(requireField(scenario, 'consumers', ''), 'consumers');
  const brokers = numberSetting(settings, 'brokers') ?? cluster.brokers;
  const context: Context = {
    brokers,
    controllers: numberSetting(settings, 'controllers') ?? cluster.controllers,
    faultPhaseMs: numberSetting(settings, 'fault.phase.ms') ?? faultPhaseMs,
    topics: checkTopics(requireField(scenario, 'topics', ''), brokers, settings),
    producers: producers.length,
    consumers: consumers.length,
    settings,
  };
  producers.forEach((producer, index) => {
    checkProducer(producer, at('producers', index), context);
  });
  consumers.forEach((consumer, index) => {
    checkConsumer(consumer, at('consumers', index), context);
  });
  checkTimeline(requireField(scenario, 'timeline', ''), context);
  checkExpectation(requireField(scenario, 'expect', ''), 'expect', EXPECT_FIELDS);
  checkDemonstrations(requireField(scenario, 'demonstrates', ''));
}

function checkCluster(value: unknown): { controllers: number; brokers: number } {
  const cluster = objectAt(value, 'cluster');
  checkFields(cluster, CLUSTER_FIELDS, 'cluster', 'a cluster');
  return {
    controllers: wholeAt(
      requireField(cluster, 'controllers', 'cluster'),
      'cluster.controllers',
      1,
      LIMITS.controllers,
    ),
    brokers: wholeAt(
      requireField(cluster, 'brokers', 'cluster'),
      'cluster.brokers',
      1,
      LIMITS.brokers,
    ),
  };
}

function checkSettings(value: unknown): Map<string, number | boolean | string> {
  const settings = objectAt(value, 'settings');
  const parsed = new Map<string, number | boolean | string>();
  const known = Object.keys(SETTINGS);
  for (const [key, raw] of Object.entries(settings)) {
    const path = at('settings', key);
    if (!Object.hasOwn(SETTINGS, key)) {
      const hint = closest(key, known);
      throw new Problem(
        path,
        hint === undefined ? 'unknown setting' : `unknown setting (did you mean "${hint}"?)`,
      );
    }
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean')
      throw new Problem(path, expected('a string, number or boolean', raw));
    parsed.set(key, parseSetting(key, raw, path));
  }
  return parsed;
}

function numberSetting(
  settings: ReadonlyMap<string, number | boolean | string>,
  key: string,
): number | undefined {
  const value = settings.get(key);
  return typeof value === 'number' ? value : undefined;
}

function checkTopics(
  value: unknown,
  brokers: number,
  settings: ReadonlyMap<string, number | boolean | string>,
): EffectiveTopic[] {
  const topics: EffectiveTopic[] = [];
  arrayAt(value, 'topics').forEach((each, index) => {
    const path = at('topics', index);
    const topic = objectAt(each, path);
    checkFields(topic, TOPIC_FIELDS, path, 'a topic');
    const name = checkTopicName(requireField(topic, 'name', path), at(path, 'name'));
    const earlier = topics.findIndex((other) => other.name === name);
    if (earlier !== -1)
      throw new Problem(at(path, 'name'), `"${name}" is already the name of topics[${earlier}]`);
    // Kafka's metric names turn "." into "_", so it refuses names that differ only there.
    const colliding = topics.findIndex(
      (other) => other.name.replaceAll('.', '_') === name.replaceAll('.', '_'),
    );
    if (colliding !== -1)
      throw new Problem(
        at(path, 'name'),
        `"${name}" collides with topics[${colliding}] ("${topics[colliding]?.name}"): Kafka refuses topic names that differ only in "." and "_"`,
      );
    const own = {
      partitions: wholeAt(
        requireField(topic, 'partitions', path),
        at(path, 'partitions'),
        1,
        LIMITS.partitions,
      ),
      replicationFactor: wholeAt(
        requireField(topic, 'replicationFactor', path),
        at(path, 'replicationFactor'),
        1,
      ),
    };
    wholeAt(requireField(topic, 'minInsyncReplicas', path), at(path, 'minInsyncReplicas'), 1);
    if (topic['uncleanLeaderElection'] !== undefined)
      booleanAt(topic['uncleanLeaderElection'], at(path, 'uncleanLeaderElection'));
    const overridden = numberSetting(settings, 'replication.factor');
    const replicationFactor = overridden ?? own.replicationFactor;
    if (replicationFactor > brokers) {
      const where =
        overridden === undefined ? at(path, 'replicationFactor') : 'settings.replication.factor';
      const plural = brokers === 1 ? 'broker' : 'brokers';
      throw new Problem(where, `${replicationFactor} is more than the ${brokers} ${plural}`);
    }
    if (replicationFactor > REPLICAS_MAX) {
      const where =
        overridden === undefined ? at(path, 'replicationFactor') : 'settings.replication.factor';
      throw new Problem(
        where,
        `${replicationFactor} is more than ${REPLICAS_MAX}, the most replicas per partition the data checker follows`,
      );
    }
    topics.push({
      name,
      partitions: numberSetting(settings, 'num.partitions') ?? own.partitions,
      replicationFactor,
    });
  });
  return topics;
}

/** Kafka's rule: letters, digits, `.`, `_` and `-`, at most 249 characters, not `.` or `..`. */
function checkTopicName(value: unknown, path: string): string {
  const name = textAt(value, path);
  if (name === '__cluster_metadata')
    throw new Problem(
      path,
      '"__cluster_metadata" is the metadata log, not a topic a client creates',
    );
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(name) || name === '.' || name === '..')
    throw new Problem(
      path,
      `${describeValue(name)} is not a Kafka topic name (letters, digits, ".", "_" and "-", at most 249)`,
    );
  return name;
}

function topicAt(value: unknown, path: string, context: Context): EffectiveTopic {
  const name = stringAt(value, path);
  const topic = context.topics.find((each) => each.name === name);
  if (topic === undefined) {
    const names = context.topics.map((each) => each.name);
    throw new Problem(
      path,
      unknownName(
        'topic',
        name,
        names,
        names.length === 0 ? 'the scenario has no topics' : `topics are ${names.join(', ')}`,
      ),
    );
  }
  return topic;
}

function checkProducer(value: unknown, path: string, context: Context): void {
  const producer = objectAt(value, path);
  checkFields(producer, PRODUCER_FIELDS, path, 'a producer');
  const topic = topicAt(requireField(producer, 'topic', path), at(path, 'topic'), context);
  const acks = requireField(producer, 'acks', path);
  if (typeof acks !== 'string' || !ACKS.includes(acks))
    throw new Problem(at(path, 'acks'), expected('"0", "1" or "all"', acks));
  if (producer['idempotent'] !== undefined)
    booleanAt(producer['idempotent'], at(path, 'idempotent'));
  wholeAt(requireField(producer, 'everyMs', path), at(path, 'everyMs'), 1);
  if (producer['burst'] !== undefined)
    wholeAt(producer['burst'], at(path, 'burst'), 1, BURST_LIMIT);
  if (producer['count'] !== undefined) wholeAt(producer['count'], at(path, 'count'), 0);
  if (producer['startMs'] !== undefined) wholeAt(producer['startMs'], at(path, 'startMs'), 0);
  if (producer['partition'] !== undefined) {
    const partition = wholeAt(producer['partition'], at(path, 'partition'), 0);
    if (partition >= topic.partitions) {
      const count = topic.partitions === 1 ? '1 partition' : `${topic.partitions} partitions`;
      throw new Problem(
        at(path, 'partition'),
        `"${topic.name}" has no partition ${partition} (it has ${count}, from 0)`,
      );
    }
  }
  for (const key of ['keyPrefix', 'valuePrefix'] as const)
    if (producer[key] !== undefined) stringAt(producer[key], at(path, key));
  const config =
    producer['config'] === undefined
      ? {}
      : checkProducerConfig(producer['config'], at(path, 'config'));
  checkProducerCombination(
    acks,
    producer['idempotent'] as boolean | undefined,
    config,
    path,
    context,
  );
}

function checkProducerConfig(value: unknown, path: string): Record<string, number> {
  const config = objectAt(value, path);
  for (const [key, each] of Object.entries(config)) {
    if (key === 'acks' || key === 'enableIdempotence') {
      const field = key === 'acks' ? 'acks' : 'idempotent';
      throw new Problem(at(path, key), `set by the producer's own field "${field}", not by config`);
    }
    if (!(PRODUCER_CONFIG_KEYS as readonly string[]).includes(key))
      throw new Problem(
        path,
        unknownName(
          'producer config key',
          key,
          PRODUCER_CONFIG_KEYS,
          `keys are ${PRODUCER_CONFIG_KEYS.join(', ')}`,
        ),
      );
    wholeAt(each, at(path, key), 0);
  }
  return config as Record<string, number>;
}

/** The producer's settings together, as the harness builds them: Kafka's own rules (idempotence needs acks=all, ...). */
function checkProducerCombination(
  acks: string,
  idempotent: boolean | undefined,
  config: Record<string, number>,
  path: string,
  context: Context,
): void {
  const overrides = Object.fromEntries(context.settings);
  const spec = applySettings(
    {
      seed: 0,
      controllers: context.controllers,
      brokers: context.brokers,
      topics: [],
      producers: [
        {
          topic: '',
          acks: acks as '0' | '1' | 'all',
          everyMs: 1,
          ...(idempotent === undefined ? {} : { idempotent }),
        },
      ],
      consumers: [],
      faultPhaseMs: context.faultPhaseMs,
      healPhaseMs: 1,
    },
    overrides,
    'settings',
  );
  const effective = spec.producers[0];
  try {
    resolveProducerConfig(
      {
        ...FAST_PRODUCER_CONFIG,
        ...spec.producer,
        ...config,
        bootstrapBrokers: ['b1'],
        acks: effective?.acks ?? 'all',
        enableIdempotence: effective?.idempotent ?? false,
        history: null as unknown as History,
      },
      'p1',
    );
  } catch (error) {
    if (error instanceof ClientConfigError) throw new Problem(path, error.message);
    throw error;
  }
}

function checkConsumer(value: unknown, path: string, context: Context): void {
  const topics = arrayAt(value, path, 'an array of topic names (the topics the consumer reads)');
  if (topics.length === 0) throw new Problem(path, 'must name at least one topic');
  topics.forEach((topic, index) => {
    topicAt(topic, at(path, index), context);
  });
}

// ---- the timeline -----------------------------------------------------------------------------

/** An add-broker step and the broker id it creates. */
interface AddedBroker {
  readonly id: string;
  readonly atMs: number;
  readonly index: number;
  /** Its add-broker waits for a trigger (when), which may never hold. */
  readonly waits: boolean;
}

function checkTimeline(value: unknown, context: Context): void {
  const steps = arrayAt(value, 'timeline');
  // Shapes first, so that the brokers added (by time, then by order) are known.
  const objects = steps.map((step, index) => checkStepShape(step, at('timeline', index), context));
  const added = objects
    .map((step, index) => ({ step, index }))
    .filter(({ step }) => step['kind'] === 'add-broker')
    .map(({ step, index }) => ({
      atMs: step['atMs'] as number,
      index,
      waits: step['when'] !== undefined,
    }))
    .toSorted((a, b) => a.atMs - b.atMs || a.index - b.index)
    .map((each, order) => ({ ...each, id: `b${context.brokers + order + 1}` }));
  objects.forEach((step, index) => {
    checkStepNodes(step, at('timeline', index), context, added);
  });
  // A broker is removed once: a second removal would do nothing (the harness drops it).
  const removed = new Map<string, number>();
  objects
    .map((step, index) => ({ step, index }))
    .filter(({ step }) => step['kind'] === 'remove-broker' && !String(step['node']).startsWith('@'))
    .toSorted(
      (a, b) => (a.step['atMs'] as number) - (b.step['atMs'] as number) || a.index - b.index,
    )
    .forEach(({ step, index }) => {
      const node = String(step['node']);
      const earlier = removed.get(node);
      if (earlier !== undefined)
        throw new Problem(
          at(at('timeline', index), 'node'),
          `"${node}" is already removed by timeline[${earlier}]`,
        );
      removed.set(node, index);
    });
}

/** The step's kind, times, trigger and non-node fields; returns it as an object. */
function checkStepShape(value: unknown, path: string, context: Context): Record<string, unknown> {
  const step = objectAt(value, path);
  const kindValue = requireField(step, 'kind', path);
  const kind = stringAt(kindValue, at(path, 'kind'));
  if (!Object.hasOwn(STEP_SHAPES, kind))
    throw new Problem(
      at(path, 'kind'),
      unknownName('step', kind, STEP_KINDS, `steps are ${STEP_KINDS.join(', ')}`),
    );
  const typed = kind as Step['kind'];
  const fields = stepFields(typed);
  for (const key of Object.keys(step)) {
    if (fields.includes(key)) continue;
    throw new Problem(
      path,
      unknownName('field', key, fields, `${stepName(kind)} has ${fields.join(', ')}`),
    );
  }
  const shape = STEP_SHAPES[typed];
  for (const key of Object.keys(shape.required)) {
    if (step[key] === undefined) {
      const needs = Object.keys(shape.required).join(' and ');
      throw new Problem(path, `missing field "${key}" (${stepName(kind)} needs ${needs})`);
    }
  }
  const atMs = wholeAt(requireField(step, 'atMs', path), at(path, 'atMs'), 0);
  if (atMs >= context.faultPhaseMs)
    throw new Problem(
      at(path, 'atMs'),
      `${atMs} is not within the fault phase [0, ${context.faultPhaseMs})`,
    );
  if (step['awaitMs'] !== undefined) wholeAt(step['awaitMs'], at(path, 'awaitMs'), 0);
  if (step['when'] !== undefined) {
    const when = stringAt(step['when'], at(path, 'when'));
    const triggers = Object.keys(TRIGGERS);
    if (!isTriggerName(when))
      throw new Problem(
        at(path, 'when'),
        unknownName('trigger', when, triggers, `triggers are ${triggers.join(', ')}`),
      );
  }
  const all = { ...shape.required, ...shape.optional };
  for (const [key, type] of Object.entries(all)) {
    if (step[key] !== undefined) checkValueField(step[key], at(path, key), type);
  }
  return step;
}

/** `a crash step`, `an isolate step`. */
function stepName(kind: string): string {
  return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} step`;
}

function checkValueField(value: unknown, path: string, type: FieldType): void {
  switch (type) {
    case 'crash': {
      const crash = stringAt(value, path);
      if (!(CRASH_KINDS as readonly string[]).includes(crash))
        throw new Problem(
          path,
          unknownName(
            'crash kind',
            crash,
            CRASH_KINDS,
            `crash kinds are ${CRASH_KINDS.join(', ')}`,
          ),
        );
      return;
    }
    case 'mode': {
      const mode = stringAt(value, path);
      if (!BLOCK_MODES.includes(mode))
        throw new Problem(path, unknownName('mode', mode, BLOCK_MODES, 'modes are silent, reject'));
      return;
    }
    case 'duration':
      wholeAt(value, path, 0);
      return;
    case 'rate':
      wholeAt(value, path, 1);
      return;
    case 'nodes':
      if (arrayAt(value, path, 'an array of nodes').length === 0)
        throw new Problem(path, 'must name at least one node');
      return;
    case 'groups': {
      const groups = arrayAt(value, path, 'an array of groups of nodes');
      if (groups.length < 2)
        throw new Problem(path, `needs at least 2 groups (got ${groups.length})`);
      groups.forEach((group, index) => {
        checkValueField(group, at(path, index), 'nodes');
      });
      return;
    }
    case 'node':
    case 'broker':
      return;
  }
}

function checkStepNodes(
  step: Record<string, unknown>,
  path: string,
  context: Context,
  added: readonly AddedBroker[],
): void {
  const shape = STEP_SHAPES[step['kind'] as Step['kind']];
  const atMs = step['atMs'] as number;
  const known: NodeSet = {
    context,
    brokers: context.brokers + added.filter((each) => each.atMs < atMs).length,
    later: added.filter((each) => each.atMs >= atMs),
    waiting: added.filter((each) => each.waits),
    atMs,
  };
  for (const [key, type] of Object.entries(shape.required)) {
    const value = step[key];
    const where = at(path, key);
    if (type === 'node' || type === 'broker')
      checkNode(value, where, known, type === 'broker', key === 'node');
    else if (type === 'nodes') checkNodes(value, where, known);
    else if (type === 'groups') {
      const placed = new Map<string, number>();
      (value as unknown[]).forEach((group, index) => {
        checkNodes(group, at(where, index), known);
        // Node ids only: roles resolve when the step fires, and may name one node twice.
        (group as string[]).forEach((node, place) => {
          if (node.startsWith('@')) return;
          const other = placed.get(node);
          if (other !== undefined)
            throw new Problem(
              at(at(where, index), place),
              `"${node}" is already in group ${other}: a node is on one side of a partition`,
            );
          placed.set(node, index);
        });
      });
    }
  }
  // awaitMs waits for a trigger (when) or for a role to name a node: with neither, nothing.
  const node = step['node'];
  if (
    step['awaitMs'] !== undefined &&
    step['when'] === undefined &&
    typeof node === 'string' &&
    !node.startsWith('@')
  )
    throw new Problem(
      at(path, 'awaitMs'),
      `waits for a trigger (when) or a role, but the step has no when and its node is "${node}"`,
    );
  if (step['kind'] === 'clog' && step['source'] === step['target'])
    throw new Problem(
      at(path, 'target'),
      `is the source itself (${describeValue(step['source'])})`,
    );
}

interface NodeSet {
  readonly context: Context;
  /** Brokers that exist at the step's time (b1..bN). */
  readonly brokers: number;
  /** Brokers added at or after it. */
  readonly later: readonly AddedBroker[];
  /** Brokers added by a step that waits for a trigger: no step may name them by id. */
  readonly waiting: readonly AddedBroker[];
  readonly atMs: number;
}

function checkNodes(value: unknown, path: string, known: NodeSet): void {
  (value as unknown[]).forEach((node, index) => {
    checkNode(node, at(path, index), known, false, false);
  });
}

/**
 * A node id (b1..bN with the brokers added before, c1..cN, p1..pN, r1..rN) or a role reference.
 * `brokerOnly`: remove-broker's node. `stepNode`: a step's `node` field, which the harness skips
 * when it names a producer.
 */
function checkNode(
  value: unknown,
  path: string,
  known: NodeSet,
  brokerOnly: boolean,
  stepNode: boolean,
): void {
  if (typeof value !== 'string' || value === '')
    throw new Problem(path, expected('a node id or a role such as @leader', value));
  if (value.startsWith('@')) {
    checkRole(value, path, known.context, brokerOnly);
    return;
  }
  const { context } = known;
  const brokers = `brokers are ${range('b', known.brokers)}, or a role such as @leader`;
  const match = /^([bcpr])([1-9]\d*)$/.exec(value);
  const letter = match?.[1];
  const number = Number(match?.[2]);
  if (brokerOnly && letter !== 'b')
    throw new Problem(path, `"${value}" is not a broker (${brokers})`);
  switch (letter) {
    case 'b': {
      const waiting = known.waiting.find((each) => each.id === value);
      if (waiting !== undefined)
        throw new Problem(
          path,
          `broker "${value}" is added by timeline[${waiting.index}], which waits for a trigger and may never add it: name it by a role`,
        );
      if (number <= known.brokers) return;
      const later = known.later.find((each) => each.id === value);
      if (later !== undefined)
        throw new Problem(
          path,
          `broker "${value}" does not exist yet at ${known.atMs} ms (timeline[${later.index}] adds it at ${later.atMs} ms)`,
        );
      throw new Problem(path, `unknown broker "${value}" (${brokers})`);
    }
    case 'c':
      if (number <= context.controllers) return;
      throw new Problem(
        path,
        `unknown controller "${value}" (controllers are ${range('c', context.controllers)}, or @controller)`,
      );
    case 'p':
      if (number > context.producers)
        throw new Problem(
          path,
          `unknown producer "${value}" (${context.producers === 0 ? 'the scenario has no producers' : `producers are ${range('p', context.producers)}`})`,
        );
      if (stepNode)
        throw new Problem(
          path,
          `"${value}" is a producer: the harness skips steps on a producer's node (cut it off with a partition instead)`,
        );
      return;
    case 'r':
      if (number <= context.consumers) return;
      throw new Problem(
        path,
        `unknown consumer "${value}" (${context.consumers === 0 ? 'the scenario has no consumers' : `consumers are ${range('r', context.consumers)}`})`,
      );
    default: {
      const kinds = [
        range('b', known.brokers),
        range('c', context.controllers),
        ...(context.producers === 0 ? [] : [range('p', context.producers)]),
        ...(context.consumers === 0 ? [] : [range('r', context.consumers)]),
      ];
      throw new Problem(
        path,
        `unknown node "${value}" (nodes are ${kinds.join(', ')}, or a role such as @leader)`,
      );
    }
  }
}

function checkRole(role: string, path: string, context: Context, brokerOnly: boolean): void {
  const controller = [...CONTROLLER_ROLES, '@controller-during-alter-partition'].includes(role);
  if (controller && brokerOnly)
    throw new Problem(
      path,
      `"${role}" is not a broker (remove-broker takes a broker id or a broker role)`,
    );
  if (CONTROLLER_ROLES.includes(role)) return;
  const first = context.topics[0];
  const replicas =
    first === undefined
      ? []
      : Array.from({ length: first.replicationFactor }, (_, index) => `@replica-${index}`);
  const replica = REPLICA_ROLE.exec(role);
  const known = (DATA_ROLES as readonly string[]).includes(role);
  if (!known && replica === null) {
    const roles = [...DATA_ROLES, ...replicas, ...(brokerOnly ? [] : CONTROLLER_ROLES)];
    throw new Problem(
      path,
      unknownName(
        'role',
        role,
        roles,
        `roles are ${[...DATA_ROLES, '@replica-N', ...(brokerOnly ? [] : CONTROLLER_ROLES)].join(', ')}`,
      ),
    );
  }
  if (first === undefined)
    throw new Problem(
      path,
      `role "${role}" needs a topic: it names a replica of the first topic's partition 0`,
    );
  if (replica !== null && Number(replica[1]) >= first.replicationFactor)
    throw new Problem(
      path,
      `role "${role}" names no replica: the first topic "${first.name}" has replication factor ${first.replicationFactor} (${replicas.length === 1 ? '@replica-0' : `@replica-0..@replica-${replicas.length - 1}`})`,
    );
}

// ---- expectations ---------------------------------------------------------------------------

function checkExpectation(value: unknown, path: string, fields: readonly string[]): void {
  const expectation = objectAt(value, path);
  checkFields(expectation, fields, path, path === 'expect' ? 'an expectation' : 'a demonstration');
  checkNames(
    requireField(expectation, 'violations', path),
    at(path, 'violations'),
    'invariant',
    INVARIANTS,
  );
  checkNames(
    requireField(expectation, 'allowed', path),
    at(path, 'allowed'),
    'loss reason',
    ALLOWED_LOSS_REASONS,
  );
}

function checkNames(value: unknown, path: string, what: string, known: readonly string[]): void {
  const seen: string[] = [];
  arrayAt(value, path).forEach((each, index) => {
    const where = at(path, index);
    const name = stringAt(each, where);
    if (!known.includes(name)) throw new Problem(where, unknownName(what, name, known));
    if (seen.includes(name)) throw new Problem(where, `"${name}" is listed twice`);
    seen.push(name);
  });
}

function checkDemonstrations(value: unknown): void {
  const bugs: string[] = [];
  arrayAt(value, 'demonstrates').forEach((each, index) => {
    const path = at('demonstrates', index);
    const demonstration = objectAt(each, path);
    checkFields(demonstration, DEMONSTRATION_FIELDS, path, 'a demonstration');
    const bug = stringAt(requireField(demonstration, 'bug', path), at(path, 'bug'));
    if (!isBugName(bug))
      throw new Problem(at(path, 'bug'), unknownName('bug', bug, BUG_NAMES, 'see kafkasim bugs'));
    const earlier = bugs.indexOf(bug);
    if (earlier !== -1)
      throw new Problem(
        at(path, 'bug'),
        `"${bug}" is already demonstrated by demonstrates[${earlier}]`,
      );
    bugs.push(bug);
    checkExpectation(demonstration, path, DEMONSTRATION_FIELDS);
  });
}
