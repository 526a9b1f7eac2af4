import { describe, expect, it } from 'vitest';
import type { Step } from '../properties/kafka-harness.ts';
import { SCENARIOS } from './registry.ts';
import { defineScenario, type Scenario, type ScenarioInput } from './scenario.ts';
import { ScenarioError } from './settings.ts';
import { closest, editDistance } from './suggest.ts';
import { STEP_KINDS, validateScenario } from './validate.ts';

const BASE: ScenarioInput = {
  name: 'a-test-scenario',
  summary: 'A scenario for the validator',
  description: 'Two topics, two producers, one consumer.',
  topics: [
    { name: 'orders', partitions: 2, replicationFactor: 3, minInsyncReplicas: 2 },
    { name: 'payments', partitions: 1, replicationFactor: 1, minInsyncReplicas: 1 },
  ],
  producers: [
    { topic: 'orders', acks: 'all', everyMs: 100 },
    { topic: 'payments', acks: '1', everyMs: 200 },
  ],
  consumers: [['orders', 'payments']],
  faultPhaseMs: 35_000,
};

/** A scenario from BASE with some fields replaced; values may be of any type (as from JSON). */
function scenario(changes: Record<string, unknown> = {}): Scenario {
  return { ...defineScenario(BASE), ...changes } as Scenario;
}

function timeline(...steps: readonly Record<string, unknown>[]): Scenario {
  return scenario({ timeline: steps });
}

/** The message validateScenario throws (a ScenarioError), or null. */
function problem(value: Scenario, source?: string): string | null {
  try {
    validateScenario(value, source);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
}

/** A valid step of every kind. */
const VALID_STEPS: Readonly<Record<Step['kind'], Record<string, unknown>>> = {
  partition: { atMs: 1_000, kind: 'partition', groups: [['b1'], ['b2', 'b3']], mode: 'silent' },
  'partition-one-way': {
    atMs: 1_000,
    kind: 'partition-one-way',
    sources: ['@leader'],
    targets: ['c1', 'c2'],
    mode: 'reject',
  },
  isolate: { atMs: 1_000, kind: 'isolate', node: '@leader', mode: 'silent', healAfterMs: 5_000 },
  heal: { atMs: 1_000, kind: 'heal' },
  crash: { atMs: 1_000, kind: 'crash', node: 'b1', crash: 'kill' },
  bounce: { atMs: 1_000, kind: 'bounce', node: 'b2', crash: 'powerFailure', downMs: 3_000 },
  restart: { atMs: 1_000, kind: 'restart', node: 'b1' },
  stop: { atMs: 1_000, kind: 'stop', node: 'c2' },
  pause: { atMs: 1_000, kind: 'pause', node: 'r1', durationMs: 2_000 },
  slow: {
    atMs: 1_000,
    kind: 'slow',
    node: '@replica-2',
    extraLatencyMs: 400,
    bandwidthBytesPerSec: 1_000_000,
  },
  unslow: { atMs: 1_000, kind: 'unslow' },
  clog: { atMs: 1_000, kind: 'clog', source: '@leader', target: '@follower' },
  release: { atMs: 1_000, kind: 'release' },
  'add-broker': { atMs: 1_000, kind: 'add-broker', when: 'isr-full', awaitMs: 5_000 },
  'remove-broker': { atMs: 1_000, kind: 'remove-broker', node: '@out-of-isr' },
};

describe('validateScenario', () => {
  it('accepts a valid scenario with a step of every kind', () => {
    expect(problem(timeline(...Object.values(VALID_STEPS)))).toBeNull();
    expect(Object.keys(VALID_STEPS).toSorted()).toEqual(STEP_KINDS.toSorted());
  });

  it('accepts every registered scenario', () => {
    expect(SCENARIOS.length).toBeGreaterThan(0);
    for (const each of SCENARIOS) expect(problem(each), each.name).toBeNull();
  });

  it('names the source first when given', () => {
    expect(
      problem(
        timeline(VALID_STEPS.heal, VALID_STEPS.heal, {
          atMs: 0,
          kind: 'crash',
          node: 'b7',
          crash: 'kill',
        }),
        'my.json',
      ),
    ).toBe(
      'my.json: timeline[2].node: unknown broker "b7" (brokers are b1..b3, or a role such as @leader)',
    );
  });

  const cases: readonly (readonly [string, Record<string, unknown>, string])[] = [
    // the scenario itself
    ['a scenario without a name', { name: undefined }, 'missing field "name"'],
    ['an unknown top-level field', { topic: [] }, 'unknown field "topic" (did you mean "topics"?)'],
    [
      'a name that is not kebab-case',
      { name: 'Acks All' },
      'name: "Acks All" is not kebab-case (lowercase words joined by "-")',
    ],
    ['a name of the wrong type', { name: 7 }, 'name: expected a string, got 7'],
    ['an empty summary', { summary: '  ' }, 'summary: must not be empty'],
    ['a summary of two lines', { summary: 'a\nb' }, 'summary: must be one line'],
    ['an empty description', { description: '' }, 'description: must not be empty'],
    [
      'no brokers',
      { cluster: { controllers: 3, brokers: 0 } },
      'cluster.brokers: must be ≥ 1 (got 0)',
    ],
    [
      'a fractional controller count',
      { cluster: { controllers: 1.5, brokers: 3 } },
      'cluster.controllers: expected a whole number, got 1.5',
    ],
    [
      'a cluster without brokers',
      { cluster: { controllers: 3 } },
      'cluster: missing field "brokers"',
    ],
    [
      'an unknown cluster field',
      { cluster: { controllers: 3, broker: 3 } },
      'cluster: unknown field "broker" (did you mean "brokers"?)',
    ],
    ['a zero fault phase', { faultPhaseMs: 0 }, 'faultPhaseMs: must be ≥ 1 (got 0)'],
    ['a heal phase as text', { healPhaseMs: '5' }, 'healPhaseMs: expected a whole number, got "5"'],
    // topics
    [
      'partitions 0',
      { topics: [{ name: 't', partitions: 0, replicationFactor: 1, minInsyncReplicas: 1 }] },
      'topics[0].partitions: must be ≥ 1 (got 0)',
    ],
    [
      'partitions as text',
      { topics: [{ name: 't', partitions: '3', replicationFactor: 1, minInsyncReplicas: 1 }] },
      'topics[0].partitions: expected a whole number, got "3"',
    ],
    [
      'replication factor 0',
      { topics: [{ name: 't', partitions: 1, replicationFactor: 0, minInsyncReplicas: 1 }] },
      'topics[0].replicationFactor: must be ≥ 1 (got 0)',
    ],
    [
      'replication factor above the brokers',
      { topics: [{ name: 't', partitions: 1, replicationFactor: 4, minInsyncReplicas: 1 }] },
      'topics[0].replicationFactor: 4 is more than the 3 brokers',
    ],
    [
      'min ISR 0',
      { topics: [{ name: 't', partitions: 1, replicationFactor: 1, minInsyncReplicas: 0 }] },
      'topics[0].minInsyncReplicas: must be ≥ 1 (got 0)',
    ],
    [
      'a topic without min ISR',
      { topics: [{ name: 't', partitions: 1, replicationFactor: 1 }] },
      'topics[0]: missing field "minInsyncReplicas"',
    ],
    [
      'an unknown topic field',
      { topics: [{ name: 't', partition: 1, replicationFactor: 1, minInsyncReplicas: 1 }] },
      'topics[0]: unknown field "partition" (did you mean "partitions"?)',
    ],
    [
      'unclean election as text',
      {
        topics: [
          {
            name: 't',
            partitions: 1,
            replicationFactor: 1,
            minInsyncReplicas: 1,
            uncleanLeaderElection: 'yes',
          },
        ],
      },
      'topics[0].uncleanLeaderElection: expected true or false, got "yes"',
    ],
    [
      'two topics of one name',
      {
        topics: [
          { name: 'orders', partitions: 1, replicationFactor: 1, minInsyncReplicas: 1 },
          { name: 'orders', partitions: 1, replicationFactor: 1, minInsyncReplicas: 1 },
        ],
      },
      'topics[1].name: "orders" is already the name of topics[0]',
    ],
    [
      'an illegal topic name',
      {
        topics: [{ name: 'my orders', partitions: 1, replicationFactor: 1, minInsyncReplicas: 1 }],
      },
      'topics[0].name: "my orders" is not a Kafka topic name (letters, digits, ".", "_" and "-", at most 249)',
    ],
    ['topics not an array', { topics: 'orders' }, 'topics: expected an array, got "orders"'],
    // producers
    [
      'a producer of an unknown topic',
      {
        producers: [
          { topic: 'orders', acks: 'all', everyMs: 100 },
          { topic: 'ordrs', acks: 'all', everyMs: 100 },
        ],
      },
      'producers[1].topic: unknown topic "ordrs" (did you mean "orders"?)',
    ],
    [
      'a producer of a topic not close to any',
      { producers: [{ topic: 'zzzzzzzz', acks: 'all', everyMs: 100 }] },
      'producers[0].topic: unknown topic "zzzzzzzz" (topics are orders, payments)',
    ],
    [
      'acks as a number',
      { producers: [{ topic: 'orders', acks: 1, everyMs: 100 }] },
      'producers[0].acks: expected "0", "1" or "all", got 1',
    ],
    [
      'everyMs 0',
      { producers: [{ topic: 'orders', acks: 'all', everyMs: 0 }] },
      'producers[0].everyMs: must be ≥ 1 (got 0)',
    ],
    [
      'burst 0',
      { producers: [{ topic: 'orders', acks: 'all', everyMs: 10, burst: 0 }] },
      'producers[0].burst: must be ≥ 1 (got 0)',
    ],
    [
      'a negative count',
      { producers: [{ topic: 'orders', acks: 'all', everyMs: 10, count: -1 }] },
      'producers[0].count: must be ≥ 0 (got -1)',
    ],
    [
      'a partition the topic lacks',
      { producers: [{ topic: 'payments', acks: 'all', everyMs: 10, partition: 1 }] },
      'producers[0].partition: "payments" has no partition 1 (it has 1 partition, from 0)',
    ],
    [
      'an unknown config key',
      { producers: [{ topic: 'orders', acks: 'all', everyMs: 10, config: { retrys: 5 } }] },
      'producers[0].config: unknown producer config key "retrys" (did you mean "retries"?)',
    ],
    [
      'acks in config',
      { producers: [{ topic: 'orders', acks: 'all', everyMs: 10, config: { acks: '1' } }] },
      'producers[0].config.acks: set by the producer\'s own field "acks", not by config',
    ],
    [
      'a config value as text',
      { producers: [{ topic: 'orders', acks: 'all', everyMs: 10, config: { retries: '5' } }] },
      'producers[0].config.retries: expected a whole number, got "5"',
    ],
    [
      'an idempotent producer with acks 1',
      { producers: [{ topic: 'orders', acks: '1', idempotent: true, everyMs: 10 }] },
      "producers[0]: enableIdempotence requires: acks must be 'all' (got '1')",
    ],
    [
      'a delivery timeout below the request timeout',
      {
        producers: [
          {
            topic: 'orders',
            acks: 'all',
            everyMs: 10,
            config: { requestTimeoutMs: 30_000, deliveryTimeoutMs: 10_000 },
          },
        ],
      },
      'producers[0]: deliveryTimeoutMs must be ≥ requestTimeoutMs + lingerMs (got 10000 < 30000 + 0)',
    ],
    [
      'an unknown producer field',
      { producers: [{ topic: 'orders', acks: 'all', everyMs: 10, every: 5 }] },
      'producers[0]: unknown field "every" (did you mean "everyMs"?)',
    ],
    // consumers
    [
      'a consumer of an unknown topic',
      { consumers: [['orders', 'paymnts']] },
      'consumers[0][1]: unknown topic "paymnts" (did you mean "payments"?)',
    ],
    [
      'a consumer that is not a list',
      { consumers: ['orders'] },
      'consumers[0]: expected an array of topic names (the topics the consumer reads), got "orders"',
    ],
    ['a consumer of nothing', { consumers: [[]] }, 'consumers[0]: must name at least one topic'],
    // settings
    [
      'an unknown setting',
      { settings: { 'min.insync.replica': 2 } },
      'settings.min.insync.replica: unknown setting (did you mean "min.insync.replicas"?)',
    ],
    ['an unknown setting far from any', { settings: { zzz: 2 } }, 'settings.zzz: unknown setting'],
    [
      'a bad setting value',
      { settings: { acks: '2' } },
      'settings.acks: acks must be 0, 1 or all (got "2")',
    ],
    [
      'a setting of the wrong type',
      { settings: { retries: null } },
      'settings.retries: expected a string, number or boolean, got null',
    ],
    [
      'a replication factor setting above the brokers',
      { settings: { 'replication.factor': 4 } },
      'settings.replication.factor: 4 is more than the 3 brokers',
    ],
    [
      'a replication factor the data checker cannot follow',
      { settings: { brokers: 40, 'replication.factor': 32 } },
      'settings.replication.factor: 32 is more than 31, the most replicas per partition the data checker follows',
    ],
    [
      'a broker count setting below a replication factor',
      { settings: { brokers: 2 } },
      'topics[0].replicationFactor: 3 is more than the 2 brokers',
    ],
    [
      'an idempotence setting with an acks=1 producer',
      { settings: { 'enable.idempotence': true } },
      "producers[1]: enableIdempotence requires: acks must be 'all' (got '1')",
    ],
    // expectations
    [
      'an unknown invariant',
      { expect: { violations: ['acked-write-durabel'], allowed: [] } },
      'expect.violations[0]: unknown invariant "acked-write-durabel" (did you mean "acked-write-durable"?)',
    ],
    [
      'an unknown loss reason',
      { expect: { violations: [], allowed: ['acks1'] } },
      'expect.allowed[0]: unknown loss reason "acks1" (did you mean "acks-1"?)',
    ],
    [
      'an invariant listed twice',
      { expect: { violations: ['isr-valid', 'isr-valid'], allowed: [] } },
      'expect.violations[1]: "isr-valid" is listed twice',
    ],
    [
      'an unknown bug',
      { demonstrates: [{ bug: 'truncate-hw', violations: [], allowed: [] }] },
      'demonstrates[0].bug: unknown bug "truncate-hw" (did you mean "truncate-to-hw"?)',
    ],
    [
      'a bug demonstrated twice',
      {
        demonstrates: [
          { bug: 'no-elr', violations: ['acked-write-durable'], allowed: [] },
          { bug: 'no-elr', violations: [], allowed: [] },
        ],
      },
      'demonstrates[1].bug: "no-elr" is already demonstrated by demonstrates[0]',
    ],
    [
      'an unknown invariant in a demonstration',
      { demonstrates: [{ bug: 'no-elr', violations: ['nope'], allowed: [] }] },
      'demonstrates[0].violations[0]: unknown invariant "nope"',
    ],
    [
      'a demonstration without violations',
      { demonstrates: [{ bug: 'no-elr', allowed: [] }] },
      'demonstrates[0]: missing field "violations"',
    ],
  ];

  for (const [what, changes, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(problem(scenario(changes))).toBe(message);
    });
  }

  it('rejects a scenario that is not an object', () => {
    expect(problem(null as unknown as Scenario)).toBe('expected an object, got null');
  });
});

describe('validateScenario: the timeline', () => {
  for (const kind of STEP_KINDS) {
    const valid = VALID_STEPS[kind];
    const required = Object.keys(valid).filter(
      (key) =>
        !['atMs', 'kind', 'awaitMs', 'when', 'healAfterMs', 'bandwidthBytesPerSec'].includes(key),
    );
    for (const missing of required) {
      it(`rejects a ${kind} step without ${missing}`, () => {
        const { [missing]: _, ...step } = valid;
        expect(problem(timeline(step))).toBe(
          `timeline[0]: missing field "${missing}" (${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} step needs ${required.join(' and ')})`,
        );
      });
    }
    it(`rejects a ${kind} step without atMs`, () => {
      const { atMs: _, ...step } = valid;
      expect(problem(timeline(step))).toBe('timeline[0]: missing field "atMs"');
    });
  }

  const cases: readonly (readonly [string, Record<string, unknown>, string])[] = [
    [
      'an unknown step kind',
      { atMs: 0, kind: 'crsh', node: 'b1', crash: 'kill' },
      'timeline[0].kind: unknown step "crsh" (did you mean "crash"?)',
    ],
    ['a step without a kind', { atMs: 0, node: 'b1' }, 'timeline[0]: missing field "kind"'],
    [
      'an unknown field of a step',
      { atMs: 0, kind: 'crash', nod: 'b1', crash: 'kill' },
      'timeline[0]: unknown field "nod" (did you mean "node"?)',
    ],
    [
      'a field another kind has',
      { atMs: 0, kind: 'add-broker', node: 'b1' },
      'timeline[0]: unknown field "node" (an add-broker step has atMs, kind, awaitMs, when)',
    ],
    [
      'atMs at the end of the fault phase',
      { atMs: 35_000, kind: 'heal' },
      'timeline[0].atMs: 35000 is not within the fault phase [0, 35000)',
    ],
    ['a negative atMs', { atMs: -1, kind: 'heal' }, 'timeline[0].atMs: must be ≥ 0 (got -1)'],
    [
      'atMs as text',
      { atMs: '100', kind: 'heal' },
      'timeline[0].atMs: expected a whole number, got "100"',
    ],
    [
      'a negative awaitMs',
      { atMs: 0, kind: 'heal', awaitMs: -5 },
      'timeline[0].awaitMs: must be ≥ 0 (got -5)',
    ],
    [
      'an unknown trigger',
      { atMs: 0, kind: 'heal', when: 'isr-shrink' },
      'timeline[0].when: unknown trigger "isr-shrink" (did you mean "isr-shrunk"?)',
    ],
    [
      'an unknown crash kind',
      { atMs: 0, kind: 'crash', node: 'b1', crash: 'kil' },
      'timeline[0].crash: unknown crash kind "kil" (did you mean "kill"?)',
    ],
    [
      'a crash kind far from any',
      { atMs: 0, kind: 'crash', node: 'b1', crash: 'meteor' },
      'timeline[0].crash: unknown crash kind "meteor" (crash kinds are kill, powerFailure, diskLoss)',
    ],
    [
      'an unknown mode',
      { atMs: 0, kind: 'isolate', node: 'b1', mode: 'silnt' },
      'timeline[0].mode: unknown mode "silnt" (did you mean "silent"?)',
    ],
    [
      'a negative duration',
      { atMs: 0, kind: 'pause', node: 'b1', durationMs: -1 },
      'timeline[0].durationMs: must be ≥ 0 (got -1)',
    ],
    [
      'a bounce down time as text',
      { atMs: 0, kind: 'bounce', node: 'b1', crash: 'kill', downMs: '5s' },
      'timeline[0].downMs: expected a whole number, got "5s"',
    ],
    [
      'a zero bandwidth',
      { atMs: 0, kind: 'slow', node: 'b1', extraLatencyMs: 0, bandwidthBytesPerSec: 0 },
      'timeline[0].bandwidthBytesPerSec: must be ≥ 1 (got 0)',
    ],
    [
      'a partition of one group',
      { atMs: 0, kind: 'partition', groups: [['b1']], mode: 'silent' },
      'timeline[0].groups: needs at least 2 groups (got 1)',
    ],
    [
      'an empty group',
      { atMs: 0, kind: 'partition', groups: [['b1'], []], mode: 'silent' },
      'timeline[0].groups[1]: must name at least one node',
    ],
    [
      'a group that is not a list',
      { atMs: 0, kind: 'partition', groups: [['b1'], 'b2'], mode: 'silent' },
      'timeline[0].groups[1]: expected an array of nodes, got "b2"',
    ],
    [
      'an unknown node in a group',
      { atMs: 0, kind: 'partition', groups: [['b1'], ['b2', 'b4']], mode: 'silent' },
      'timeline[0].groups[1][1]: unknown broker "b4" (brokers are b1..b3, or a role such as @leader)',
    ],
    [
      'an empty list of targets',
      { atMs: 0, kind: 'partition-one-way', sources: ['b1'], targets: [], mode: 'silent' },
      'timeline[0].targets: must name at least one node',
    ],
    [
      'a node as a number',
      { atMs: 0, kind: 'restart', node: 1 },
      'timeline[0].node: expected a node id or a role such as @leader, got 1',
    ],
    [
      'an unknown controller',
      { atMs: 0, kind: 'crash', node: 'c4', crash: 'kill' },
      'timeline[0].node: unknown controller "c4" (controllers are c1..c3, or @controller)',
    ],
    [
      'an unknown producer',
      { atMs: 0, kind: 'clog', source: 'p3', target: 'b1' },
      'timeline[0].source: unknown producer "p3" (producers are p1..p2)',
    ],
    [
      'a step on a producer node',
      { atMs: 0, kind: 'crash', node: 'p1', crash: 'kill' },
      'timeline[0].node: "p1" is a producer: the harness skips steps on a producer\'s node (cut it off with a partition instead)',
    ],
    [
      'an unknown consumer',
      { atMs: 0, kind: 'pause', node: 'r2', durationMs: 10 },
      'timeline[0].node: unknown consumer "r2" (consumers are r1)',
    ],
    [
      'a node id of no kind',
      { atMs: 0, kind: 'restart', node: 'broker1' },
      'timeline[0].node: unknown node "broker1" (nodes are b1..b3, c1..c3, p1..p2, r1, or a role such as @leader)',
    ],
    [
      'a broker id with a leading zero',
      { atMs: 0, kind: 'restart', node: 'b01' },
      'timeline[0].node: unknown node "b01" (nodes are b1..b3, c1..c3, p1..p2, r1, or a role such as @leader)',
    ],
    [
      'an unknown role',
      { atMs: 0, kind: 'crash', node: '@leadr', crash: 'kill' },
      'timeline[0].node: unknown role "@leadr" (did you mean "@leader"?)',
    ],
    [
      'a role far from any',
      { atMs: 0, kind: 'crash', node: '@zzzzzzzz', crash: 'kill' },
      'timeline[0].node: unknown role "@zzzzzzzz" (roles are @leader, @follower, @out-of-isr, @stale-hw-follower, @leader-of-lagging-isr, @leader-of-behind-isr, @controller-during-alter-partition, @replica-N, @controller, @new-controller, @controller-follower, @voted-controller)',
    ],
    [
      'a replica role past the replication factor',
      { atMs: 0, kind: 'crash', node: '@replica-3', crash: 'kill' },
      'timeline[0].node: role "@replica-3" names no replica: the first topic "orders" has replication factor 3 (@replica-0..@replica-2)',
    ],
    [
      'a controller removed as a broker',
      { atMs: 0, kind: 'remove-broker', node: '@controller' },
      'timeline[0].node: "@controller" is not a broker (remove-broker takes a broker id or a broker role)',
    ],
    [
      'a metadata quorum role removed as a broker',
      { atMs: 0, kind: 'remove-broker', node: '@voted-controller' },
      'timeline[0].node: "@voted-controller" is not a broker (remove-broker takes a broker id or a broker role)',
    ],
    [
      'a controller id removed as a broker',
      { atMs: 0, kind: 'remove-broker', node: 'c1' },
      'timeline[0].node: "c1" is not a broker (brokers are b1..b3, or a role such as @leader)',
    ],
    [
      'a clog of a node to itself',
      { atMs: 0, kind: 'clog', source: 'b1', target: 'b1' },
      'timeline[0].target: is the source itself ("b1")',
    ],
    [
      'a node on both sides of a partition',
      {
        atMs: 0,
        kind: 'partition',
        groups: [
          ['b1', 'b2'],
          ['b3', 'b1'],
        ],
        mode: 'silent',
      },
      'timeline[0].groups[1][1]: "b1" is already in group 0: a node is on one side of a partition',
    ],
    [
      'awaitMs with nothing to wait for (no when, a plain node)',
      { atMs: 0, kind: 'crash', node: 'b1', crash: 'kill', awaitMs: 1_000 },
      'timeline[0].awaitMs: waits for a trigger (when) or a role, but the step has no when and its node is "b1"',
    ],
  ];

  for (const [what, step, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(problem(timeline(step))).toBe(message);
    });
  }

  it('rejects naming a broker that a step waiting for a trigger adds: it may never be added', () => {
    expect(
      problem(
        timeline(
          { atMs: 5_000, kind: 'add-broker', when: 'isr-shrunk', awaitMs: 1_000 },
          { atMs: 20_000, kind: 'crash', node: 'b4', crash: 'kill' },
        ),
      ),
    ).toBe(
      'timeline[1].node: broker "b4" is added by timeline[0], which waits for a trigger and may never add it: name it by a role',
    );
  });

  it("rejects topic names Kafka refuses: colliding in '.' and '_', and the metadata log's", () => {
    const topic = { partitions: 1, replicationFactor: 1, minInsyncReplicas: 1 };
    expect(
      problem(
        scenario({
          topics: [
            { name: 'a.b', ...topic },
            { name: 'a_b', ...topic },
          ],
          producers: [],
          consumers: [],
          timeline: [],
        }),
      ),
    ).toBe(
      'topics[1].name: "a_b" collides with topics[0] ("a.b"): Kafka refuses topic names that differ only in "." and "_"',
    );
    expect(
      problem(
        scenario({
          topics: [{ name: '__cluster_metadata', ...topic }],
          producers: [],
          consumers: [],
          timeline: [],
        }),
      ),
    ).toBe(
      'topics[0].name: "__cluster_metadata" is the metadata log, not a topic a client creates',
    );
  });

  it('rejects a broker removed twice, naming the first removal', () => {
    expect(
      problem(
        timeline(
          { atMs: 5_000, kind: 'remove-broker', node: 'b2' },
          { atMs: 1_000, kind: 'remove-broker', node: 'b2' },
        ),
      ),
    ).toBe('timeline[0].node: "b2" is already removed by timeline[1]');
  });

  it('knows the brokers that add-broker steps add before a step, in time order', () => {
    const added = timeline(
      { atMs: 9_000, kind: 'crash', node: 'b5', crash: 'kill' },
      { atMs: 2_000, kind: 'add-broker' },
      { atMs: 1_000, kind: 'add-broker' },
      { atMs: 3_000, kind: 'remove-broker', node: 'b5' },
    );
    expect(problem(added)).toBeNull();
    expect(
      problem(
        timeline(
          { atMs: 5_000, kind: 'add-broker' },
          { atMs: 4_000, kind: 'crash', node: 'b4', crash: 'kill' },
        ),
      ),
    ).toBe(
      'timeline[1].node: broker "b4" does not exist yet at 4000 ms (timeline[0] adds it at 5000 ms)',
    );
    expect(
      problem(
        timeline({ atMs: 0, kind: 'add-broker' }, VALID_STEPS.heal, {
          atMs: 10,
          kind: 'stop',
          node: 'b5',
        }),
      ),
    ).toBe('timeline[2].node: unknown broker "b5" (brokers are b1..b4, or a role such as @leader)');
  });

  it('checks times against the fault phase after the settings', () => {
    const step = { atMs: 40_000, kind: 'heal' };
    expect(
      problem(scenario({ timeline: [step], settings: { 'fault.phase.ms': 50_000 } })),
    ).toBeNull();
    expect(problem(scenario({ timeline: [step], settings: { 'fault.phase.ms': '30000' } }))).toBe(
      'timeline[0].atMs: 40000 is not within the fault phase [0, 30000)',
    );
  });

  it('checks roles against the first topic after the settings', () => {
    const step = { atMs: 0, kind: 'crash', node: '@replica-1', crash: 'kill' };
    const settings = { 'replication.factor': 1 };
    expect(problem(scenario({ timeline: [step], settings }))).toBe(
      'timeline[0].node: role "@replica-1" names no replica: the first topic "orders" has replication factor 1 (@replica-0)',
    );
    expect(problem(scenario({ timeline: [step], topics: [], producers: [], consumers: [] }))).toBe(
      'timeline[0].node: role "@replica-1" needs a topic: it names a replica of the first topic\'s partition 0',
    );
    expect(
      problem(
        scenario({
          timeline: [{ atMs: 0, kind: 'crash', node: '@controller', crash: 'kill' }],
          topics: [],
          producers: [],
          consumers: [],
        }),
      ),
    ).toBeNull();
  });

  it('names the scenario without producers or consumers in node hints', () => {
    const bare = { producers: [], consumers: [] };
    expect(
      problem(scenario({ ...bare, timeline: [{ atMs: 0, kind: 'restart', node: 'p1' }] })),
    ).toBe('timeline[0].node: unknown producer "p1" (the scenario has no producers)');
    expect(
      problem(scenario({ ...bare, timeline: [{ atMs: 0, kind: 'restart', node: 'x' }] })),
    ).toBe(
      'timeline[0].node: unknown node "x" (nodes are b1..b3, c1..c3, or a role such as @leader)',
    );
  });

  it('accepts a producer in a partition group', () => {
    expect(
      problem(
        timeline({ atMs: 0, kind: 'partition', groups: [['p1'], ['@leader']], mode: 'silent' }),
      ),
    ).toBeNull();
  });
});

describe('closest', () => {
  it('measures edits and suggests only close names', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closest('crsh', ['crash', 'bounce'])).toBe('crash');
    expect(closest('zzzz', ['crash', 'bounce'])).toBeUndefined();
    expect(closest('', ['crash'])).toBeUndefined();
  });
});
