// The real binary, spawned as a user would run it: exit codes, one-line errors, colour rules,
// byte-identical output for the same seed, and the trace exports.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scenarioToJson } from '../scenarios/json.ts';
import { FLAGSHIP, SCENARIOS, scenarioByName } from '../scenarios/registry.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { BUG_NAMES } from '../sim/kafka/bugs.ts';

const BIN = join(import.meta.dirname, 'kafkasim.mjs');
const ESCAPE = '\u001b[';

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const baseEnv: Record<string, string | undefined> = {
    ...process.env,
    NO_COLOR: undefined,
    FORCE_COLOR: undefined,
  };
  return { ...baseEnv, ...env } as NodeJS.ProcessEnv;
}

function kafkasim(args: readonly string[], env: Record<string, string> = {}): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: cliEnv(env),
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same, without blocking: several runs at once keep the file fast. */
function kafkasimAsync(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), timeout: 60_000 });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
  });
}

function expectUsageError(result: CliResult, pattern: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^kafkasim: /);
  expect(lines[0]).toMatch(pattern);
}

const tmp = mkdtempSync(join(tmpdir(), 'kafkasim-cli-'));

describe('kafkasim command line', { timeout: 60_000 }, () => {
  it('prints the command list of the CLI contract', () => {
    const result = kafkasim(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['list', 'run', 'fuzz', 'repro', 'shrink', 'bugs', 'demo']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });

  it('run takes --mode both as fuzz, repro and shrink do: KRaft, with a warning', () => {
    const result = kafkasim(['run', FLAGSHIP, '--mode', 'both', '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      'warning: --mode both runs KRaft only: ZooKeeper mode is not built yet\n',
    );
    expect(JSON.parse(result.stdout).mode).toBe('kraft');
  });

  it('help names a command to show its help, and says when it knows no such command', () => {
    const run = kafkasim(['help', 'run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: kafkasim run \[options\] <scenario>/);
    const all = kafkasim(['help']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^ {2}help \[command\] /m);
    expectUsageError(
      kafkasim(['help', 'lsit']),
      /unknown command "lsit" \(did you mean "list"\?\)/,
    );
  });

  it('refuses a --set that breaks a producer rule, on one line, exit 2, before running', () => {
    expectUsageError(
      kafkasim(['run', FLAGSHIP, '--set', 'request.timeout.ms=30000']),
      /producers\[0\] \(p1\): delivery\.timeout\.ms must be ≥ request\.timeout\.ms \+ linger\.ms \(got 20000 < 30000 \+ 0\)$/,
    );
  });

  it('marks the after-heal checks a partition left offline is excused from, not as plain ✓', () => {
    // The Jepsen 2013 lone leader, killed and then removed: no replica is left that may lead (no
    // ISR, no ELR, and the last known leader unregistered), so the partition stays offline.
    const jepsen = scenarioByName('jepsen-2013-without-unclean-election-nothing-is-lost');
    if (jepsen === undefined) throw new Error('not registered');
    const file = join(mkdtempSync(join(tmpdir(), 'kafkasim-offline-')), 'offline.json');
    writeFileSync(
      file,
      scenarioToJson({
        ...jepsen,
        timeline: [...jepsen.timeline, { atMs: 40_000, kind: 'remove-broker', node: '@replica-0' }],
        expect: { violations: [], allowed: ['offline-after-unclean-shutdowns'] },
      }),
    );
    const result = kafkasim(['run', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/leader none · leader epoch \d+ · ISR \[\]/);
    expect(result.stdout).toContain(
      '~ leader-elected-after-heal (1 partition left offline: allowed)',
    );
    expect(result.stdout).toContain('~ acked-fully-replicated (1 partition left offline: allowed)');
    expect(result.stdout).not.toContain('✓ leader-elected-after-heal');
  });

  it('asks for a command, on one line, exit 2, when given none', () => {
    expectUsageError(
      kafkasim([]),
      /^kafkasim: a command is needed: list, run, fuzz, repro, shrink/,
    );
  });

  it('rejects an unknown command with a suggestion, on one line, exit 2', () => {
    expectUsageError(kafkasim(['lsit']), /unknown command 'lsit' \(did you mean list\?\)/);
  });

  it('rejects an unknown option on one line, exit 2', () => {
    expectUsageError(kafkasim(['demo', '--sed', '3']), /unknown option '--sed'/);
  });

  it('rejects a bad fuzz option on one line, exit 2', () => {
    expectUsageError(
      kafkasim(['fuzz', '--seeds', '0']),
      /--seeds must be an integer of at least 1 \(got "0"\)/,
    );
  });

  it('rejects bad option values with the option named', () => {
    expectUsageError(
      kafkasim(['demo', '--seed', 'x']),
      /--seed must be a non-negative integer \(got "x"\)/,
    );
    expectUsageError(
      kafkasim(['demo', '--nodes', '1']),
      /--nodes must be between 2 and 26 \(got 1\)/,
    );
    expectUsageError(
      kafkasim(['demo', '--trace-format', 'xml']),
      /--trace-format: unknown format "xml" \(jsonl or chrome\)/,
    );
    expectUsageError(
      kafkasim(['demo', '--trace', join(tmp, 'missing-dir', 'x.jsonl')]),
      /cannot write the trace/,
    );
  });

  it('gives byte-identical output for the same seed, and a different run for another', () => {
    const first = kafkasim(['demo', '--seed', '5', '--seconds', '5']);
    const second = kafkasim(['demo', '--seed', '5', '--seconds', '5']);
    const other = kafkasim(['demo', '--seed', '6', '--seconds', '5']);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(second.stdout);
    expect(first.stdout).toMatch(/^seed 5 · 5 nodes/m);
    expect(first.stdout).toMatch(/fault\.crash|fault\.partition/);
    const hash = (text: string) => /trace hash ([0-9a-f]{16})/.exec(text)?.[1];
    expect(hash(first.stdout)).toBeDefined();
    expect(hash(other.stdout)).not.toBe(hash(first.stdout));
  });

  it('prints one JSON object with --json', () => {
    const result = kafkasim(['demo', '--seed', '5', '--seconds', '5', '--json']);
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout);
    expect(parsed).toMatchObject({ command: 'demo', seed: 5, stats: { simulatedMs: 5000 } });
    expect(parsed.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(parsed.nodes).toHaveLength(5);
    expect(parsed.stats.events).toBeGreaterThan(1000);
  });

  it('colours only when asked: NO_COLOR wins, a pipe is plain, FORCE_COLOR colours', () => {
    expect(kafkasim(['demo', '--seconds', '2']).stdout).not.toContain(ESCAPE);
    expect(kafkasim(['demo', '--seconds', '2'], { FORCE_COLOR: '1' }).stdout).toContain(ESCAPE);
    expect(
      kafkasim(['demo', '--seconds', '2'], { FORCE_COLOR: '1', NO_COLOR: '1' }).stdout,
    ).not.toContain(ESCAPE);
  });

  it('writes the trace as JSON Lines, one event a line, matching the run', () => {
    const path = join(tmp, 'demo.jsonl');
    const result = kafkasim(['demo', '--seed', '3', '--seconds', '3', '--json', '--trace', path]);
    expect(result.code).toBe(0);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    const events = lines.map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({ index: 0, atMs: 0, kind: 'node.start' });
    expect(events.map((event) => event.index)).toEqual(events.map((_, index) => index));
    expect(
      events.some((event) => event.kind === 'net.deliver' && typeof event.source === 'string'),
    ).toBe(true);
  });

  it('writes a Chrome trace that parses, with a track per node and message flows', () => {
    const path = join(tmp, 'demo.trace.json');
    const result = kafkasim([
      'demo',
      '--seed',
      '3',
      '--seconds',
      '3',
      '--trace',
      path,
      '--trace-format',
      'chrome',
    ]);
    expect(result.code).toBe(0);
    const trace = JSON.parse(readFileSync(path, 'utf8'));
    const names = trace.traceEvents.filter(
      (event: { ph: string; name: string }) => event.ph === 'M' && event.name === 'thread_name',
    );
    expect(names.map((event: { args: { name: string } }) => event.args.name)).toEqual(
      expect.arrayContaining(['n1', 'n2', 'n3', 'n4', 'n5', 'world']),
    );
    const flows = (key: string) =>
      trace.traceEvents.filter((event: Record<string, unknown>) => event[key] === true);
    expect(flows('flow_out').length).toBeGreaterThan(100);
    expect(flows('flow_in').length).toBe(flows('flow_out').length);
  });

  it('lists the historical-bug switches, as text and as JSON', () => {
    const text = kafkasim(['bugs']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ {2}raft-vote-ignores-log +a metadata voter grants/m);
    const json = kafkasim(['bugs', '--json']);
    expect(json.code).toBe(0);
    const bugs = JSON.parse(json.stdout) as {
      name: string;
      description: string;
      breaks: string;
      scenarios: string[];
    }[];
    expect(bugs.map((bug) => bug.name)).toContain('raft-no-check-quorum');
    for (const bug of bugs) {
      expect(bug.description.length).toBeGreaterThan(20);
      expect(bug.breaks).toMatch(/^[a-z-]+$/);
    }
    // The named scenario that shows a switch step by step, where one does.
    expect(bugs.find((bug) => bug.name === 'no-broker-epoch')?.scenarios).toEqual([
      'kip-903-a-restarted-replica-rejoins-only-in-its-new-broker-epoch',
    ]);
    expect(text.stdout).toContain(
      'breaks acked-write-durable · KIP-380, KIP-903 · shown step by step by kip-903-a-restarted-replica-rejoins-only-in-its-new-broker-epoch',
    );
  });
});

/** The text of a run without its one wall-clock figure, which differs from run to run. */
function maskWall(text: string): string {
  return text.replace(/^( {2}wall +)\d+ ms$/m, '$1<masked> ms');
}

const RUN_JSON_KEYS = [
  'scenario',
  'seed',
  'mode',
  'bugs',
  'ok',
  'expected',
  'violations',
  'allowedLosses',
  'counts',
  'allowedCounts',
  'stats',
  'traceHash',
  'explanation',
];

/** A scenario that demonstrates a historical bug, if the registry has one yet. */
const demonstrating = SCENARIOS.find((scenario) => scenario.demonstrates.length > 0);

const flagship = scenarioByName(FLAGSHIP);
if (flagship === undefined) throw new Error(`the flagship ${FLAGSHIP} is not registered`);

describe('kafkasim list and run', { timeout: 60_000 }, () => {
  it('lists every scenario, aligned, as text and as JSON', async () => {
    const [text, json] = await Promise.all([
      kafkasimAsync(['list']),
      kafkasimAsync(['list', '--json']),
    ]);
    expect(text.code).toBe(0);
    const width = Math.max(...SCENARIOS.map((scenario) => scenario.name.length));
    for (const scenario of SCENARIOS) {
      expect(text.stdout).toContain(`  ${scenario.name.padEnd(width)}  ${scenario.summary}\n`);
    }
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as {
      name: string;
      summary: string;
      description: string;
    }[];
    expect(rows.map((row) => row.name)).toEqual(SCENARIOS.map((scenario) => scenario.name));
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(['name', 'summary', 'description']);
      expect(row.description.length).toBeGreaterThan(row.summary.length);
    }
  });

  it('npm start runs the flagship scenario', () => {
    const manifest = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'),
    );
    expect(manifest.scripts.start).toBe(`node cli/kafkasim.mjs run ${FLAGSHIP}`);
  });

  it('runs the flagship: options first, timeline, partitions, verdict; the same seed prints the same bytes', async () => {
    const [first, second, json] = await Promise.all([
      kafkasimAsync(['run', FLAGSHIP, '--seed', '3']),
      kafkasimAsync(['run', FLAGSHIP, '--seed', '3']),
      kafkasimAsync(['run', FLAGSHIP, '--seed', '3', '--json']),
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toBe('');
    const out = first.stdout;
    expect(out).not.toContain(ESCAPE);
    const sections = ['  seed       3', 'timeline (', 'partitions at the end', 'verdict'];
    const at = sections.map((section) => out.indexOf(section));
    expect(at.every((index) => index >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // Whose view the table's header is: the controller's metadata, not each replica's own.
    expect(out).toMatch(
      /^partitions at the end \(leader, leader epoch, ISR, ELR: the active controller c\d's metadata; role, LEO, HW: each replica's own\)$/m,
    );
    expect(out).toMatch(/^ {2}scenario +acks-all-survives-a-leader-crash$/m);
    expect(out).toMatch(/^ {2}mode +kraft$/m);
    expect(out).toMatch(/^ {2}bugs +none$/m);
    // Said either way: a producer that is not idempotent can append a retried write twice.
    expect(out).toMatch(
      /^ {2}clients +p1: writes to orders with acks=all, not idempotent, one every 100 ms$/m,
    );
    const topic = flagship.topics[0];
    expect(out).toContain(
      `${topic?.name}: 1 partition, replication factor ${topic?.replicationFactor}, min.insync.replicas ${topic?.minInsyncReplicas}`,
    );
    // The description, wrapped.
    const firstWords = flagship.description.split(' ').slice(0, 6).join(' ');
    expect(out).toContain(`\n  ${firstWords}`);
    // Timeline lines: time, node, text.
    expect(out).toMatch(
      /^ +\d+\.\d{3}s {2}world +crash target=(b\d) crash=kill \(@leader is \1\)$/m,
    );
    // The ISR expansion names the fetch the leader judged the joiner on.
    expect(out).toMatch(
      /: b\d \(its last fetch at \d+\.\d{3}s: log end \d+, broker epoch \d+\) caught up, ISR expand proposed$/m,
    );
    expect(out).toMatch(/^ +\d+\.\d{3}s {2}b\d +orders-0: leader in epoch 1 /m);
    expect(out).toMatch(/^ {2}orders-0 {2}leader b\d · leader epoch \d+ · ISR \[/m);
    // Each metadata voter's own state, one of them the leader.
    expect(out).toMatch(/^metadata quorum at the end \(each voter's own state\)$/m);
    expect(out).toMatch(/^ {4}c\d +leader +\d+ +c\d +\d+ +\d+ +\d+ +up$/m);
    expect(out).toMatch(/^ {4}replica +role +LEO +HW +log start +status$/m);
    expect(out).toMatch(/^ {2}outcome +the expected outcome \(exit 0\)$/m);
    expect(out).toMatch(/^ {2}wall +\d+ ms$/m);
    expect(out).toMatch(new RegExp(`^ {2}reproduce +npx kafkasim run ${FLAGSHIP} --seed 3$`, 'm'));
    // Determinism: identical bytes but for the wall-clock line, the same trace hash.
    expect(maskWall(second.stdout)).toBe(maskWall(out));
    const hash = /trace hash ([0-9a-f]{16})/.exec(out)?.[1];
    expect(hash).toBeDefined();
    expect(JSON.parse(json.stdout).traceHash).toBe(hash);
  });

  it('prints exactly the JSON object of DESIGN.md with --json, and writes the trace and the history', async () => {
    const trace = join(tmp, 'run.jsonl');
    const history = join(tmp, 'run.history.jsonl');
    const result = await kafkasimAsync([
      'run',
      FLAGSHIP,
      '--seed',
      '2',
      '--json',
      '--trace',
      trace,
      '--history',
      history,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)).toEqual(RUN_JSON_KEYS);
    expect(report).toMatchObject({
      scenario: FLAGSHIP,
      seed: 2,
      mode: 'kraft',
      bugs: [],
      ok: true,
      expected: { violations: [], allowed: [] },
      violations: [],
      allowedLosses: [],
      counts: {},
      allowedCounts: {},
      explanation: [],
    });
    expect(Object.keys(report.stats)).toEqual(['events', 'simulatedMs', 'wallMs']);
    expect(report.stats.events).toBeGreaterThan(1000);
    expect(report.stats.simulatedMs).toBe(flagship.faultPhaseMs + flagship.healPhaseMs);
    expect(Number.isInteger(report.stats.wallMs)).toBe(true);
    expect(report.traceHash).toMatch(/^[0-9a-f]{16}$/);
    const events = readFileSync(trace, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.length).toBeGreaterThan(report.stats.events);
    expect(events.some((event) => event.kind === 'fault.crash')).toBe(true);
    const operations = readFileSync(history, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(operations[0]).toMatchObject({ index: 0, type: 'invoke', f: 'send', acks: 'all' });
    expect(operations.some((operation) => operation.type === 'ok' && operation.f === 'send')).toBe(
      true,
    );
    expect(operations.at(-1)).toMatchObject({ process: 'final-reader', f: 'final-read' });
  });

  it('colours the timeline for a terminal (FORCE_COLOR) and not with NO_COLOR', async () => {
    const [forced, none] = await Promise.all([
      kafkasimAsync(['run', 'admin-creates-a-topic-with-three-replicas'], { FORCE_COLOR: '1' }),
      kafkasimAsync(['run', 'admin-creates-a-topic-with-three-replicas'], {
        FORCE_COLOR: '1',
        NO_COLOR: '1',
      }),
    ]);
    expect(forced.stdout).toContain(ESCAPE);
    expect(none.stdout).not.toContain(ESCAPE);
  });

  it.skipIf(demonstrating === undefined)(
    'exits 0 with the bug a scenario demonstrates, 1 when that bug breaks a run that does not expect it',
    async () => {
      const scenario = demonstrating as NonNullable<typeof demonstrating>;
      const demonstration = scenario.demonstrates[0] as NonNullable<
        (typeof scenario.demonstrates)[0]
      >;
      const other = BUG_NAMES.find((bug) => bug !== demonstration.bug) as string;
      const [shown, unexpected, text] = await Promise.all([
        kafkasimAsync(['run', scenario.name, '--bug', demonstration.bug, '--json']),
        // Two bugs: no demonstration matches, so the plain expectation applies and the run breaks it.
        kafkasimAsync(['run', scenario.name, '--bug', demonstration.bug, '--bug', other]),
        kafkasimAsync(['run', scenario.name, '--bug', demonstration.bug]),
      ]);
      // Exit 0 with a violation: the outcome line says it broke as declared, not "all is well".
      expect(text.code).toBe(0);
      expect(text.stdout).toContain(
        `outcome    the expected outcome: ${demonstration.violations.join(', ')} broke, as the scenario says it does with --bug ${demonstration.bug} (exit 0)`,
      );
      expect(shown.code, shown.stdout).toBe(0);
      const report = JSON.parse(shown.stdout);
      expect(report.ok).toBe(true);
      expect(report.bugs).toEqual([demonstration.bug]);
      expect(report.expected).toEqual({
        violations: demonstration.violations,
        allowed: demonstration.allowed,
      });
      expect(unexpected.code, unexpected.stdout).toBe(1);
      expect(unexpected.stdout).toMatch(/^ {2}outcome +NOT the expected outcome \(exit 1\)$/m);
      expect(unexpected.stdout).toMatch(/^ {2}violations +\d+: /m);
      expect(unexpected.stdout).toContain(
        `reproduce  npx kafkasim run ${scenario.name} --seed 1 --bug ${demonstration.bug} --bug ${other}`,
      );
    },
  );

  it('runs a scenario JSON file: as registered exit 0, an expected violation missing exit 1, malformed exit 2', async () => {
    const scenario = flagship;
    const good = join(tmp, 'flagship.json');
    writeFileSync(good, scenarioToJson(scenario));
    const wrong = join(tmp, 'flagship-expects-a-loss.json');
    writeFileSync(
      wrong,
      scenarioToJson({ ...scenario, expect: { violations: ['acked-write-durable'], allowed: [] } }),
    );
    const malformed = join(tmp, 'malformed.json');
    writeFileSync(malformed, '{\n  "name": "x",\n  "summary": \n}\n');
    const [fromFile, registered, missing, broken] = await Promise.all([
      kafkasimAsync(['run', good, '--json']),
      kafkasimAsync(['run', FLAGSHIP, '--json']),
      kafkasimAsync(['run', wrong]),
      kafkasimAsync(['run', malformed]),
    ]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(JSON.parse(fromFile.stdout).traceHash).toBe(JSON.parse(registered.stdout).traceHash);
    expect(missing.code, missing.stderr).toBe(1);
    expect(missing.stdout).toContain('expected acked-write-durable to break: it held');
    expect(missing.stdout).toContain(`reproduce  npx kafkasim run ${wrong} --seed 1`);
    expectUsageError(broken, /malformed\.json.*(line|position|column|:\d+)/);
  });

  it('rejects every bad input with one line on stderr and exit 2', async () => {
    const manyPartitions = join(tmp, 'many-partitions.json');
    writeFileSync(
      manyPartitions,
      scenarioToJson({
        ...(scenarioByName(FLAGSHIP) as Scenario),
        topics: ['a', 'b', 'c'].map((name) => ({
          name,
          partitions: 1000,
          replicationFactor: 3,
          minInsyncReplicas: 2,
        })),
        producers: [],
        consumers: [],
      }),
    );
    const notUtf8 = join(tmp, 'not-utf8.json');
    writeFileSync(notUtf8, Buffer.from('{\n  "name": "x\xff\xfe"\n}\n', 'latin1'));
    const cases: [string[], RegExp][] = [
      [
        ['run', 'acks-all-survives-a-leader-crsh'],
        /unknown scenario "acks-all-survives-a-leader-crsh" \(did you mean "acks-all-survives-a-leader-crash"\?\)/,
      ],
      [
        ['run', join(tmp, 'no-such-file.json')],
        /cannot read the scenario file .*no-such-file\.json: no such file or directory \(ENOENT\)/,
      ],
      [['run', FLAGSHIP, '--mode', 'zk'], /ZooKeeper mode is not built yet; use --mode kraft/],
      [['run', FLAGSHIP, '--mode', 'paxos'], /--mode: unknown mode "paxos" \(kraft, zk or both\)/],
      [
        ['run', FLAGSHIP, '--mode', 'KRAFT'],
        /--mode: unknown mode "KRAFT" \(did you mean "kraft"\?\)/,
      ],
      // Names every object has are no settings; sizes past kafkasim's limits say which limit.
      [['run', FLAGSHIP, '--set', 'constructor=1'], /--set: unknown setting "constructor"$/],
      [['run', FLAGSHIP, '--set', '__proto__=1'], /--set: unknown setting "__proto__"$/],
      [
        ['run', FLAGSHIP, '--set', 'brokers=9007199254740991'],
        /brokers must be at most 64, the most brokers kafkasim simulates \(got 9007199254740991\)/,
      ],
      [
        ['run', FLAGSHIP, '--set', 'fault.phase.ms=100000000000'],
        /fault\.phase\.ms must be at most 3600000, an hour of simulated time/,
      ],
      // A --set is checked with the scenario as its own settings are.
      [
        ['run', FLAGSHIP, '--set', 'fault.phase.ms=1000'],
        /^kafkasim: with --set fault\.phase\.ms=1000: timeline\[0\]\.atMs: \d+ is not within the fault phase \[0, 1000\)$/,
      ],
      [
        ['run', 'an-isolated-leader-loses-only-acks-1-writes', '--set', 'controllers=1'],
        /^kafkasim: with --set controllers=1: timeline\[0\].*unknown controller "c\d"/,
      ],
      // Outputs: not one file for two, not the input, and a disk that fills is one line too.
      [
        ['run', FLAGSHIP, '--trace', join(tmp, 'both'), '--history', join(tmp, 'both')],
        /--trace and --history both name .*both: each needs a file of its own/,
      ],
      [
        ['run', FLAGSHIP, '--trace', '/dev/full'],
        /^kafkasim: cannot write the trace to \/dev\/full: /,
      ],
      [
        ['run', FLAGSHIP, '--trace', '-'],
        /--trace -: the report goes to standard output, so --trace needs a file of its own/,
      ],
      [
        ['run', FLAGSHIP, '--history', '/dev/stdout', '--json'],
        /--history \/dev\/stdout: the report/,
      ],
      [['help', 'bogus'], /unknown command "bogus" \(did you mean "bugs"\?\)/],
      [['run', notUtf8], /not-utf8\.json:2:13: not UTF-8 text \(a scenario file is UTF-8 JSON\)$/],
      [['fuzz', '--start', '2'], /unknown option '--start' \(did you mean --start-seed\?\)/],
      [['demo', '--secs', '3'], /unknown option '--secs' \(did you mean --seconds\?\)/],
      [
        ['repro', '370', '--seed', '3'],
        /unknown option '--seed' \(the seed is the command's argument: kafkasim repro <seed>\)$/,
      ],
      [['demo', '--nodes', '0'], /--nodes must be between 2 and 26 \(got 0\)/],
      [
        ['fuzz', '--seeds', '2147483647'],
        /--seeds must be at most 10000000 a campaign \(got 2147483647\)/,
      ],
      [
        ['run', manyPartitions],
        /the topics have 3000 partitions together: at most 2000, the most partitions a cluster has in kafkasim/,
      ],
      // A --set of a producer setting wins over the producer's own config (retries=5 there).
      [
        [
          'run',
          'producer-sends-ten-keyed-messages-with-acks-all',
          '--set',
          'enable.idempotence=true',
          '--set',
          'retries=0',
        ],
        /enable\.idempotence requires: retries must be > 0/,
      ],
      [
        ['run', FLAGSHIP, '--set', 'replica.fetch.wait.max.ms=10000'],
        /replica\.fetch\.wait\.max\.ms 10000 is above replica\.socket\.timeout\.ms 5000: Kafka requires/,
      ],
      [
        ['fuzz', '--shard', '5/10', '--seeds', '3'],
        /--shard 5\/10 of 3 seeds takes none: the range needs at least 5 seeds/,
      ],
      [
        ['run', FLAGSHIP, '--bug', 'truncate-to-h'],
        /unknown bug "truncate-to-h" \(did you mean "truncate-to-hw"\?\)/,
      ],
      [['run', FLAGSHIP, '--set', 'acks'], /--set needs key=value \(got "acks"\)/],
      [['run', FLAGSHIP, '--set', 'ack=1'], /unknown setting "ack" \(did you mean "acks"\?\)/],
      [['run', FLAGSHIP, '--set', 'acks=2'], /acks must be 0, 1 or all \(got "2"\)/],
      [
        ['run', FLAGSHIP, '--set', 'replication.factor=9'],
        /replication factor 9 is more than the \d brokers/,
      ],
      [
        ['run', FLAGSHIP, '--set', 'brokers=40', '--set', 'replication.factor=32'],
        /replication factor 32 is more than 31, the most replicas per partition the data checker follows/,
      ],
      [['run', FLAGSHIP, '--seed', '-1'], /--seed must be a non-negative integer \(got "-1"\)/],
      [['run', FLAGSHIP, '--seed', '1.5'], /--seed must be a non-negative integer \(got "1\.5"\)/],
      [
        ['run', FLAGSHIP, '--trace-format', 'xml'],
        /--trace-format: unknown format "xml" \(jsonl or chrome\)/,
      ],
      [
        ['run', FLAGSHIP, '--trace-format', 'chrome'],
        /--trace-format chrome needs --trace <file>: without it no trace is written/,
      ],
      [
        ['run', FLAGSHIP, '--history', join(tmp, 'missing-dir', 'h.jsonl')],
        /cannot write the history/,
      ],
      [['run'], /missing required argument 'scenario'/],
    ];
    const results = await Promise.all(cases.map(([args]) => kafkasimAsync(args)));
    results.forEach((result, index) => {
      expectUsageError(result, (cases[index] as [string[], RegExp])[1]);
    });
  });

  it('warns when the settings alone may break the after-heal checks: a short heal, a short session', async () => {
    const result = await kafkasimAsync([
      'run',
      FLAGSHIP,
      '--set',
      'heal.phase.ms=1000',
      '--set',
      'broker.session.timeout.ms=1000',
      '--json',
    ]);
    const warnings = result.stderr.trim().split('\n');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^warning: broker\.session\.timeout\.ms 1000 is under twice broker\.heartbeat\.interval\.ms \(2000\)/,
    );
    expect(warnings[1]).toMatch(
      /^warning: heal\.phase\.ms 1000 is under replica\.lag\.time\.max\.ms \(6000\): the after-heal checks/,
    );
    expect(() => JSON.parse(result.stdout)).not.toThrow();
  });

  it('warns about a surprising setting on stderr without changing the exit code', async () => {
    const result = await kafkasimAsync([
      'run',
      'admin-creates-a-topic-with-three-replicas',
      '--set',
      'min.insync.replicas=5',
      '--json',
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^warning: .*min\.insync\.replicas 5 > replication factor 3/);
    expect(JSON.parse(result.stdout).ok).toBe(true);
  });
});
