// The real binary, spawned as a user would run it: exit codes, one-line errors, colour rules,
// byte-identical output for the same seed, and the trace exports.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, 'kafkasim.mjs');
const ESCAPE = '\u001b[';

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function kafkasim(args: readonly string[], env: Record<string, string> = {}): CliResult {
  const baseEnv: Record<string, string | undefined> = {
    ...process.env,
    NO_COLOR: undefined,
    FORCE_COLOR: undefined,
  };
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...baseEnv, ...env } as NodeJS.ProcessEnv,
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
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

  it('rejects an unknown command with a suggestion, on one line, exit 2', () => {
    expectUsageError(kafkasim(['lsit']), /unknown command 'lsit' \(did you mean list\?\)/);
  });

  it('rejects an unknown option on one line, exit 2', () => {
    expectUsageError(kafkasim(['demo', '--sed', '3']), /unknown option '--sed'/);
  });

  it('says which issue brings a command not built yet, exit 2', () => {
    expectUsageError(kafkasim(['fuzz']), /fuzz is not built yet/);
    expectUsageError(kafkasim(['list']), /list is not built yet/);
    expectUsageError(kafkasim(['run', 'acks-all-leader-crash']), /run is not built yet/);
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
      /--trace-format must be one of jsonl, chrome/,
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
    const bugs = JSON.parse(json.stdout) as { name: string; description: string; breaks: string }[];
    expect(bugs.map((bug) => bug.name)).toContain('raft-no-check-quorum');
    for (const bug of bugs) {
      expect(bug.description.length).toBeGreaterThan(20);
      expect(bug.breaks).toMatch(/^[a-z-]+$/);
    }
  });
});
