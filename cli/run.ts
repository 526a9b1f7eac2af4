// `kafkasim run <scenario | file.json>`: checks every option first (a mistake is one line on
// stderr and exit 2, before anything runs), runs the scenario, then prints the report as text
// (report.ts) or as one JSON object, with the story of each violation (scenarios/explain.ts), as
// `repro` tells it. Exit 0 for the expected outcome, 1 otherwise.

import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ChalkInstance } from 'chalk';
import { explainViolations, StoryEvents } from '../scenarios/explain.ts';
import { parseScenarioJson } from '../scenarios/json.ts';
import { SCENARIOS, scenarioByName } from '../scenarios/registry.ts';
import {
  type RunOptions,
  runScenario,
  type ScenarioReport,
  scenarioSpec,
} from '../scenarios/run.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { parseSetting, ScenarioError, SETTINGS, settingOf } from '../scenarios/settings.ts';
import { unknownName } from '../scenarios/suggest.ts';
import { BUG_NAMES, type BugName, isBugName } from '../sim/kafka/bugs.ts';
import { KAFKASIM } from './commands.ts';
import { MODE_BOTH_WARNING, onFile, parseNonNegativeInteger, UsageError } from './errors.ts';
import { renderReport } from './report.ts';
import {
  openTraceFile,
  parseTraceOptions,
  type TraceFile,
  type TraceFormat,
} from './trace-file.ts';

export const DEFAULT_SEED = 1;

export interface RunCommandOptions {
  /** A registered scenario's name, or a path ending in `.json`. */
  readonly target: string;
  /** `--seed`; absent: the scenario's own seed (a file from fuzz or shrink records it), else 1. */
  readonly seed: number | undefined;
  readonly bugs: readonly BugName[];
  /** `--set key=value`, in the order given (a repeated key: the last wins). */
  readonly sets: Readonly<Record<string, string>>;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly trace: string | undefined;
  readonly traceFormat: TraceFormat;
  readonly history: string | undefined;
  /** `--mode both`: as in fuzz, only KRaft is built, so KRaft runs and a warning says so. */
  readonly modeBoth?: boolean;
}

export interface RunIo {
  readonly chalk: ChalkInstance;
  readonly write: (text: string) => void;
  readonly warn: (line: string) => void;
  /** Wall-clock milliseconds (only for reporting how long the run took). */
  readonly wallNowMs: () => number;
}

/** The options as commander hands them over, checked; throws UsageError naming the bad one. */
export function parseRunOptions(
  target: string,
  raw: Readonly<Record<string, unknown>>,
): RunCommandOptions {
  const mode = String(raw['mode'] ?? 'kraft');
  if (mode === 'zk') throw new UsageError('ZooKeeper mode is not built yet; use --mode kraft');
  if (mode !== 'kraft' && mode !== 'both')
    throw new UsageError(
      `--mode: ${unknownName('mode', mode, ['kraft', 'zk', 'both'], 'kraft, zk or both')}`,
    );
  return {
    modeBoth: mode === 'both',
    target,
    seed:
      raw['seed'] === undefined
        ? undefined
        : parseNonNegativeInteger('--seed', String(raw['seed'])),
    bugs: parseBugs(stringList(raw['bug'])),
    sets: parseSets(stringList(raw['set'])),
    json: raw['json'] === true,
    verbose: raw['verbose'] === true,
    ...parseTraceOptions(raw),
    history: typeof raw['history'] === 'string' ? raw['history'] : undefined,
  };
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/** Known bug names, each once, in the order given. */
export function parseBugs(names: readonly string[]): BugName[] {
  const bugs: BugName[] = [];
  for (const name of names) {
    if (!isBugName(name))
      throw new UsageError(`${unknownName('bug', name, BUG_NAMES)}; kafkasim bugs lists them`);
    if (!bugs.includes(name)) bugs.push(name);
  }
  return bugs;
}

/** `key=value` pairs with known keys and values that parse (settings.ts). */
export function parseSets(pairs: readonly string[]): Record<string, string> {
  const sets: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UsageError(`--set needs key=value (got "${pair}")`);
    const key = pair.slice(0, equals).trim();
    const value = pair.slice(equals + 1).trim();
    if (settingOf(key) === undefined)
      throw new UsageError(`--set: ${unknownName('setting', key, Object.keys(SETTINGS))}`);
    try {
      parseSetting(key, value, '--set');
    } catch (error) {
      if (error instanceof ScenarioError) throw new UsageError(error.message);
      throw error;
    }
    sets[key] = value;
  }
  return sets;
}

/** A registered scenario by name, or a scenario JSON file (a path ending in `.json`). */
export function loadScenario(target: string): Scenario {
  if (target.toLowerCase().endsWith('.json')) {
    const bytes = onFile('read the scenario file', target, () => readFileSync(target));
    return parseScenarioJson(utf8Text(bytes, target), target);
  }
  const scenario = scenarioByName(target);
  if (scenario === undefined) {
    const names = SCENARIOS.map((each) => each.name);
    throw new UsageError(
      `${unknownName('scenario', target, names)}; kafkasim list shows them, or give a file.json`,
    );
  }
  return scenario;
}

/**
 * The outputs are files of their own: not one file for both (each would overwrite the other), not
 * standard output (the report's), not the scenario file being run.
 */
export function checkOutputs(outputs: RunOutputs, input?: string): void {
  const named = [
    ['--trace', outputs.trace],
    ['--history', outputs.history],
  ].filter((each): each is [string, string] => each[1] !== undefined);
  const [first, second] = named;
  if (first !== undefined && second !== undefined && resolve(first[1]) === resolve(second[1]))
    throw new UsageError(
      `--trace and --history both name ${first[1]}: each needs a file of its own`,
    );
  // The report is on standard output: a trace or history there would be mixed into it.
  for (const [flag, path] of named)
    if (path === '-' || ['/dev/stdout', '/dev/fd/1', '/proc/self/fd/1'].includes(resolve(path)))
      throw new UsageError(
        `${flag} ${path}: the report goes to standard output, so ${flag} needs a file of its own`,
      );
  for (const [flag, path] of named)
    if (input !== undefined && resolve(path) === resolve(input))
      throw new UsageError(`${flag} ${path} is the scenario file being run: give another file`);
}

/** The file's text; bytes that are not UTF-8 are one line saying where (not a silent U+FFFD). */
function utf8Text(bytes: Buffer, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // A lenient decode puts U+FFFD where the first bad byte is: its line and column.
    const lenient = new TextDecoder('utf-8').decode(bytes);
    const before = lenient.slice(0, Math.max(0, lenient.indexOf('\uFFFD')));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    throw new UsageError(
      `${path}:${line}:${column}: not UTF-8 text (a scenario file is UTF-8 JSON)`,
    );
  }
}

/** Opens a file for writing before the run, so a bad path fails at once and not after it. */
function openOutput(what: string, path: string): number {
  return onFile(`write the ${what} to`, path, () => openSync(path, 'w'));
}

/** The files a run writes beside its report. */
export interface RunOutputs {
  readonly trace: string | undefined;
  readonly traceFormat: TraceFormat;
  readonly history: string | undefined;
}

/** A run, with the story of each violation it found (scenarios/explain.ts). */
export interface ExplainedRun {
  readonly report: ScenarioReport;
  /** The explanation's lines; empty when no violation has a story. */
  readonly explanation: readonly string[];
  readonly wallMs: number;
}

/**
 * Runs a scenario with a story collector beside the trace file and writes the history; `run` and
 * `repro` both tell what they find this way. Files open before the run, so a bad path fails at
 * once and not after it.
 */
export function runExplained(
  scenario: Scenario,
  runOptions: RunOptions,
  outputs: RunOutputs,
  io: RunIo,
): ExplainedRun {
  const historyFd =
    outputs.history === undefined ? undefined : openOutput('history', outputs.history);
  const story = new StoryEvents();
  let traceFile: TraceFile | undefined;
  let report: ScenarioReport;
  let wallMs: number;
  try {
    traceFile =
      outputs.trace === undefined ? undefined : openTraceFile(outputs.trace, outputs.traceFormat);
    const fileSink = traceFile?.sink;
    const wallStartMs = io.wallNowMs();
    report = runScenario(scenario, {
      ...runOptions,
      traceSink:
        fileSink === undefined
          ? story.sink
          : (event) => {
              story.sink(event);
              fileSink(event);
            },
    });
    wallMs = Math.round(io.wallNowMs() - wallStartMs);
    if (historyFd !== undefined) {
      const lines = report.history.toJsonLines();
      onFile('write the history to', outputs.history as string, () => writeSync(historyFd, lines));
    }
  } finally {
    traceFile?.close();
    if (historyFd !== undefined) closeSync(historyFd);
  }
  for (const warning of report.warnings) io.warn(`warning: ${warning}`);
  const explanation = explainViolations({
    violations: report.violations,
    events: story.events,
    history: report.history.entries,
    droppedEvents: story.dropped,
    counts: report.counts,
    bugs: report.bugs,
  });
  return { report, explanation, wallMs };
}

/** Runs the command; returns the exit code (0 expected outcome, 1 not). */
export function runCommand(options: RunCommandOptions, io: RunIo): number {
  const scenario = loadScenario(options.target);
  if (options.modeBoth === true) io.warn(MODE_BOTH_WARNING);
  const seed = options.seed ?? scenario.seed ?? DEFAULT_SEED;
  const runOptions = { seed, bugs: options.bugs, sets: options.sets, verbose: options.verbose };
  // Impossible configurations (RF > brokers, ...) throw ScenarioError here, before any file opens.
  const { spec } = scenarioSpec(scenario, runOptions);
  checkOutputs(
    options,
    options.target.toLowerCase().endsWith('.json') ? options.target : undefined,
  );
  const { report, explanation, wallMs } = runExplained(scenario, runOptions, options, io);
  if (options.json) {
    io.write(`${JSON.stringify({ ...(reportJson(report, wallMs) as object), explanation })}\n`);
    return report.ok ? 0 : 1;
  }
  io.write(
    renderReport(
      {
        report,
        scenario,
        spec,
        options,
        wallMs,
        command: reproduceCommand(options, seed),
        title: `kafkasim run ${scenario.name}`,
      },
      io.chalk,
    ),
  );
  io.write(explanationText(explanation, null, io.chalk));
  return report.ok ? 0 : 1;
}

/** The explanation section of a report: a heading, the story, and what to do next if anything. */
export function explanationText(
  lines: readonly string[],
  next: { readonly label: string; readonly command: string } | null,
  chalk: ChalkInstance,
): string {
  if (lines.length === 0) return '';
  const body = lines.map((line) => (line === '' ? '' : `  ${line}`));
  const tail = next === null ? [] : ['', `  ${chalk.dim(next.label)}  ${chalk.bold(next.command)}`];
  return `\n${[
    chalk.bold(
      'explanation (how each lost record or metadata entry was lost, how an election broke, what healing did not bring back)',
    ),
    ...body,
    ...tail,
  ].join('\n')}\n`;
}

/**
 * DESIGN.md's `run --json` object, keys in its order. An allowed loss carries DESIGN's fields
 * (reason, topic, partition, offset, value: those the checker knows) and, like a violation, its
 * time and message.
 */
export function reportJson(report: ScenarioReport, wallMs: number): unknown {
  return {
    scenario: report.scenario,
    seed: report.seed,
    mode: report.mode,
    bugs: report.bugs,
    ok: report.ok,
    expected: { violations: report.expected.violations, allowed: report.expected.allowed },
    // Keys in DESIGN's order; those a checker leaves undefined are left out by JSON.stringify.
    violations: report.violations.map((violation) => ({
      invariant: violation.invariant,
      atMs: violation.atMs,
      topic: violation.topic,
      partition: violation.partition,
      offset: violation.offset,
      value: violation.value,
      nodes: violation.nodes,
      epoch: violation.epoch,
      committedAtMs: violation.committedAtMs,
      holders: violation.holders,
      heldInstead: violation.heldInstead,
      sinceMs: violation.sinceMs,
      message: violation.message,
    })),
    allowedLosses: report.allowedLosses.map((loss) => ({
      reason: loss.reason,
      atMs: loss.atMs,
      topic: loss.topic,
      partition: loss.partition,
      offset: loss.offset,
      value: loss.value,
      message: loss.message,
    })),
    // The lists above keep the first examples (5 a violated invariant, 100 allowed losses); these
    // count them all.
    counts: report.counts,
    allowedCounts: report.allowedCounts,
    stats: { events: report.stats.events, simulatedMs: report.stats.simulatedMs, wallMs },
    traceHash: report.traceHash,
  };
}

/** The command that runs exactly this again: `npx kafkasim run NAME --seed N --bug B --set k=v`. */
export function reproduceCommand(options: RunCommandOptions, seed: number): string {
  const words = ['run', options.target, '--seed', String(seed)];
  for (const bug of options.bugs) words.push('--bug', bug);
  for (const [key, value] of Object.entries(options.sets)) words.push('--set', `${key}=${value}`);
  return [KAFKASIM, ...words.map(shellWord)].join(' ');
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
