import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProducerSpec, Step, TopicSpec } from '../properties/kafka-harness.ts';
import { BUG_NAMES } from '../sim/kafka/bugs.ts';
import acksAllSurvivesALeaderCrash from './acks-all-survives-a-leader-crash.ts';
import { findSyntaxProblem, lineColumn, parseScenarioJson, scenarioToJson } from './json.ts';
import { SCENARIOS } from './registry.ts';
import { defineScenario, type Scenario } from './scenario.ts';
import { ScenarioError } from './settings.ts';
import { ALLOWED_LOSS_REASONS, INVARIANTS, validateScenario } from './validate.ts';

/** The message parseScenarioJson throws (a ScenarioError of one line). */
function problem(text: string, source = 'my.json'): string {
  try {
    parseScenarioJson(text, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('parsed without a problem');
}

const MINIMAL = {
  name: 'a-minimal-scenario',
  summary: 'The fewest fields',
  description: 'Only the required fields; the rest are defaults.',
  topics: [{ name: 'orders', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
};

function json(changes: Record<string, unknown>): string {
  return JSON.stringify({ ...MINIMAL, ...changes }, null, 2);
}

function roundTrip(scenario: Scenario): Scenario {
  return parseScenarioJson(scenarioToJson(scenario), 'round-trip.json');
}

/** A scenario that uses every field, every step kind and settings of every type. */
const FULL = defineScenario({
  name: 'every-field-at-once',
  summary: 'Every field, "quoted" and ünicode',
  description: 'Line one.\nLine two, with a tab\tand a backslash \\.',
  cluster: { controllers: 3, brokers: 4 },
  topics: [
    { name: 'orders', partitions: 2, replicationFactor: 3, minInsyncReplicas: 2 },
    {
      name: 'audit.log',
      partitions: 1,
      replicationFactor: 1,
      minInsyncReplicas: 1,
      uncleanLeaderElection: true,
    },
  ],
  producers: [
    {
      topic: 'orders',
      acks: 'all',
      idempotent: true,
      everyMs: 50,
      count: 100,
      startMs: 8_000,
      partition: 1,
      keyPrefix: 'k',
      valuePrefix: 'v',
      config: { retries: 5, requestTimeoutMs: 3_000 },
    },
    { topic: 'audit.log', acks: '0', everyMs: 500 },
  ],
  consumers: [['orders'], ['orders', 'audit.log']],
  timeline: [
    {
      atMs: 10_000,
      kind: 'partition',
      groups: [
        ['b1', 'p1'],
        ['b2', 'b3'],
      ],
      mode: 'silent',
    },
    {
      atMs: 11_000,
      kind: 'partition-one-way',
      sources: ['@leader'],
      targets: ['c1'],
      mode: 'reject',
    },
    { atMs: 12_000, kind: 'isolate', node: '@follower', mode: 'silent', healAfterMs: 2_000 },
    { atMs: 13_000, kind: 'heal' },
    { atMs: 14_000, kind: 'crash', node: '@replica-1', crash: 'powerFailure', awaitMs: 1_000 },
    { atMs: 15_000, kind: 'bounce', node: 'b2', crash: 'kill', downMs: 3_000 },
    { atMs: 16_000, kind: 'restart', node: 'b1' },
    { atMs: 17_000, kind: 'stop', node: 'c2' },
    { atMs: 18_000, kind: 'pause', node: 'r2', durationMs: 500 },
    { atMs: 19_000, kind: 'slow', node: 'b3', extraLatencyMs: 300, bandwidthBytesPerSec: 65_536 },
    { atMs: 20_000, kind: 'unslow' },
    { atMs: 21_000, kind: 'clog', source: '@leader', target: '@controller' },
    { atMs: 22_000, kind: 'release', when: 'isr-full' },
    { atMs: 23_000, kind: 'add-broker' },
    { atMs: 24_000, kind: 'remove-broker', node: 'b5', when: 'isr-shrunk', awaitMs: 5_000 },
  ],
  faultPhaseMs: 40_000,
  healPhaseMs: 30_000,
  settings: { 'unclean.leader.election.enable': false, 'flush.ms': '2000', retries: 7 },
  expect: { violations: [], allowed: ['acks-0'] },
  demonstrates: [
    { bug: 'truncate-to-hw', violations: ['acked-write-durable'], allowed: ['acks-0'] },
  ],
});

describe('scenarioToJson and parseScenarioJson', () => {
  it('round-trip the example scenario to an equal scenario', () => {
    expect(roundTrip(acksAllSurvivesALeaderCrash)).toEqual(acksAllSurvivesALeaderCrash);
  });

  it('round-trip every registered scenario, each valid', () => {
    for (const scenario of SCENARIOS) {
      expect(() => validateScenario(scenario), scenario.name).not.toThrow();
      expect(roundTrip(scenario), scenario.name).toEqual(scenario);
    }
  });

  it('round-trip a scenario with every field and step kind', () => {
    expect(() => validateScenario(FULL)).not.toThrow();
    const text = scenarioToJson(FULL);
    expect(roundTrip(FULL)).toEqual(FULL);
    expect(scenarioToJson(roundTrip(FULL))).toBe(text);
  });

  it('writes keys in a fixed order, whatever the order of the object', () => {
    const reversed = JSON.parse(
      JSON.stringify(FULL, (_, value: unknown) =>
        value !== null && typeof value === 'object' && !Array.isArray(value)
          ? Object.fromEntries(Object.entries(value).toReversed())
          : value,
      ),
    ) as Scenario;
    const settings = FULL.settings;
    expect(scenarioToJson({ ...reversed, settings })).toBe(scenarioToJson(FULL));
  });

  it('writes 2-space JSON, a value on one line when it fits in 100 columns', () => {
    const text = scenarioToJson(acksAllSurvivesALeaderCrash);
    const lines = text.split('\n');
    expect(lines[0]).toBe('{');
    expect(lines[1]).toBe('  "name": "acks-all-survives-a-leader-crash",');
    expect(text).toContain(
      '\n  "timeline": [{ "atMs": 15000, "kind": "crash", "node": "@leader", "crash": "kill" }],\n',
    );
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(acksAllSurvivesALeaderCrash)));
    for (const line of scenarioToJson(FULL).split('\n')) {
      if (!line.includes('"description"')) expect(line.length, line).toBeLessThanOrEqual(100);
    }
  });

  it('fills the defaults of a minimal file', () => {
    const scenario = parseScenarioJson(json({}), 'minimal.json');
    expect(scenario).toEqual(defineScenario(MINIMAL as Parameters<typeof defineScenario>[0]));
    expect(scenario.cluster).toEqual({ controllers: 3, brokers: 3 });
    expect(scenario.expect).toEqual({ violations: [], allowed: [] });
  });

  it('fills the empty lists of an expectation and a demonstration', () => {
    const scenario = parseScenarioJson(
      json({
        expect: { allowed: ['acks-1'] },
        demonstrates: [{ bug: 'no-elr', violations: ['acked-write-durable'] }],
      }),
      'partial.json',
    );
    expect(scenario.expect).toEqual({ violations: [], allowed: ['acks-1'] });
    expect(scenario.demonstrates).toEqual([
      { bug: 'no-elr', violations: ['acked-write-durable'], allowed: [] },
    ]);
  });

  it('reads a file that starts with a byte order mark', () => {
    expect(parseScenarioJson(`\uFEFF${json({})}`, 'bom.json').name).toBe('a-minimal-scenario');
  });
});

describe('parseScenarioJson: malformed JSON', () => {
  const cases: readonly (readonly [string, string, string])[] = [
    [
      'a missing value',
      '{"a": }',
      'my.json:1:7: malformed JSON: unexpected token "}" (expected a value)',
    ],
    [
      'a missing comma in an array, on line 3',
      '{\n  "name": "x",\n  "topics": [1 2]\n}',
      'my.json:3:16: malformed JSON: unexpected token "2" (expected "," or "]" after an array element)',
    ],
    [
      'a trailing comma',
      '{\n  "name": "x",\n}',
      'my.json:3:1: malformed JSON: unexpected token "}" (expected a property name in double quotes)',
    ],
    [
      'a missing colon',
      '{"name" "x"}',
      'my.json:1:9: malformed JSON: unexpected token "\\"" (expected ":" after a property name)',
    ],
    [
      'a misspelt literal',
      '{"a": tru}',
      'my.json:1:7: malformed JSON: unexpected token "tru" (expected a value)',
    ],
    [
      'a missing closing brace',
      '{"a": 1',
      'my.json:1:8: malformed JSON: unexpected end of input (expected "," or "}" after a property value)',
    ],
    [
      'an empty file',
      '',
      'my.json:1:1: malformed JSON: unexpected end of input (expected a value)',
    ],
    [
      'an unterminated string',
      '{"a": "b',
      'my.json:1:9: malformed JSON: unexpected end of input in a string',
    ],
    [
      'a line break in a string',
      '{"a": "b\nc"}',
      'my.json:1:9: malformed JSON: unexpected control character in a string (a line break must be written \\n)',
    ],
    ['a bad escape', '{"a": "\\q"}', 'my.json:1:8: malformed JSON: bad escape "\\\\q" in a string'],
    [
      'text after the value',
      '{}\n{}',
      'my.json:2:1: malformed JSON: unexpected token "{" after the end of the JSON value',
    ],
    [
      'single quotes',
      "{'a': 1}",
      'my.json:1:2: malformed JSON: unexpected token "\'" (expected a property name in double quotes)',
    ],
    [
      'a comment',
      '{\n  // no comments in JSON\n  "a": 1\n}',
      'my.json:2:3: malformed JSON: unexpected token "/" (expected a property name in double quotes)',
    ],
    ['a duplicate field', '{\n  "a": 1,\n  "a": 2\n}', 'my.json:3:3: duplicate field "a"'],
  ];

  for (const [what, text, message] of cases) {
    it(`reports ${what} at its line and column`, () => {
      expect(problem(text)).toBe(message);
    });
  }

  it('reports nesting past the bound instead of overflowing the stack', () => {
    expect(problem('['.repeat(100_000))).toBe(
      'my.json:1:66: malformed JSON: nested deeper than 64 levels',
    );
  });

  it('counts lines and columns from 1', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
    expect(lineColumn('ab\r\ncd', 5)).toEqual({ line: 2, column: 2 });
    expect(lineColumn('ab', 2)).toEqual({ line: 1, column: 3 });
  });

  test.prop([fc.jsonValue()])('finds no problem in what JSON.stringify writes', (value) => {
    expect(findSyntaxProblem(JSON.stringify(value, null, 1) ?? 'null')).toBeNull();
  });

  test.prop([
    fc.jsonValue(),
    fc.nat(),
    fc.constantFrom('', ',', '}', ']', '"', ':', 'x', '0', '\n'),
  ])('agrees with JSON.parse on damaged JSON', (value, at, insert) => {
    const text = JSON.stringify(value);
    const index = at % (text.length + 1);
    const damaged = text.slice(0, index) + insert + text.slice(index + 1);
    const problem = findSyntaxProblem(damaged);
    let parses = true;
    try {
      JSON.parse(damaged);
    } catch {
      parses = false;
    }
    expect(problem === null || problem.duplicate).toBe(parses);
  });
});

describe('parseScenarioJson: the shape', () => {
  const cases: readonly (readonly [string, string, string])[] = [
    ['an array', '[]', 'my.json: expected a JSON object (a scenario), got an array'],
    ['a number', '42', 'my.json: expected a JSON object (a scenario), got 42'],
    [
      'an unknown top-level field',
      json({ topic: 'orders' }),
      'my.json: unknown field "topic" (did you mean "topics"?)',
    ],
    [
      'an unknown top-level field far from any',
      json({ zzzzzz: 1 }),
      'my.json: unknown field "zzzzzz" (a scenario has name, summary, description, seed, cluster, topics, producers, consumers, timeline, faultPhaseMs, healPhaseMs, settings, expect, demonstrates)',
    ],
    ['a negative seed', json({ seed: -1 }), 'my.json: seed: must be ≥ 0 (got -1)'],
    ['a seed as text', json({ seed: '5' }), 'my.json: seed: expected a whole number, got "5"'],
    ['a missing name', json({ name: undefined }), 'my.json: missing field "name"'],
    ['a missing list of topics', json({ topics: undefined }), 'my.json: missing field "topics"'],
    ['a null list', json({ producers: null }), 'my.json: producers: expected an array, got null'],
    [
      'a null fault phase',
      json({ faultPhaseMs: null }),
      'my.json: faultPhaseMs: expected a whole number, got null',
    ],
    [
      'partitions as text',
      json({
        topics: [{ name: 'orders', partitions: '3', replicationFactor: 3, minInsyncReplicas: 2 }],
      }),
      'my.json: topics[0].partitions: expected a whole number, got "3"',
    ],
    [
      'a cluster that is a number',
      json({ cluster: 3 }),
      'my.json: cluster: expected an object, got 3',
    ],
    [
      'an expectation that is a list',
      json({ expect: [] }),
      'my.json: expect: expected an object, got an array',
    ],
    [
      'an unknown field of the expectation',
      json({ expect: { violation: [] } }),
      'my.json: expect: unknown field "violation" (did you mean "violations"?)',
    ],
    [
      'a null list of an expectation',
      json({ expect: { violations: null } }),
      'my.json: expect.violations: expected an array, got null',
    ],
    [
      'an unknown invariant',
      json({ expect: { violations: ['acked-write-durabel'] } }),
      'my.json: expect.violations[0]: unknown invariant "acked-write-durabel" (did you mean "acked-write-durable"?)',
    ],
    [
      'an unknown node',
      json({ timeline: [{ atMs: 0, kind: 'crash', node: 'b7', crash: 'kill' }] }),
      'my.json: timeline[0].node: unknown broker "b7" (brokers are b1..b3, or a role such as @leader)',
    ],
    [
      'an impossible replication factor',
      json({ cluster: { controllers: 1, brokers: 2 } }),
      'my.json: topics[0].replicationFactor: 3 is more than the 2 brokers',
    ],
    [
      'a demonstration that is text',
      json({ demonstrates: ['no-elr'] }),
      'my.json: demonstrates[0]: expected an object, got "no-elr"',
    ],
  ];

  for (const [what, text, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(problem(text)).toBe(message);
    });
  }
});

// ---- random valid scenarios -------------------------------------------------------------------

const TOPIC_NAMES = ['orders', 'payments', 'audit.log'];

function optional<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arbitrary, { nil: undefined });
}

/** An object without the keys whose value is undefined (as exactOptionalPropertyTypes wants). */
function defined<T>(value: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(value).filter(([, each]) => each !== undefined)) as T;
}

function topicArbitrary(name: string, brokers: number): fc.Arbitrary<TopicSpec> {
  return fc
    .record({
      partitions: fc.integer({ min: 1, max: 4 }),
      replicationFactor: fc.integer({ min: 1, max: brokers }),
      minInsyncReplicas: fc.integer({ min: 1, max: 3 }),
      uncleanLeaderElection: optional(fc.boolean()),
    })
    .map((topic) => defined<TopicSpec>({ name, ...topic }));
}

function producerArbitrary(topics: readonly TopicSpec[]): fc.Arbitrary<ProducerSpec> {
  return fc
    .record({
      topic: fc.constantFrom(...topics),
      acks: fc.constantFrom<['all', boolean | undefined] | ['0' | '1', false | undefined]>(
        ['all', true],
        ['all', false],
        ['all', undefined],
        ['1', false],
        ['0', undefined],
      ),
      everyMs: fc.integer({ min: 1, max: 1_000 }),
      burst: optional(fc.integer({ min: 1, max: 10 })),
      count: optional(fc.nat(200)),
      startMs: optional(fc.nat(30_000)),
      partitionDraw: optional(fc.nat()),
      keyPrefix: optional(fc.string()),
      valuePrefix: optional(fc.string({ unit: 'binary', maxLength: 5 })),
      config: optional(
        fc.record(
          {
            retries: fc.integer({ min: 1, max: 10 }),
            requestTimeoutMs: fc.integer({ min: 1, max: 5_000 }),
            lingerMs: fc.nat(10),
          },
          { requiredKeys: [] },
        ),
      ),
    })
    .map(({ topic, acks, partitionDraw, ...rest }) =>
      defined<ProducerSpec>({
        ...rest,
        topic: topic.name,
        acks: acks[0],
        idempotent: acks[1],
        partition: partitionDraw === undefined ? undefined : partitionDraw % topic.partitions,
      }),
    );
}

function stepArbitrary(nodes: readonly string[], faultPhaseMs: number): fc.Arbitrary<Step> {
  const node = fc.constantFrom(...nodes);
  const nodeList = fc.uniqueArray(node, { minLength: 1, maxLength: 3 });
  const mode = fc.constantFrom('silent', 'reject' as const);
  const crash = fc.constantFrom('kill', 'powerFailure', 'diskLoss' as const);
  const ms = fc.nat(10_000);
  const fault = fc.oneof(
    fc.record({
      kind: fc.constant('partition'),
      // A node is on one side: two disjoint groups, split from one list.
      groups: fc
        .uniqueArray(node, { minLength: 2, maxLength: 4 })
        .chain((all) =>
          fc
            .integer({ min: 1, max: all.length - 1 })
            .map((cut): [string[], string[]] => [all.slice(0, cut), all.slice(cut)]),
        ),
      mode,
    }),
    fc.record({
      kind: fc.constant('partition-one-way'),
      sources: nodeList,
      targets: nodeList,
      mode,
    }),
    fc.record(
      { kind: fc.constant('isolate'), node, mode, healAfterMs: ms },
      { requiredKeys: ['kind', 'node', 'mode'] },
    ),
    fc.record({ kind: fc.constantFrom('heal', 'unslow', 'release', 'add-broker') }),
    fc.record({ kind: fc.constant('crash'), node, crash }),
    fc.record({ kind: fc.constant('bounce'), node, crash, downMs: ms }),
    fc.record({ kind: fc.constantFrom('restart', 'stop'), node }),
    fc.record({ kind: fc.constant('pause'), node, durationMs: ms }),
    fc.record(
      {
        kind: fc.constant('slow'),
        node,
        extraLatencyMs: ms,
        bandwidthBytesPerSec: fc.integer({ min: 1, max: 1e9 }),
      },
      { requiredKeys: ['kind', 'node', 'extraLatencyMs'] },
    ),
    fc.record({
      kind: fc.constant('clog'),
      source: fc.constant('@leader'),
      target: fc.constantFrom(...nodes.filter((each) => each !== '@leader')),
    }),
    fc.record({
      kind: fc.constant('remove-broker'),
      node: fc.constantFrom('b1', '@leader', '@replica-0'),
    }),
  );
  return fc
    .record(
      {
        atMs: fc.nat(faultPhaseMs - 1),
        awaitMs: ms,
        when: fc.constantFrom('isr-shrunk', 'no-leader', 'follower-hw-lags'),
      },
      { requiredKeys: ['atMs'] },
    )
    .chain((timing) =>
      fault.map((each) => {
        // awaitMs waits for a trigger or a role: on a plain node without `when` it is refused.
        const plain = 'node' in each && !String(each.node).startsWith('@');
        const { awaitMs, ...rest } = timing;
        const keep = awaitMs !== undefined && (timing.when !== undefined || !plain);
        return { ...rest, ...(keep ? { awaitMs } : {}), ...each } as Step;
      }),
    );
}

const scenarioArbitrary: fc.Arbitrary<Scenario> = fc
  .record({
    brokers: fc.integer({ min: 1, max: 5 }),
    controllers: fc.integer({ min: 1, max: 3 }),
    topicCount: fc.integer({ min: 1, max: TOPIC_NAMES.length }),
    consumers: fc.nat(2),
    faultPhaseMs: fc.integer({ min: 1, max: 60_000 }),
  })
  .chain(({ brokers, controllers, topicCount, consumers, faultPhaseMs }) =>
    fc
      .tuple(...TOPIC_NAMES.slice(0, topicCount).map((name) => topicArbitrary(name, brokers)))
      .chain((topics) => {
        const nodes = [
          'b1',
          `b${brokers}`,
          `c${controllers}`,
          '@leader',
          '@follower',
          '@controller',
          `@replica-${(topics[0]?.replicationFactor ?? 1) - 1}`,
          ...(consumers === 0 ? [] : ['r1']),
        ];
        return fc.record({
          name: fc
            .array(fc.constantFrom('acks', 'all', 'leader', 'crash', 'a', '3'), {
              minLength: 1,
              maxLength: 5,
            })
            .map((words) => words.join('-')),
          summary: fc.string({ maxLength: 30 }).map((text) => `S${text.replace(/\n/g, ' ')}`),
          description: fc.string({ unit: 'binary', maxLength: 80 }).map((text) => `D${text}`),
          cluster: fc.constant({ controllers, brokers }),
          topics: fc.constant(topics),
          producers: fc.array(producerArbitrary(topics), { maxLength: 3 }),
          consumers: fc.array(
            fc.uniqueArray(fc.constantFrom(...topics.map((topic) => topic.name)), {
              minLength: 1,
            }),
            { minLength: consumers, maxLength: consumers },
          ),
          // A broker is removed once: remove-broker steps of one plain id are unique.
          timeline: fc.uniqueArray(stepArbitrary(nodes, faultPhaseMs), {
            maxLength: 6,
            selector: (step) =>
              step.kind === 'remove-broker' && !step.node.startsWith('@')
                ? `remove ${step.node}`
                : step,
            comparator: 'SameValue',
          }),
          faultPhaseMs: fc.constant(faultPhaseMs),
          healPhaseMs: fc.integer({ min: 1, max: 60_000 }),
          settings: fc.record(
            {
              'unclean.leader.election.enable': fc.boolean(),
              'flush.ms': fc.oneof(fc.integer({ min: 1, max: 9_999 }), fc.constant('5000')),
              'replica.lag.time.max.ms': fc.integer({ min: 1, max: 30_000 }),
            },
            { requiredKeys: [] },
          ),
          expect: fc.record({
            violations: fc.uniqueArray(fc.constantFrom(...INVARIANTS)),
            allowed: fc.uniqueArray(fc.constantFrom(...ALLOWED_LOSS_REASONS)),
          }),
          demonstrates: fc
            .uniqueArray(fc.constantFrom(...BUG_NAMES), { maxLength: 2 })
            .chain((bugs) =>
              fc.tuple(
                ...bugs.map((bug) =>
                  fc.record({
                    bug: fc.constant(bug),
                    violations: fc.uniqueArray(fc.constantFrom(...INVARIANTS), { maxLength: 2 }),
                    allowed: fc.uniqueArray(fc.constantFrom(...ALLOWED_LOSS_REASONS), {
                      maxLength: 1,
                    }),
                  }),
                ),
              ),
            ),
        });
      }),
  )
  .map((input) => defineScenario(input));

describe('random valid scenarios', () => {
  test.prop([scenarioArbitrary])('are valid and round-trip through JSON', (scenario) => {
    validateScenario(scenario);
    const text = scenarioToJson(scenario);
    const parsed = parseScenarioJson(text, 'random.json');
    expect(parsed).toEqual(scenario);
    expect(scenarioToJson(parsed)).toBe(text);
  });
});
