// `kafkasim fuzz`: runs many generated seeds (scenarios/generate.ts) with every checker on, over
// worker threads, and reports the failures with the command that reproduces each one.
//
// Seeds are handed out one at a time, in increasing order. Without --keep-going the campaign stops
// at the first failure: no seed above it is handed out, workers busy with a higher seed are
// stopped, and those busy with a lower one finish (they may fail too). The report then holds the
// lowest failing seed of the whole range and every seed below it, whatever the number of workers,
// so the same flags always give the same report (wall-clock figures aside).

import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ChalkInstance } from 'chalk';
import cliProgress from 'cli-progress';
import {
  FUZZ_PROFILES,
  type FuzzProfileName,
  generateScenario,
  isFuzzProfileName,
} from '../scenarios/generate.ts';
import { scenarioToJson } from '../scenarios/json.ts';
import { scenariosShowing } from '../scenarios/registry.ts';
import { runScenario } from '../scenarios/run.ts';
import { unknownName } from '../scenarios/suggest.ts';
import { BUG_SWITCHES, type BugName } from '../sim/kafka/bugs.ts';
import { KAFKASIM } from './commands.ts';
import {
  MODE_BOTH_WARNING,
  onFile,
  parseNonNegativeInteger,
  parsePositiveInteger,
  UsageError,
} from './errors.ts';
import { parseBugs } from './run.ts';
import { openTraceFile } from './trace-file.ts';

/** The invariant a --check-determinism mismatch reports. */
export const NONDETERMINISM = 'nondeterminism';
/** The most seeds one campaign runs. */
const SEEDS_MAX = 10_000_000;
/** The invariant a seed reports when the run itself throws (a protocol assertion, a bound). */
export const THREW = 'run-threw';

const SEED_MAX = 2 ** 31 - 1;
const JOBS_MAX = 256;

export interface Shard {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
}

export interface FuzzOptions {
  readonly seeds: number;
  readonly startSeed: number;
  readonly jobs: number;
  readonly profile: FuzzProfileName;
  readonly bugs: readonly BugName[];
  readonly shard: Shard | undefined;
  readonly keepGoing: boolean;
  readonly json: boolean;
  readonly out: string | undefined;
  readonly checkDeterminism: boolean;
  /** `--mode both`: only KRaft is built, so the campaign runs KRaft and says so. */
  readonly modeBoth: boolean;
}

/** What a worker (or the main thread) runs: the seeds to try and how. */
export interface FuzzPlan {
  /** In increasing order. */
  readonly seeds: readonly number[];
  readonly profile: FuzzProfileName;
  readonly bugs: readonly BugName[];
  readonly checkDeterminism: boolean;
  readonly keepGoing: boolean;
  /** Stop only at a failure of this invariant (others are still collected); for the bug zoo. */
  readonly stopOn?: string;
}

/** One seed's result, plain data (it crosses the worker boundary). */
export interface SeedOutcome {
  readonly seed: number;
  /** Broken invariants, in the order they first broke; empty when the seed passed. */
  readonly invariants: readonly string[];
  readonly counts: Readonly<Record<string, number>>;
  readonly message?: string;
  readonly events: number;
  readonly simulatedMs: number;
  readonly traceHash: string;
}

export interface FuzzOutcome {
  /** The seeds reported on, in increasing order (without --keep-going: up to the first failure). */
  readonly seedsRun: readonly number[];
  readonly failures: readonly SeedOutcome[];
  readonly events: number;
  readonly simulatedMs: number;
  /** Stopped at a failure before the end of the range. */
  readonly stoppedEarly: boolean;
}

export interface FuzzHooks {
  /** After each seed: seeds done so far and failures found so far. */
  readonly onProgress?: (done: number, failures: number) => void;
}

// ---- options --------------------------------------------------------------------------------

/** The options as commander hands them over, checked; throws UsageError naming the bad one. */
export function parseFuzzOptions(raw: Readonly<Record<string, unknown>>): FuzzOptions {
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
  const seeds = parsePositiveInteger('--seeds', String(raw['seeds'] ?? '100'));
  // The campaign lists its seeds up front: a longer one runs in parts, each from its --start-seed.
  if (seeds > SEEDS_MAX)
    throw new UsageError(
      `--seeds must be at most ${SEEDS_MAX} a campaign (got ${seeds}): run a longer one in parts, each with its --start-seed`,
    );
  const startSeed = parseNonNegativeInteger('--start-seed', String(raw['startSeed'] ?? '1'));
  if (startSeed + seeds - 1 > SEED_MAX)
    throw new UsageError(
      `the last seed must be at most ${SEED_MAX} (got ${startSeed + seeds - 1})`,
    );
  const jobs =
    raw['jobs'] === undefined
      ? availableParallelism()
      : parsePositiveInteger('--jobs', String(raw['jobs']));
  if (jobs > JOBS_MAX) throw new UsageError(`--jobs must be at most ${JOBS_MAX} (got ${jobs})`);
  const out = typeof raw['out'] === 'string' ? raw['out'] : undefined;
  return {
    seeds,
    startSeed,
    jobs,
    profile,
    bugs: parseBugs(Array.isArray(raw['bug']) ? raw['bug'].map(String) : []),
    shard: raw['shard'] === undefined ? undefined : parseShard(String(raw['shard'])),
    keepGoing: raw['keepGoing'] === true,
    json: raw['json'] === true,
    out,
    checkDeterminism: raw['checkDeterminism'] === true,
    modeBoth: mode === 'both',
  };
}

/** `K/N` with 1 ≤ K ≤ N. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (match === null) throw new UsageError(`--shard must be K/N, as in 1/4 (got "${text}")`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index < 1 || index > count)
    throw new UsageError(`--shard K/N needs 1 ≤ K ≤ N (got ${text})`);
  return { index, count };
}

/** The seeds of the range start..start+seeds-1 that a shard takes: index % N == K-1. */
export function shardSeeds(startSeed: number, seeds: number, shard: Shard | undefined): number[] {
  const chosen: number[] = [];
  for (let index = 0; index < seeds; index++) {
    if (shard === undefined || index % shard.count === shard.index - 1)
      chosen.push(startSeed + index);
  }
  return chosen;
}

// ---- one seed -------------------------------------------------------------------------------

/** Generates and runs one seed (twice with checkDeterminism); never throws. */
export function runSeed(
  seed: number,
  plan: Pick<FuzzPlan, 'profile' | 'bugs' | 'checkDeterminism'>,
): SeedOutcome {
  try {
    const scenario = generateScenario(seed, plan.profile);
    // Only the verdict, the counts and the trace hash are kept: no timeline.
    const options = { seed, bugs: plan.bugs, sets: {}, timeline: false };
    const report = runScenario(scenario, options);
    const invariants = Object.keys(report.counts);
    const counts: Record<string, number> = { ...report.counts };
    let message: string | undefined;
    if (!report.ok && invariants.length === 0) {
      invariants.push('unexpected-outcome');
      counts['unexpected-outcome'] = 1;
      message = report.verdict.join('; ');
    }
    if (plan.checkDeterminism) {
      const again = runScenario(scenario, options);
      if (again.traceHash !== report.traceHash) {
        invariants.push(NONDETERMINISM);
        counts[NONDETERMINISM] = 1;
        message = `trace hashes differ: ${report.traceHash} then ${again.traceHash}`;
      }
    }
    return {
      seed,
      invariants,
      counts,
      ...(message === undefined ? {} : { message }),
      events: report.stats.events,
      simulatedMs: report.stats.simulatedMs,
      traceHash: report.traceHash,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      seed,
      invariants: [THREW],
      counts: { [THREW]: 1 },
      message,
      events: 0,
      simulatedMs: 0,
      traceHash: '',
    };
  }
}

// ---- the campaign ---------------------------------------------------------------------------

/** Collects seed outcomes in any order and decides when to stop (see the file's header). */
class Tally {
  private readonly outcomes = new Map<number, SeedOutcome>();
  /** The lowest seed whose failure stops the campaign; undefined while none. */
  stopSeed: number | undefined;
  failuresFound = 0;

  constructor(private readonly plan: FuzzPlan) {}

  record(outcome: SeedOutcome): void {
    this.outcomes.set(outcome.seed, outcome);
    if (outcome.invariants.length > 0) this.failuresFound++;
    if (this.plan.keepGoing || !this.stops(outcome)) return;
    if (this.stopSeed === undefined || outcome.seed < this.stopSeed) this.stopSeed = outcome.seed;
  }

  get done(): number {
    return this.outcomes.size;
  }

  /** Whether a seed still matters: below the stopping failure, or no stop yet. */
  wanted(seed: number): boolean {
    return this.stopSeed === undefined || seed < this.stopSeed;
  }

  outcome(): FuzzOutcome {
    const reported = [...this.outcomes.values()]
      .filter((each) => this.stopSeed === undefined || each.seed <= this.stopSeed)
      .sort((a, b) => a.seed - b.seed);
    const last = this.plan.seeds[this.plan.seeds.length - 1];
    return {
      seedsRun: reported.map((each) => each.seed),
      failures: reported.filter((each) => each.invariants.length > 0),
      events: reported.reduce((sum, each) => sum + each.events, 0),
      simulatedMs: reported.reduce((sum, each) => sum + each.simulatedMs, 0),
      stoppedEarly: this.stopSeed !== undefined && this.stopSeed !== last,
    };
  }

  private stops(outcome: SeedOutcome): boolean {
    if (this.plan.stopOn === undefined) return outcome.invariants.length > 0;
    return outcome.invariants.includes(this.plan.stopOn);
  }
}

/** Runs the plan in this thread, seed after seed. */
export function fuzzInProcess(plan: FuzzPlan, hooks: FuzzHooks = {}): FuzzOutcome {
  const tally = new Tally(plan);
  for (const seed of plan.seeds) {
    if (!tally.wanted(seed)) break;
    tally.record(runSeed(seed, plan));
    hooks.onProgress?.(tally.done, tally.failuresFound);
  }
  return tally.outcome();
}

const WORKER_ENTRY = new URL('./fuzz-worker.mjs', import.meta.url);

/** Runs the plan over `jobs` worker threads (jobs 1: in this thread). */
export function fuzzSeeds(
  plan: FuzzPlan,
  jobs: number,
  hooks: FuzzHooks = {},
): Promise<FuzzOutcome> {
  const workerCount = Math.min(jobs, plan.seeds.length);
  if (workerCount <= 1) return Promise.resolve(fuzzInProcess(plan, hooks));
  return new Promise((resolve, reject) => {
    const tally = new Tally(plan);
    let next = 0;
    let live = 0;
    let failed = false;
    const busy = new Map<Worker, number>();
    const finish = (worker: Worker): void => {
      busy.delete(worker);
      void worker.terminate();
      live--;
      if (live === 0 && !failed) resolve(tally.outcome());
    };
    const feed = (worker: Worker): void => {
      const seed = plan.seeds[next];
      if (seed === undefined || !tally.wanted(seed)) {
        finish(worker);
        return;
      }
      next++;
      busy.set(worker, seed);
      worker.postMessage(seed);
    };
    /** A stopping failure: workers busy with a seed above it are stopped. */
    const prune = (): void => {
      for (const [worker, seed] of [...busy]) if (!tally.wanted(seed)) finish(worker);
    };
    for (let index = 0; index < workerCount; index++) {
      const worker = new Worker(WORKER_ENTRY, {
        workerData: {
          profile: plan.profile,
          bugs: plan.bugs,
          checkDeterminism: plan.checkDeterminism,
        },
      });
      live++;
      worker.on('message', (outcome: SeedOutcome) => {
        if (!busy.has(worker)) return;
        tally.record(outcome);
        hooks.onProgress?.(tally.done, tally.failuresFound);
        prune();
        if (busy.has(worker)) feed(worker);
      });
      worker.on('error', (error) => {
        if (failed) return;
        failed = true;
        for (const each of busy.keys()) void each.terminate();
        reject(error);
      });
      feed(worker);
    }
  });
}

// ---- the command ----------------------------------------------------------------------------

export interface FuzzIo {
  readonly chalk: ChalkInstance;
  readonly write: (text: string) => void;
  readonly warn: (line: string) => void;
  /** Wall-clock milliseconds (only for reporting speed). */
  readonly wallNowMs: () => number;
  /** Where the progress bar goes; undefined: no bar. */
  readonly progressStream: NodeJS.WritableStream | undefined;
}

/**
 * Runs the campaign and prints its report; resolves to the exit code (0 nothing found, 1 found).
 * A bad --out directory throws a UsageError at once, before the promise.
 */
export function fuzzCommand(options: FuzzOptions, io: FuzzIo): Promise<number> {
  if (options.out !== undefined) makeOutDir(options.out);
  if (options.modeBoth) io.warn(MODE_BOTH_WARNING);
  return runCampaign(options, io);
}

async function runCampaign(options: FuzzOptions, io: FuzzIo): Promise<number> {
  const seeds = shardSeeds(options.startSeed, options.seeds, options.shard);
  if (seeds.length === 0 && options.shard !== undefined)
    throw new UsageError(
      `--shard ${options.shard.index}/${options.shard.count} of ${options.seeds} seed${options.seeds === 1 ? '' : 's'} takes none: the range needs at least ${options.shard.index} seeds`,
    );
  const plan: FuzzPlan = {
    seeds,
    profile: options.profile,
    bugs: options.bugs,
    checkDeterminism: options.checkDeterminism,
    keepGoing: options.keepGoing,
  };
  if (!options.json) io.write(`${header(options, plan, io.chalk)}\n`);
  const bar = options.json ? undefined : startBar(io.progressStream, plan.seeds.length, io);
  const startMs = io.wallNowMs();
  let outcome: FuzzOutcome;
  try {
    outcome = await fuzzSeeds(plan, options.jobs, bar?.hooks);
  } finally {
    bar?.stop();
  }
  const wallMs = Math.max(1, Math.round(io.wallNowMs() - startMs));
  const written =
    options.out === undefined ? new Map() : writeFailures(options.out, outcome.failures, plan);
  if (options.json)
    io.write(`${JSON.stringify(fuzzJson(options, plan, outcome, wallMs, written))}\n`);
  else io.write(renderSummary({ options, plan, outcome, wallMs, written }, io.chalk));
  return outcome.failures.length === 0 ? 0 : 1;
}

function makeOutDir(out: string): void {
  onFile('create the --out directory', out, () => makeDirectories(out));
}

/**
 * `mkdir -p`, a directory at a time from the first one missing. Node 20's recursive mkdirSync
 * never returns for a path under /proc (the kernel answers ENOENT for a parent that exists, and
 * Node tries again); one level at a time that answer is an error like any other.
 */
function makeDirectories(path: string): void {
  const missing: string[] = [];
  for (let current = resolve(path); !existsSync(current); current = dirname(current)) {
    missing.push(current);
    if (dirname(current) === current) break;
  }
  // Nothing missing: a directory already, or mkdir says why not (EEXIST for a file).
  if (missing.length === 0 && !statSync(path).isDirectory()) mkdirSync(path);
  for (let index = missing.length - 1; index >= 0; index--) mkdirSync(missing[index] as string);
}

interface Bar {
  readonly hooks: FuzzHooks;
  stop(): void;
}

/** The progress bar (cli-progress), only on a terminal. */
function startBar(
  stream: NodeJS.WritableStream | undefined,
  total: number,
  io: FuzzIo,
): Bar | undefined {
  if (stream === undefined) return undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        'fuzz [{bar}] {value}/{total} seeds | {speed} seeds/s | {failures} failures | {duration_formatted}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const startMs = io.wallNowMs();
  bar.start(total, 0, { speed: '0.0', failures: 0 });
  return {
    hooks: {
      onProgress: (done, failures) => {
        const seconds = Math.max(0.001, (io.wallNowMs() - startMs) / 1000);
        bar.update(done, { speed: (done / seconds).toFixed(1), failures });
      },
    },
    stop: () => bar.stop(),
  };
}

/** `npx kafkasim repro SEED --profile P --bug B...` (or `shrink` with the same flags). */
export function reproLine(
  seed: number,
  profile: FuzzProfileName,
  bugs: readonly BugName[],
  command: 'repro' | 'shrink' = 'repro',
): string {
  return [
    KAFKASIM,
    command,
    String(seed),
    '--profile',
    profile,
    ...bugs.flatMap((bug) => ['--bug', bug]),
  ].join(' ');
}

/** `npx kafkasim run FILE --seed S --bug B...`: a scenario file --out wrote, replayed. */
function replayLine(file: string, seed: number, bugs: readonly BugName[]): string {
  return [
    KAFKASIM,
    'run',
    file,
    '--seed',
    String(seed),
    ...bugs.flatMap((bug) => ['--bug', bug]),
  ].join(' ');
}

/** Writes DIR/seed-S.json and DIR/seed-S.trace.jsonl for each failing seed; returns the paths. */
function writeFailures(
  out: string,
  failures: readonly SeedOutcome[],
  plan: FuzzPlan,
): Map<number, readonly string[]> {
  const written = new Map<number, readonly string[]>();
  for (const failure of failures) {
    const scenario = generateScenario(failure.seed, plan.profile);
    const scenarioPath = join(out, `seed-${failure.seed}.json`);
    onFile('write the scenario to', scenarioPath, () =>
      writeFileSync(scenarioPath, scenarioToJson(scenario)),
    );
    const tracePath = join(out, `seed-${failure.seed}.trace.jsonl`);
    const traceFile = openTraceFile(tracePath, 'jsonl');
    try {
      runScenario(scenario, {
        seed: failure.seed,
        bugs: plan.bugs,
        sets: {},
        traceSink: traceFile.sink,
      });
    } catch {
      // The run threw again (the failure itself): the trace up to that point is what there is.
    } finally {
      traceFile.close();
    }
    written.set(failure.seed, [scenarioPath, tracePath]);
  }
  return written;
}

// ---- rendering ------------------------------------------------------------------------------

function header(options: FuzzOptions, plan: FuzzPlan, chalk: ChalkInstance): string {
  const last = options.startSeed + options.seeds - 1;
  const shard =
    options.shard === undefined ? '' : `, shard ${options.shard.index}/${options.shard.count}`;
  const bugs = options.bugs.length === 0 ? 'none' : options.bugs.join(', ');
  return `${chalk.bold('kafkasim fuzz')}: seeds ${options.startSeed}..${last}${shard} (${plan.seeds.length} to run), profile ${options.profile}, mode kraft, bugs ${bugs}, jobs ${options.jobs}${options.checkDeterminism ? ', checking determinism' : ''}${options.keepGoing ? ', keep going' : ', stop at the first failure'}`;
}

interface SummaryInput {
  readonly options: FuzzOptions;
  readonly plan: FuzzPlan;
  readonly outcome: FuzzOutcome;
  readonly wallMs: number;
  readonly written: ReadonlyMap<number, readonly string[]>;
}

function renderSummary(input: SummaryInput, chalk: ChalkInstance): string {
  const { options, outcome, wallMs } = input;
  const lines: string[] = [];
  for (const failure of outcome.failures) {
    const broken = failure.invariants.map((each) => `${each} (${failure.counts[each] ?? 1}×)`);
    lines.push(`${chalk.red.bold('FAIL')} seed ${failure.seed}: ${broken.join(', ')}`);
    if (failure.message !== undefined) lines.push(`  ${failure.message}`);
    lines.push(`  repro: ${chalk.bold(reproLine(failure.seed, options.profile, options.bugs))}`);
    lines.push(`  shrink: ${reproLine(failure.seed, options.profile, options.bugs, 'shrink')}`);
    const paths = input.written.get(failure.seed);
    if (paths !== undefined) {
      lines.push(`  wrote ${paths.join(' and ')}`);
      lines.push(`  replay: ${replayLine(paths[0] ?? '', failure.seed, options.bugs)}`);
    }
  }
  const count = outcome.seedsRun.length;
  const rate = (count / (wallMs / 1000)).toFixed(1);
  const found = outcome.failures.length;
  const checked = options.checkDeterminism ? ', every seed run twice with the same trace hash' : '';
  const verdict =
    found === 0
      ? chalk.green(`no failures${checked}`)
      : chalk.red(`${found} failing seed${found === 1 ? '' : 's'}`);
  lines.push(
    `${count} seed${count === 1 ? '' : 's'} run in ${(wallMs / 1000).toFixed(1)} s (${rate} seeds/s, jobs ${options.jobs}): ${verdict}`,
  );
  if (outcome.stoppedEarly)
    lines.push('stopped at the lowest failing seed (--keep-going runs the whole range)');
  for (const [invariant, seeds] of byInvariant(outcome.failures))
    lines.push(`  ${invariant}: seed${seeds.length === 1 ? '' : 's'} ${seeds.join(', ')}`);
  lines.push(...expectedLines(options.bugs, outcome.failures));
  return `${lines.join('\n')}\n`;
}

/** `, and npx kafkasim run NAME --bug B shows it step by step`, when a named scenario does. */
function showingText(bug: BugName): string {
  const name = scenariosShowing(bug)[0];
  return name === undefined ? '' : `, ${KAFKASIM} run ${name} --bug ${bug} shows it step by step`;
}

/**
 * With a bug switch on, which failures it was meant to cause: a campaign that brings a historical
 * bug back is expected to fail (shrink says whether the seed passes without it).
 */
function expectedLines(bugs: readonly BugName[], failures: readonly SeedOutcome[]): string[] {
  if (bugs.length === 0 || failures.length === 0) return [];
  const lines: string[] = [];
  for (const bug of BUG_SWITCHES.filter((each) => bugs.includes(each.name))) {
    const found = failures.filter((failure) => failure.invariants.includes(bug.breaks)).length;
    const which =
      found === failures.length
        ? found === 1
          ? 'the failing seed breaks it'
          : `all ${found} failing seeds break it`
        : `${found} of the ${failures.length} failing seeds break it`;
    // What else the failing seeds broke: most often what follows from the switch's invariant.
    const others = [
      ...new Set(
        failures.flatMap((failure) => failure.invariants).filter((each) => each !== bug.breaks),
      ),
    ];
    const also =
      others.length === 0
        ? ''
        : ` (${failures.length === 1 ? 'it also breaks' : 'they also break'} ${others.join(', ')})`;
    lines.push(
      found > 0
        ? `as expected: --bug ${bug.name} brings back a historical bug that breaks ${bug.breaks} (${bug.source}); ${which}${also}. The exit code is 1 because seeds failed; kafkasim bugs tells the bug${showingText(bug.name)}, and shrink says whether a seed passes without it`
        : `--bug ${bug.name} is meant to break ${bug.breaks}, which no failing seed here breaks: the failures above are not the ones it brings back`,
    );
  }
  return lines;
}

/** Failing seeds grouped by invariant, invariants in order of their first (lowest) seed. */
export function byInvariant(failures: readonly SeedOutcome[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const failure of failures) {
    for (const invariant of failure.invariants) {
      const seeds = groups.get(invariant) ?? [];
      seeds.push(failure.seed);
      groups.set(invariant, seeds);
    }
  }
  return groups;
}

/** Consecutive runs of an arithmetic progression: [1,3,5,9] → from 1 to 5 step 2, then 9. */
export function seedRanges(seeds: readonly number[]): { from: number; to: number; step: number }[] {
  const ranges: { from: number; to: number; step: number }[] = [];
  for (const seed of seeds) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.from === last.to) {
      last.to = seed;
      last.step = seed - last.from;
    } else if (last !== undefined && seed - last.to === last.step) last.to = seed;
    else ranges.push({ from: seed, to: seed, step: 1 });
  }
  return ranges;
}

/**
 * DESIGN.md's `fuzz --json` object: one failure entry per failing seed and broken invariant (with
 * --out, the files written for its seed and the command that replays them).
 */
export function fuzzJson(
  options: FuzzOptions,
  plan: FuzzPlan,
  outcome: FuzzOutcome,
  wallMs: number,
  written: ReadonlyMap<number, readonly string[]> = new Map(),
): unknown {
  const repro = (seed: number) => reproLine(seed, options.profile, options.bugs);
  return {
    seeds: outcome.seedsRun.length,
    failures: outcome.failures.flatMap((failure) => {
      const [scenario, trace] = written.get(failure.seed) ?? [];
      return failure.invariants.map((invariant) => ({
        seed: failure.seed,
        mode: 'kraft',
        invariant,
        count: failure.counts[invariant] ?? 1,
        ...(failure.message === undefined ? {} : { message: failure.message }),
        repro: repro(failure.seed),
        ...(scenario === undefined
          ? {}
          : {
              scenarioFile: scenario,
              traceFile: trace,
              replay: replayLine(scenario, failure.seed, options.bugs),
            }),
      }));
    }),
    stats: {
      failingSeeds: outcome.failures.length,
      checkDeterminism: options.checkDeterminism,
      profile: options.profile,
      bugs: options.bugs,
      startSeed: options.startSeed,
      seedsPlanned: plan.seeds.length,
      shard: options.shard === undefined ? null : `${options.shard.index}/${options.shard.count}`,
      seedRanges: seedRanges(outcome.seedsRun),
      stoppedEarly: outcome.stoppedEarly,
      jobs: options.jobs,
      events: outcome.events,
      simulatedMs: outcome.simulatedMs,
      wallMs,
      seedsPerSecond: Number((outcome.seedsRun.length / (wallMs / 1000)).toFixed(2)),
    },
  };
}
