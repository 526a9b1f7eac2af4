// `kafkasim repro <seed>`: the scenario fuzz generated for that seed (same profile, same bugs),
// run exactly as fuzz ran it (the same traceHash), printed as `run` prints a report, then the
// story of every record a violation lost (scenarios/explain.ts). Exit 0 when every invariant held,
// 1 on a violation, 2 on bad input.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { ChalkInstance } from 'chalk';
import { explainViolations, StoryEvents } from '../scenarios/explain.ts';
import {
  FUZZ_PROFILES,
  type FuzzProfileName,
  generateScenario,
  isFuzzProfileName,
} from '../scenarios/generate.ts';
import { runScenario, type ScenarioReport, scenarioSpec } from '../scenarios/run.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import type { BugName } from '../sim/kafka/bugs.ts';
import { parseNonNegativeInteger, UsageError } from './errors.ts';
import { renderReport } from './report.ts';
import { parseBugs, type RunCommandOptions, type RunIo, reportJson } from './run.ts';
import { openTraceFile, type TraceFile } from './trace-file.ts';

export interface GenerationOptions {
  readonly seed: number;
  readonly profile: FuzzProfileName;
  readonly bugs: readonly BugName[];
}

export interface ReproOptions extends GenerationOptions {
  readonly json: boolean;
  readonly trace: string | undefined;
  readonly history: string | undefined;
}

/** What repro needs of the outside world: the same as run. */
export type ReproIo = RunIo;

/** `<seed> --profile --bug --mode`, checked; throws UsageError naming the bad one. */
export function parseGenerationOptions(
  seedText: string,
  raw: Readonly<Record<string, unknown>>,
): GenerationOptions {
  const mode = String(raw['mode'] ?? 'kraft');
  if (mode === 'zk' || mode === 'both')
    throw new UsageError('ZooKeeper mode is not built yet; use --mode kraft');
  if (mode !== 'kraft') throw new UsageError(`--mode must be kraft, zk or both (got "${mode}")`);
  const profile = String(raw['profile'] ?? 'small');
  if (!isFuzzProfileName(profile))
    throw new UsageError(`--profile must be ${FUZZ_PROFILES.join(', ')} (got "${profile}")`);
  const bugs = Array.isArray(raw['bug']) ? raw['bug'].map(String) : [];
  return {
    seed: parseNonNegativeInteger('<seed>', seedText),
    profile,
    bugs: parseBugs(bugs),
  };
}

export function parseReproOptions(
  seedText: string,
  raw: Readonly<Record<string, unknown>>,
): ReproOptions {
  return {
    ...parseGenerationOptions(seedText, raw),
    json: raw['json'] === true,
    trace: typeof raw['trace'] === 'string' ? raw['trace'] : undefined,
    history: typeof raw['history'] === 'string' ? raw['history'] : undefined,
  };
}

/** The flags that give the same scenario and run: `--profile P --bug B`. */
export function generationFlags(options: GenerationOptions): string[] {
  const words = ['--profile', options.profile];
  for (const bug of options.bugs) words.push('--bug', bug);
  return words;
}

function openOutput(what: string, path: string): number {
  try {
    return openSync(path, 'w');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(`cannot write the ${what} to ${path}: ${code}`);
  }
}

/** Runs the seed's scenario with a story collector beside the trace file; returns the exit code. */
export function reproCommand(options: ReproOptions, io: ReproIo): number {
  const scenario: Scenario = generateScenario(options.seed, options.profile);
  const runOptions = { seed: options.seed, bugs: options.bugs, sets: {}, verbose: false };
  const { spec } = scenarioSpec(scenario, runOptions);
  const historyFd =
    options.history === undefined ? undefined : openOutput('history', options.history);
  const story = new StoryEvents();
  let traceFile: TraceFile | undefined;
  let report: ScenarioReport;
  let wallMs: number;
  try {
    traceFile = options.trace === undefined ? undefined : openTraceFile(options.trace, 'jsonl');
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
    if (historyFd !== undefined) writeSync(historyFd, report.history.toJsonLines());
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
  });
  const command = ['kafkasim', 'repro', String(options.seed), ...generationFlags(options)].join(
    ' ',
  );
  if (options.json) {
    const json = reportJson(report, wallMs) as Record<string, unknown>;
    io.write(`${JSON.stringify({ ...json, profile: options.profile, explanation })}\n`);
    return report.ok ? 0 : 1;
  }
  const runOptionsShown: RunCommandOptions = {
    target: scenario.name,
    seed: options.seed,
    bugs: options.bugs,
    sets: {},
    json: false,
    verbose: false,
    trace: options.trace,
    traceFormat: 'jsonl',
    history: options.history,
  };
  io.write(
    renderReport({ report, scenario, spec, options: runOptionsShown, wallMs, command }, io.chalk),
  );
  io.write(explanationText(explanation, options, io.chalk));
  return report.ok ? 0 : 1;
}

function explanationText(
  lines: readonly string[],
  options: GenerationOptions,
  chalk: ChalkInstance,
): string {
  if (lines.length === 0) return '';
  const shrink = ['kafkasim', 'shrink', String(options.seed), ...generationFlags(options)].join(
    ' ',
  );
  const body = lines.map((line) => (line === '' ? '' : `  ${line}`));
  return `\n${[
    chalk.bold(
      'explanation (how each lost record or metadata entry was lost, how an election broke)',
    ),
    ...body,
    '',
    `  ${chalk.dim('shrink it')}  ${chalk.bold(shrink)}`,
  ].join('\n')}\n`;
}
