// `kafkasim repro <seed>`: the scenario fuzz generated for that seed (same profile, same bugs),
// run exactly as fuzz ran it (the same traceHash), printed as `run` prints a report, then the
// story of every record a violation lost (scenarios/explain.ts). Exit 0 when every invariant held,
// 1 on a violation, 2 on bad input.

import {
  FUZZ_PROFILES,
  type FuzzProfileName,
  generateScenario,
  isFuzzProfileName,
} from '../scenarios/generate.ts';
import { scenarioSpec } from '../scenarios/run.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { unknownName } from '../scenarios/suggest.ts';
import type { BugName } from '../sim/kafka/bugs.ts';
import { KAFKASIM } from './commands.ts';
import { MODE_BOTH_WARNING, parseNonNegativeInteger, UsageError } from './errors.ts';
import { renderReport } from './report.ts';
import {
  checkOutputs,
  explanationText,
  parseBugs,
  type RunCommandOptions,
  type RunIo,
  reportJson,
  runExplained,
} from './run.ts';
import { parseTraceOptions, type TraceFormat } from './trace-file.ts';

export interface GenerationOptions {
  readonly seed: number;
  readonly profile: FuzzProfileName;
  readonly bugs: readonly BugName[];
  /** `--mode both`: as in fuzz, only KRaft is built, so KRaft runs and a warning says so. */
  readonly modeBoth?: boolean;
}

export interface ReproOptions extends GenerationOptions {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly trace: string | undefined;
  readonly traceFormat: TraceFormat;
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
  if (mode === 'zk') throw new UsageError('ZooKeeper mode is not built yet; use --mode kraft');
  if (mode !== 'kraft' && mode !== 'both')
    throw new UsageError(
      `--mode: ${unknownName('mode', mode, ['kraft', 'zk', 'both'], 'kraft, zk or both')}`,
    );
  const profile = String(raw['profile'] ?? 'small');
  if (!isFuzzProfileName(profile))
    throw new UsageError(
      `--profile: ${unknownName('profile', profile, FUZZ_PROFILES, FUZZ_PROFILES.join(', '))}`,
    );
  const bugs = Array.isArray(raw['bug']) ? raw['bug'].map(String) : [];
  return {
    seed: parseNonNegativeInteger('<seed>', seedText),
    profile,
    bugs: parseBugs(bugs),
    modeBoth: mode === 'both',
  };
}

export function parseReproOptions(
  seedText: string,
  raw: Readonly<Record<string, unknown>>,
): ReproOptions {
  return {
    ...parseGenerationOptions(seedText, raw),
    json: raw['json'] === true,
    verbose: raw['verbose'] === true,
    ...parseTraceOptions(raw),
    history: typeof raw['history'] === 'string' ? raw['history'] : undefined,
  };
}

/** The flags that give the same scenario and run: `--profile P --bug B`. */
export function generationFlags(options: GenerationOptions): string[] {
  const words = ['--profile', options.profile];
  for (const bug of options.bugs) words.push('--bug', bug);
  return words;
}

/** Runs the seed's scenario with a story collector beside the trace file; returns the exit code. */
export function reproCommand(options: ReproOptions, io: ReproIo): number {
  if (options.modeBoth === true) io.warn(MODE_BOTH_WARNING);
  const scenario: Scenario = generateScenario(options.seed, options.profile);
  const runOptions = {
    seed: options.seed,
    bugs: options.bugs,
    sets: {},
    verbose: options.verbose,
  };
  const { spec } = scenarioSpec(scenario, runOptions);
  checkOutputs(options);
  const { report, explanation, wallMs } = runExplained(
    scenario,
    runOptions,
    { trace: options.trace, traceFormat: options.traceFormat, history: options.history },
    io,
  );
  if (options.json) {
    const json = reportJson(report, wallMs) as Record<string, unknown>;
    io.write(`${JSON.stringify({ ...json, profile: options.profile, explanation })}\n`);
    return report.ok ? 0 : 1;
  }
  const words = ['repro', String(options.seed), ...generationFlags(options)].join(' ');
  const title = `kafkasim ${words}`;
  const command = `${KAFKASIM} ${words}`;
  const runOptionsShown: RunCommandOptions = {
    target: scenario.name,
    seed: options.seed,
    bugs: options.bugs,
    sets: {},
    json: false,
    verbose: options.verbose,
    trace: options.trace,
    traceFormat: options.traceFormat,
    history: options.history,
  };
  io.write(
    renderReport(
      { report, scenario, spec, options: runOptionsShown, wallMs, command, title },
      io.chalk,
    ),
  );
  const shrink = [KAFKASIM, 'shrink', String(options.seed), ...generationFlags(options)].join(' ');
  io.write(explanationText(explanation, { label: 'shrink it', command: shrink }, io.chalk));
  return report.ok ? 0 : 1;
}
