// `kafkasim repro` and `kafkasim shrink`, spawned as a user runs them: exit codes, the same
// traceHash as a `run` of the generated scenario's JSON, the explanation, the shrunk file and its
// replay, and one-line errors with exit 2.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateScenario } from '../scenarios/generate.ts';
import { parseScenarioJson, scenarioToJson } from '../scenarios/json.ts';

const BIN = join(import.meta.dirname, 'kafkasim.mjs');

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The binary, without blocking, so that several run at once. */
function kafkasim(args: readonly string[], cwd?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, NO_COLOR: '1' },
      ...(cwd === undefined ? {} : { cwd }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('kafkasim repro', () => {
  it('fails with the run’s traceHash and an explanation; run of the same JSON agrees', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafkasim-repro-'));
    const file = join(dir, 'seed-19.json');
    writeFileSync(file, scenarioToJson(generateScenario(19, 'small')));
    const [text, json, run] = await Promise.all([
      kafkasim(['repro', '19', '--bug', 'truncate-to-hw']),
      kafkasim(['repro', '19', '--bug', 'truncate-to-hw', '--json']),
      kafkasim(['run', file, '--seed', '19', '--bug', 'truncate-to-hw', '--json']),
    ]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      'explanation (how each lost record or metadata entry was lost, how an election broke, what healing did not bring back)',
    );
    expect(text.stdout).toMatch(/acked +at \d+ ms to p\d at offset \d+, ISR then \[/);
    expect(text.stdout).toContain('kafkasim repro 19 --profile small --bug truncate-to-hw');
    expect(text.stdout).toContain('kafkasim shrink 19 --profile small --bug truncate-to-hw');
    expect(json.code).toBe(1);
    expect(run.code).toBe(1);
    const repro = JSON.parse(json.stdout) as { traceHash: string; explanation: string[] };
    const ran = JSON.parse(run.stdout) as { traceHash: string };
    expect(repro.traceHash).toBe(ran.traceHash);
    expect(text.stdout).toContain(repro.traceHash);
    expect(repro.explanation.length).toBeGreaterThan(3);
    // The title names the command that ran, not `run` of the generated scenario's name.
    expect(text.stdout.split('\n')[0]).toMatch(
      /^kafkasim repro 19 --profile small --bug truncate-to-hw: Fuzz seed 19 /,
    );
  }, 60_000);

  it('--json keeps the first violations and counts them all; a lost record carries its commit and holders', async () => {
    const result = await kafkasim(['repro', '64', '--bug', 'no-elr', '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      violations: { invariant: string; committedAtMs?: number; holders?: object }[];
      allowedLosses: unknown[];
      counts: Record<string, number>;
      allowedCounts: Record<string, number>;
    };
    const kept = report.violations.filter((each) => each.invariant === 'acked-write-durable');
    expect(kept.length).toBe(5);
    expect(report.counts['acked-write-durable']).toBeGreaterThan(5);
    const allowed = Object.values(report.allowedCounts).reduce((sum, count) => sum + count, 0);
    expect(allowed).toBeGreaterThan(report.allowedLosses.length);
    // The first 100 of each reason.
    const kept100 = Object.values(report.allowedCounts).reduce(
      (sum, count) => sum + Math.min(count, 100),
      0,
    );
    expect(report.allowedLosses.length).toBe(kept100);
    for (const violation of kept) {
      expect(violation.committedAtMs).toEqual(expect.any(Number));
      expect(Object.keys(violation.holders ?? {}).length).toBeGreaterThan(0);
    }
  }, 60_000);

  it('--verbose shows every trace event and still every line that matters, to the end', async () => {
    const result = await kafkasim(['repro', '19', '--bug', 'truncate-to-hw', '--verbose']);
    expect(result.code).toBe(1);
    const timeline = result.stdout.split('\n').filter((line) => /^ +\d+\.\d{3}s /.test(line));
    // Far more than the 2000 lines a timeline keeps of what matters.
    expect(timeline.length).toBeGreaterThan(10_000);
    expect(result.stdout).toMatch(/^ +0\.000s +b1 +timer label=raft\.fetch$/m);
    expect(result.stdout).toMatch(/elects b\d for leader epoch 2 /);
    expect(result.stdout).not.toContain('more events not shown');
  }, 60_000);

  it('writes the trace in either format, as run does (--trace-format chrome)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafkasim-repro-'));
    const file = join(dir, 'trace.json');
    const result = await kafkasim(['repro', '3', '--trace', file, '--trace-format', 'chrome']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${file} (chrome)`);
    const trace = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: unknown[] };
    expect(trace.traceEvents.length).toBeGreaterThan(100);
  }, 60_000);

  it('--mode both runs KRaft and says so in one line, as fuzz does', async () => {
    const [both, kraft] = await Promise.all([
      kafkasim(['repro', '3', '--mode', 'both', '--json']),
      kafkasim(['repro', '3', '--json']),
    ]);
    expect(both.stderr).toBe(
      'warning: --mode both runs KRaft only: ZooKeeper mode is not built yet\n',
    );
    expect(both.code).toBe(0);
    const hash = (result: CliResult) =>
      (JSON.parse(result.stdout) as { traceHash: string }).traceHash;
    expect(hash(both)).toBe(hash(kraft));
  }, 60_000);

  it('exits 0 without the bug, and 2 with one line on bad input', async () => {
    const [ok, seed, profile, bug, mode, passing] = await Promise.all([
      kafkasim(['repro', '19']),
      kafkasim(['repro', 'ten']),
      kafkasim(['repro', '1', '--profile', 'huge']),
      kafkasim(['repro', '1', '--bug', 'truncate-to-h']),
      kafkasim(['shrink', '1', '--mode', 'sideways']),
      kafkasim(['shrink', '1', '--out', join(tmpdir(), 'kafkasim-never-written.json')]),
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).not.toContain('explanation');
    expect(passing.stderr).toBe(
      'kafkasim: seed 1 (--profile small) breaks no invariant: nothing to shrink (kafkasim fuzz finds failing seeds)\n',
    );
    expect(passing.stdout).toBe('');
    for (const result of [seed, profile, bug, mode, passing]) {
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/^kafkasim: /);
    }
  }, 60_000);
});

describe('kafkasim shrink', () => {
  it('with a bug switch on, shrinks on the invariant the switch breaks, not the first broken', async () => {
    // Seed 13 under hw-ignores-min-isr breaks acked-write-durable first, and committed-read-stable,
    // the switch's own, too: the story of the switch is told on the latter.
    const out = join(mkdtempSync(join(tmpdir(), 'kafkasim-shrink-')), 'shrunk.json');
    const shrink = await kafkasim(['shrink', '13', '--bug', 'hw-ignores-min-isr', '--out', out]);
    expect(shrink.code).toBe(0);
    expect(shrink.stdout).toContain('while committed-read-stable still breaks');
    const replay = await kafkasim(['run', out, '--bug', 'hw-ignores-min-isr']);
    expect(replay.stdout).toMatch(
      / {4}bug +this commit \(at \d+ ms, by b\d with the ISR \[b\d\], below min\.insync\.replicas\) is what --bug hw-ignores-min-isr switches back on/,
    );
  }, 60_000);

  it('writes a smaller scenario that run replays: exit 0 with the bug and without', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafkasim-shrink-'));
    const out = join(dir, 'shrunk.json');
    const shrink = await kafkasim(['shrink', '19', '--bug', 'truncate-to-hw', '--out', out]);
    expect(shrink.stderr).toBe('');
    expect(shrink.code).toBe(0);
    expect(shrink.stdout).toMatch(
      /steps +10 → [1-5]\n( +· \d+\.\d{3}s [a-z-]+( [a-zA-Z]+=\S+( \| \S+)*)*\n)+/,
    );
    expect(shrink.stdout).toMatch(/fault phase +55\.000s → /);
    expect(shrink.stdout).toMatch(/runs +\d+ of at most 200/);
    expect(shrink.stdout).toContain(`kafkasim run ${out} --seed 19 --bug truncate-to-hw`);
    const scenario = parseScenarioJson(readFileSync(out, 'utf8'), out);
    expect(scenario.timeline.length).toBeLessThanOrEqual(5);
    expect(scenario.demonstrates).toEqual([
      { bug: 'truncate-to-hw', violations: ['acked-write-durable'], allowed: [] },
    ]);
    // The file records its seed: run takes it when no --seed is given, and --seed overrides it.
    expect(scenario.seed).toBe(19);
    const [withBug, withoutBug, text, otherSeed] = await Promise.all([
      kafkasim(['run', out, '--seed', '19', '--bug', 'truncate-to-hw', '--json']),
      kafkasim(['run', out, '--seed', '19', '--json']),
      kafkasim(['run', out, '--bug', 'truncate-to-hw']),
      kafkasim(['run', out, '--seed', '1', '--bug', 'truncate-to-hw', '--json']),
    ]);
    const hash = (result: CliResult) =>
      (JSON.parse(result.stdout) as { traceHash: string }).traceHash;
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(hash(withBug));
    expect(text.stdout).toMatch(/^ {2}seed +19$/m);
    expect(hash(otherSeed)).not.toBe(hash(withBug));
    // run tells the shrunk scenario's story as repro tells the seed's.
    expect(text.stdout).toContain(
      'explanation (how each lost record or metadata entry was lost, how an election broke, what healing did not bring back)',
    );
    expect(text.stdout).toMatch(/acked +at \d+ ms to p\d at offset \d+, ISR then \[/);
    expect(
      (JSON.parse(withBug.stdout) as { explanation: string[] }).explanation.length,
    ).toBeGreaterThan(3);
    expect(withBug.code).toBe(0);
    expect(
      (JSON.parse(withBug.stdout) as { violations: { invariant: string }[] }).violations[0]
        ?.invariant,
    ).toBe('acked-write-durable');
    expect(withoutBug.code).toBe(0);
  }, 90_000);

  it('says which invariant it shrank for, and what else the shrunk run breaks that the seed did not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafkasim-shrink-'));
    const out = join(dir, 'shrunk.json');
    const shrink = await kafkasim([
      'shrink',
      '42',
      '--bug',
      'raft-vote-not-persisted',
      '--out',
      out,
    ]);
    expect(shrink.code).toBe(0);
    // Only the invariant it shrank for is "still"; the rest, the shrunk run's own, are "also".
    expect(shrink.stdout).toMatch(/^ {2}still +raft-election-safety ×\d+$/m);
    const also =
      /^ {2}also +.*\(the seed itself did not break ([a-z-]+): the shrunk run is another run/m.exec(
        shrink.stdout,
      );
    expect(also?.[1]).toBe('leader-elected-after-heal');
    const scenario = parseScenarioJson(readFileSync(out, 'utf8'), out);
    expect(scenario.demonstrates[0]?.violations).toContain('leader-elected-after-heal');
    expect(scenario.description).not.toContain('Every invariant must hold');
    expect(scenario.description).toContain('it breaks raft-election-safety');
  }, 90_000);
});

/**
 * The README's example outputs, as a reader copies the commands: every fragment between its `…`
 * cuts (whitespace folded, since the README wraps long lines) is in the command's output. A model
 * change that moves a time or an offset fails here rather than leaving the README stale.
 */
describe("the README's example outputs", () => {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const fold = (text: string) => text.replace(/\s+/g, ' ').trim();

  /** The fenced block whose first line starts with `first`, and the fragments between its cuts. */
  function fragments(first: string): string[] {
    const start = readme.indexOf(first);
    if (start < 0) throw new Error(`the README has no block starting ${first}`);
    const end = readme.indexOf('```', start);
    return readme
      .slice(start, end)
      .split('…')
      .map(fold)
      .filter((fragment) => fragment.length >= 12);
  }

  it.each([
    [
      'A failing seed, from CI to understood: the fuzz failure',
      'FAIL seed 370: acked-write-durable',
      [
        'fuzz',
        '--profile',
        'small',
        '--bug',
        'no-broker-epoch',
        '--seeds',
        '400',
        '--jobs',
        '1',
        '--out',
        'failures/',
      ],
    ],
    [
      'A failing seed, from CI to understood: the story',
      'p1-0 at orders-0 offset 0: acked-write-durable',
      ['repro', '370', '--profile', 'small', '--bug', 'no-broker-epoch'],
    ],
    [
      'repro: a lost committed metadata entry under raft-commit-old-epoch',
      'c2-3-2 at metadata offset 46: raft-log-matching',
      ['repro', '10', '--bug', 'raft-commit-old-epoch'],
    ],
  ])('%s', { timeout: 60_000 }, async (_name, first, args) => {
    // In a directory of its own: the fuzz example writes failures/ where it runs.
    const result = await kafkasim(args, mkdtempSync(join(tmpdir(), 'kafkasim-readme-')));
    const output = fold(result.stdout);
    const missing = fragments(first).filter((fragment) => !output.includes(fragment));
    expect(missing).toEqual([]);
  });
});
