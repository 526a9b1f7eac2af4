// `kafkasim shrink <seed>`: the seed's generated scenario, cut down (scenarios/shrink.ts) while the
// first invariant it breaks still breaks; writes the smaller scenario as JSON that `kafkasim run`
// replays, and prints how much smaller it got and the command that replays it.

import { writeFileSync } from 'node:fs';
import type { ChalkInstance } from 'chalk';
import { listed } from '../scenarios/explain-common.ts';
import { FUZZ_EXPECTATION, generateScenario } from '../scenarios/generate.ts';
import { scenarioToJson } from '../scenarios/json.ts';
import { runScenario } from '../scenarios/run.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import {
  type ScenarioSize,
  SHRINK_RUNS_MAX,
  type ShrinkResult,
  shrinkScenario,
} from '../scenarios/shrink.ts';
import { BUG_SWITCHES } from '../sim/kafka/bugs.ts';
import { formatMs } from '../sim/kernel/time.ts';
import { KAFKASIM } from './commands.ts';
import { MODE_BOTH_WARNING, onFile, parsePositiveInteger, UsageError } from './errors.ts';
import { type GenerationOptions, generationFlags, parseGenerationOptions } from './repro.ts';

const LABEL_WIDTH = 13;

export interface ShrinkCommandOptions extends GenerationOptions {
  readonly out: string;
  readonly runsMax: number;
}

export interface ShrinkIo {
  readonly chalk: ChalkInstance;
  readonly write: (text: string) => void;
  readonly warn: (line: string) => void;
  readonly wallNowMs: () => number;
}

export function parseShrinkOptions(
  seedText: string,
  raw: Readonly<Record<string, unknown>>,
): ShrinkCommandOptions {
  const generation = parseGenerationOptions(seedText, raw);
  return {
    ...generation,
    out: typeof raw['out'] === 'string' ? raw['out'] : `shrunk-seed-${generation.seed}.json`,
    runsMax:
      raw['runsMax'] === undefined
        ? SHRINK_RUNS_MAX
        : parsePositiveInteger('--runs-max', String(raw['runsMax'])),
  };
}

/**
 * The shrunk scenario as a file states it: its name and description say where it came from; with
 * exactly one bug it demonstrates the invariants that bug breaks (so `run FILE --bug B` exits 0),
 * and `expect` is what a run without bugs shows (so `run FILE` exits 0 too).
 */
function shrunkScenario(
  result: ShrinkResult,
  options: ShrinkCommandOptions,
  withoutBugs: readonly string[],
  invariant: string,
): Scenario {
  const broken = Object.keys(result.report.counts);
  const bug = options.bugs.length === 1 ? options.bugs[0] : undefined;
  const flags = generationFlags(options).join(' ');
  return {
    ...result.scenario,
    name: `${result.scenario.name}-shrunk`,
    summary: `Seed ${options.seed} shrunk: ${result.stepsAfter} step(s) break ${broken.join(', ')}${options.bugs.length === 0 ? '' : ` with --bug ${options.bugs.join(', ')}`}`,
    // The generated description's last sentence (every invariant must hold) is not this file's:
    // it says what it breaks instead.
    description: `Shrunk by kafkasim shrink ${options.seed} ${flags} from ${result.stepsBefore} steps and a ${formatMs(result.faultPhaseMsBefore)} fault phase to ${result.stepsAfter} step(s) and ${formatMs(result.faultPhaseMsAfter)}${sameSize(result.sizeBefore, result.sizeAfter) ? '' : `, and from ${sizeText(result.sizeBefore)} to ${sizeText(result.sizeAfter)}`}.${result.needed.length === 0 ? '' : ` Kept because without ${result.needed.length === 1 ? 'it' : 'each'} the run no longer broke ${invariant}: ${listed(result.needed)} (part of the failure, or of its timing).`} It records its seed (${options.seed}), which \`kafkasim run\` takes when no --seed is given; replayed${options.bugs.length === 0 ? '' : ` with --bug ${options.bugs.join(' --bug ')}`}, it breaks ${broken.join(', ')}${withoutBugs.length === 0 ? '' : `, and without the bug ${withoutBugs.join(', ')}`}. ${result.scenario.description.replace(` ${FUZZ_EXPECTATION}`, '')}`,
    expect: { violations: withoutBugs, allowed: [] },
    demonstrates: bug === undefined ? [] : [{ bug, violations: broken, allowed: [] }],
  };
}

/** A timeline step on one line: `8.000s partition groups=@replica-1 | @replica-0 mode=silent`. */
function stepLine(step: Scenario['timeline'][number]): string {
  const { atMs, kind, ...fields } = step;
  const words = Object.entries(fields).map(([key, value]) => {
    // A list of nodes as `a,b`; a partition's groups as `a,b | c`.
    const shown = !Array.isArray(value)
      ? String(value)
      : value.some(Array.isArray)
        ? value.map((group) => (Array.isArray(group) ? group.join(',') : String(group))).join(' | ')
        : value.join(',');
    return `${key}=${shown}`;
  });
  return [formatMs(atMs), kind, ...words].join(' ');
}

function sameSize(a: ScenarioSize, b: ScenarioSize): boolean {
  return (Object.keys(a) as (keyof ScenarioSize)[]).every((key) => a[key] === b[key]);
}

/** `3 controllers, 5 brokers, 3 topics (7 partitions), 4 producers, 2 consumers, 1 setting`. */
function sizeText(size: ScenarioSize): string {
  const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  return [
    count(size.controllers, 'controller'),
    count(size.brokers, 'broker'),
    `${count(size.topics, 'topic')} (${count(size.partitions, 'partition')})`,
    count(size.producers, 'producer'),
    count(size.consumers, 'consumer'),
    count(size.settings, 'setting'),
  ].join(', ');
}

export function shrinkCommand(options: ShrinkCommandOptions, io: ShrinkIo): number {
  const { chalk } = io;
  if (options.modeBoth === true) io.warn(MODE_BOTH_WARNING);
  const scenario = generateScenario(options.seed, options.profile);
  // Only what broke is read of these runs: no timeline.
  const runOptions = { seed: options.seed, bugs: options.bugs, sets: {}, timeline: false };
  const wallStartMs = io.wallNowMs();
  const first = runScenario(scenario, runOptions);
  // With a bug switch on, the invariant the switch breaks, when the seed breaks it (the bug's
  // story is about it); else the first the run broke.
  const bugBreaks = BUG_SWITCHES.find((bug) => options.bugs.includes(bug.name))?.breaks;
  const invariant =
    bugBreaks !== undefined && first.counts[bugBreaks] !== undefined
      ? bugBreaks
      : (first.violations[0]?.invariant ?? Object.keys(first.counts)[0]);
  if (invariant === undefined) {
    // Asked to shrink a failure that is not there: the input's mistake (one line, exit 2).
    throw new UsageError(
      `seed ${options.seed} (${generationFlags(options).join(' ')}) breaks no invariant: nothing to shrink (kafkasim fuzz finds failing seeds)`,
    );
  }
  onFile('write the scenario to', options.out, () => writeFileSync(options.out, ''));
  io.write(
    `shrinking seed ${options.seed} (${generationFlags(options).join(' ')}) while ${chalk.red.bold(invariant)} still breaks (at most ${options.runsMax} runs)\n`,
  );
  const result = shrinkScenario(scenario, { ...runOptions, runsMax: options.runsMax }, invariant);
  const withoutBugs =
    options.bugs.length === 0
      ? Object.keys(result.report.counts)
      : Object.keys(runScenario(result.scenario, { ...runOptions, bugs: [] }).counts);
  const shrunk = shrunkScenario(result, options, withoutBugs, invariant);
  onFile('write the scenario to', options.out, () =>
    writeFileSync(options.out, scenarioToJson(shrunk)),
  );
  const wallMs = Math.round(io.wallNowMs() - wallStartMs);
  const replay = [KAFKASIM, 'run', options.out, '--seed', String(options.seed)];
  for (const bug of options.bugs) replay.push('--bug', bug);
  const lines = [
    `  ${chalk.dim('steps'.padEnd(LABEL_WIDTH))}${result.stepsBefore} → ${chalk.bold(String(result.stepsAfter))}`,
    // The steps kept, as the file has them (times may have moved earlier than the seed's).
    ...result.scenario.timeline.map(
      (step) => `  ${''.padEnd(LABEL_WIDTH)}${chalk.dim('·')} ${stepLine(step)}`,
    ),
    `  ${chalk.dim('fault phase'.padEnd(LABEL_WIDTH))}${formatMs(result.faultPhaseMsBefore)} → ${chalk.bold(formatMs(result.faultPhaseMsAfter))}`,
    `  ${chalk.dim('cluster'.padEnd(LABEL_WIDTH))}${sizeText(result.sizeBefore)} → ${chalk.bold(sizeText(result.sizeAfter))}`,
    ...(result.needed.length === 0
      ? []
      : [
          `  ${chalk.dim('kept'.padEnd(LABEL_WIDTH))}${listed(result.needed)}: without ${result.needed.length === 1 ? 'it' : 'each'} the run no longer broke ${invariant} (part of the failure, or of its timing)`,
        ]),
    `  ${chalk.dim('still'.padEnd(LABEL_WIDTH))}${invariant} ×${result.report.counts[invariant] ?? 0}`,
    `  ${chalk.dim('runs'.padEnd(LABEL_WIDTH))}${result.runs} of at most ${result.runsMax}${result.invalid > 0 ? ` (${result.invalid} cut${result.invalid === 1 ? '' : 's'} not run: ${result.invalid === 1 ? 'it would break' : 'they would break'} a scenario rule, ${result.invalid === 1 ? '' : 'the first '}${result.invalidWhy ?? 'unknown'})` : ''}${result.cutShort ? chalk.yellow(' — the bound cut the search short; --runs-max N for more') : ''}`,
    `  ${chalk.dim('wall'.padEnd(LABEL_WIDTH))}${(wallMs / 1000).toFixed(1)} s`,
    `  ${chalk.dim('wrote'.padEnd(LABEL_WIDTH))}${options.out}`,
    `  ${chalk.dim('replay'.padEnd(LABEL_WIDTH))}${chalk.bold(replay.join(' '))}`,
  ];
  // The shrunk run is another run: what else it breaks, and what of that the seed did not.
  const others = Object.entries(result.report.counts).filter(([name]) => name !== invariant);
  if (others.length > 0) {
    const fresh = others.filter(([name]) => first.counts[name] === undefined).map(([name]) => name);
    lines.splice(
      3,
      0,
      `  ${chalk.dim('also'.padEnd(LABEL_WIDTH))}${others.map(([name, count]) => `${name} ×${count}`).join(', ')}${fresh.length === 0 ? '' : ` (the seed itself did not break ${listed(fresh)}: the shrunk run is another run, and the file declares all it breaks)`}`,
    );
  }
  if (withoutBugs.length > 0 && options.bugs.length === 0)
    lines.push(
      `  ${chalk.dim('note'.padEnd(LABEL_WIDTH))}its expect says it breaks ${withoutBugs.join(', ')}: the replay exits 0 while it does`,
    );
  else if (withoutBugs.length > 0)
    lines.push(
      `  ${chalk.dim('note'.padEnd(LABEL_WIDTH))}without the bug it still breaks ${withoutBugs.join(', ')} (its expect says so)`,
    );
  else if (options.bugs.length > 0)
    lines.push(
      `  ${chalk.dim('note'.padEnd(LABEL_WIDTH))}without the bug every invariant holds: ${[KAFKASIM, 'run', options.out, '--seed', String(options.seed)].join(' ')} exits 0`,
    );
  if (options.bugs.length > 1)
    lines.push(
      `  ${chalk.dim('note'.padEnd(LABEL_WIDTH))}with several bugs the file declares no demonstration: the replay exits 1 with the violation`,
    );
  io.write(`${lines.join('\n')}\n`);
  return 0;
}
