// `kafkasim fuzz`, spawned as a user runs it: the summary, the JSON shape, shards, workers giving
// the same failures as one thread, --out files that `kafkasim run` replays, the determinism
// check, and one-line usage errors with exit code 2.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseShard, seedRanges, shardSeeds } from './fuzz.ts';

const BIN = join(import.meta.dirname, 'kafkasim.mjs');

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the binary without blocking, so the slow cases of this file run side by side. */
function kafkasim(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NO_COLOR: '1' };
    const child = spawn(process.execPath, [BIN, ...args], { env, timeout: 90_000 });
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

interface FuzzJson {
  seeds: number;
  failures: { seed: number; mode: string; invariant: string; repro: string }[];
  stats: { seedRanges: { from: number; to: number; step: number }[]; jobs: number };
}

/** Every seed a JSON report says it ran. */
function seedsOf(report: FuzzJson): number[] {
  return report.stats.seedRanges.flatMap(({ from, to, step }) =>
    Array.from({ length: (to - from) / step + 1 }, (_, index) => from + index * step),
  );
}

describe('fuzz seed selection', () => {
  it('shards split the range into disjoint sets that cover it', () => {
    const first = shardSeeds(10, 7, parseShard('1/2'));
    const second = shardSeeds(10, 7, parseShard('2/2'));
    expect(first).toEqual([10, 12, 14, 16]);
    expect(second).toEqual([11, 13, 15]);
    expect(shardSeeds(10, 7, undefined)).toEqual([10, 11, 12, 13, 14, 15, 16]);
  });

  it('describes the seeds run as arithmetic ranges', () => {
    expect(seedRanges([1, 3, 5, 9, 10])).toEqual([
      { from: 1, to: 5, step: 2 },
      { from: 9, to: 10, step: 1 },
    ]);
  });
});

describe('kafkasim fuzz', { timeout: 90_000 }, () => {
  it('runs 4 seeds in one thread, exits 0 and prints the summary', async () => {
    const result = await kafkasim(['fuzz', '--seeds', '4', '--jobs', '1']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^kafkasim fuzz: seeds 1\.\.4 \(4 to run\), profile small/);
    expect(result.stdout).toMatch(
      /4 seeds run in [\d.]+ s \([\d.]+ seeds\/s, jobs 1\): no failures/,
    );
  });

  it('prints DESIGN.md JSON; shards 1/2 and 2/2 run disjoint seeds that cover the range', async () => {
    const [first, second] = await Promise.all([
      kafkasim([
        'fuzz',
        '--seeds',
        '4',
        '--start-seed',
        '20',
        '--jobs',
        '1',
        '--shard',
        '1/2',
        '--json',
      ]),
      kafkasim([
        'fuzz',
        '--seeds',
        '4',
        '--start-seed',
        '20',
        '--jobs',
        '1',
        '--shard',
        '2/2',
        '--json',
      ]),
    ]);
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    const reports = [JSON.parse(first.stdout) as FuzzJson, JSON.parse(second.stdout) as FuzzJson];
    for (const report of reports) {
      expect(Object.keys(report)).toEqual(['seeds', 'failures', 'stats']);
      expect(report.seeds).toBe(2);
      expect(report.failures).toEqual([]);
    }
    const [a, b] = reports.map(seedsOf);
    expect(a).toEqual([20, 22]);
    expect(b).toEqual([21, 23]);
  });

  it('finds the same failures with 2 workers as with 1 (truncate-to-hw, --keep-going)', async () => {
    const args = ['fuzz', '--seeds', '6', '--bug', 'truncate-to-hw', '--keep-going', '--json'];
    const [one, two] = await Promise.all([
      kafkasim([...args, '--jobs', '1']),
      kafkasim([...args, '--jobs', '2']),
    ]);
    expect(one.code).toBe(1);
    expect(two.code).toBe(1);
    const single = JSON.parse(one.stdout) as FuzzJson;
    const workers = JSON.parse(two.stdout) as FuzzJson;
    expect(single.seeds).toBe(6);
    expect(workers.seeds).toBe(6);
    expect(single.failures.length).toBeGreaterThan(0);
    expect(workers.failures).toEqual(single.failures);
    expect(single.failures[0]).toEqual({
      seed: 5,
      mode: 'kraft',
      invariant: 'acked-write-durable',
      count: expect.any(Number),
      repro: 'npx kafkasim repro 5 --profile small --bug truncate-to-hw',
    });
  });

  it('stops at the first failure, writes --out files, and the scenario JSON replays', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kafkasim-fuzz-'));
    const result = await kafkasim([
      'fuzz',
      '--seeds',
      '8',
      '--jobs',
      '2',
      '--bug',
      'truncate-to-hw',
      '--out',
      out,
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('FAIL seed 5: acked-write-durable');
    expect(result.stdout).toContain(
      'repro: npx kafkasim repro 5 --profile small --bug truncate-to-hw',
    );
    expect(result.stdout).toContain(
      'shrink: npx kafkasim shrink 5 --profile small --bug truncate-to-hw',
    );
    expect(result.stdout).toContain('5 seeds run in');
    expect(result.stdout).toContain('stopped at the lowest failing seed');
    // A campaign with a bug switch on says the failure is the one the switch brings back.
    expect(result.stdout).toContain(
      'as expected: --bug truncate-to-hw brings back a historical bug that breaks acked-write-durable (KIP-101, KAFKA-1211); the failing seed breaks it. The exit code is 1 because seeds failed; kafkasim bugs tells the bug, npx kafkasim run kip-101-epoch-truncation-keeps-acked-writes --bug truncate-to-hw shows it step by step',
    );
    const scenarioFile = join(out, 'seed-5.json');
    expect(existsSync(scenarioFile)).toBe(true);
    const trace = readFileSync(join(out, 'seed-5.trace.jsonl'), 'utf8').split('\n');
    expect(trace.length).toBeGreaterThan(100);
    expect(JSON.parse(trace[0] ?? '')).toHaveProperty('atMs');
    const [withBug, without] = await Promise.all([
      kafkasim(['run', scenarioFile, '--seed', '5', '--bug', 'truncate-to-hw', '--json']),
      kafkasim(['run', scenarioFile, '--seed', '5', '--json']),
    ]);
    expect(withBug.code).toBe(1);
    expect(JSON.parse(withBug.stdout).violations[0].invariant).toBe('acked-write-durable');
    expect(without.code).toBe(0);
  });

  it('--json with --out names the files written for each failure and the command replaying them', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kafkasim-fuzz-'));
    const result = await kafkasim([
      'fuzz',
      '--seeds',
      '6',
      '--jobs',
      '1',
      '--bug',
      'truncate-to-hw',
      '--out',
      out,
      '--json',
    ]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as FuzzJson & {
      stats: { failingSeeds: number; checkDeterminism: boolean };
    };
    expect(report.failures[0]).toMatchObject({
      seed: 5,
      scenarioFile: join(out, 'seed-5.json'),
      traceFile: join(out, 'seed-5.trace.jsonl'),
      replay: `npx kafkasim run ${join(out, 'seed-5.json')} --seed 5 --bug truncate-to-hw`,
    });
    expect(existsSync(join(out, 'seed-5.trace.jsonl'))).toBe(true);
    expect(report.stats.failingSeeds).toBe(1);
    expect(report.stats.checkDeterminism).toBe(false);
  });

  it('--check-determinism runs each seed twice and passes', async () => {
    const result = await kafkasim(['fuzz', '--seeds', '2', '--jobs', '1', '--check-determinism']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('checking determinism');
    expect(result.stdout).toContain('2 seeds run in');
    expect(result.stdout).toContain('no failures, every seed run twice with the same trace hash');
  });

  it('--mode both runs KRaft only and says so in one line', async () => {
    const result = await kafkasim(['fuzz', '--seeds', '1', '--jobs', '1', '--mode', 'both']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      'warning: --mode both runs KRaft only: ZooKeeper mode is not built yet\n',
    );
  });

  it.each([
    [['--mode', 'zk'], 'ZooKeeper mode is not built yet'],
    [['--profile', 'smal'], 'unknown profile "smal" (did you mean "small"?)'],
    [['--bug', 'truncate-to-h'], 'unknown bug "truncate-to-h" (did you mean "truncate-to-hw"?)'],
    [['--seeds', '0'], '--seeds must be an integer of at least 1 (got "0")'],
    [['--seeds', '-3'], '--seeds must be an integer of at least 1 (got "-3")'],
    [['--seeds', 'many'], '--seeds must be an integer of at least 1'],
    [['--jobs', '0'], '--jobs must be an integer of at least 1'],
    [['--start-seed', '-3'], '--start-seed must be a non-negative integer'],
    [['--shard', '3/2'], '--shard K/N needs 1 ≤ K ≤ N'],
    [['--shard', 'half'], '--shard must be K/N'],
    [['--out', '/etc/passwd/x'], 'cannot create the --out directory'],
    // Node's own recursive mkdir never returns for a path under /proc.
    [['--out', '/proc/kafkasim/x'], 'cannot create the --out directory /proc/kafkasim/x: no such'],
  ])('fuzz %j exits 2 with one line', async (args, message) => {
    const result = await kafkasim(['fuzz', ...args]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
