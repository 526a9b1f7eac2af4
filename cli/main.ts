// The kafkasim command line (DESIGN.md, "CLI contract"). Exit codes: 0 the expected outcome,
// 1 an unexpected one, 2 bad input or usage, with one clear line on stderr and no stack trace.

import { Command, CommanderError } from 'commander';
import { scenariosShowing } from '../scenarios/registry.ts';
import { ScenarioError } from '../scenarios/settings.ts';
import { abbreviates, closest, unknownName } from '../scenarios/suggest.ts';
import { BUG_SWITCHES } from '../sim/kafka/bugs.ts';
import { makeChalk } from './color.ts';
import { runDemo } from './demo.ts';
import { parseNonNegativeInteger, parsePositiveInteger, UsageError } from './errors.ts';
import { fuzzCommand, parseFuzzOptions } from './fuzz.ts';
import { listScenarios } from './list.ts';
import { parseReproOptions, reproCommand } from './repro.ts';
import { DEFAULT_SEED, parseRunOptions, runCommand } from './run.ts';
import { parseShrinkOptions, shrinkCommand } from './shrink.ts';
import { parseTraceOptions, TRACE_FORMATS } from './trace-file.ts';

const TRACE_FORMAT_HELP = `trace format, with --trace: ${TRACE_FORMATS.join(' or ')} (default: jsonl)`;

const EXIT_OK = 0;
const EXIT_UNEXPECTED = 1;
const EXIT_USAGE = 2;

function write(text: string): void {
  process.stdout.write(text);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const MODE_HELP =
  'controller mode: kraft, or zk or both (ZooKeeper mode is not built yet: zk is refused, both runs KRaft)';

function generationOptions(command: Command): Command {
  return command
    .option('--mode <mode>', MODE_HELP, 'kraft')
    .option('--profile <name>', 'generation profile: small, standard or large', 'small')
    .option('--bug <name>', 'switch a historical bug back on (repeatable)', collect, []);
}

function buildProgram(): Command {
  const program = new Command('kafkasim')
    .description(
      'A deterministic simulator of Apache Kafka clusters: scenarios, fuzzing, minimal failing traces.',
    )
    .version('0.1.0')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      outputError: (text, writeErr) => writeErr(`${oneLine(text)}\n`),
    });

  program
    .command('list')
    .description('list the named scenarios')
    .option('--json', 'print a JSON array')
    .action((raw: { json?: boolean }) => {
      listScenarios(raw.json === true, makeChalk(process.stdout, process.env), write);
    });

  program
    .command('run')
    .description('run a named scenario or a scenario JSON file')
    .argument('<scenario>', 'scenario name or file.json')
    .option('--seed <n>', `seed (default: the scenario file's own seed, else ${DEFAULT_SEED})`)
    .option('--mode <mode>', MODE_HELP, 'kraft')
    .option('--bug <name>', 'switch a historical bug back on (repeatable)', collect, [])
    .option('--set <key=value>', 'override a setting, by its Kafka name (repeatable)', collect, [])
    .option('--json', 'print one JSON object')
    .option('--trace <file>', 'write the trace')
    .option('--trace-format <format>', TRACE_FORMAT_HELP)
    .option('--history <file>', "write the clients' history as JSON Lines")
    .option('--verbose', 'show every trace event in the timeline')
    .action((target: string, raw: Record<string, unknown>) => {
      process.exitCode = runCommand(parseRunOptions(target, raw), {
        chalk: makeChalk(process.stdout, process.env),
        write,
        warn: (line) => process.stderr.write(`${line}\n`),
        wallNowMs: () => performance.now(),
      });
    });

  generationOptions(
    program
      .command('fuzz')
      .description('run many seeds with random faults and check every invariant')
      .option('--seeds <n>', 'how many seeds', '100')
      .option('--start-seed <n>', 'first seed', '1')
      .option('--jobs <n>', 'worker threads (default: the number of cores)')
      .option('--shard <k/n>', 'run shard k of n of the seed range')
      .option('--keep-going', 'collect every failure instead of stopping at the first')
      .option('--json', 'print one JSON object')
      .option('--out <dir>', 'where failing traces go')
      .option('--check-determinism', 'run each seed twice and compare the trace hashes'),
  ).action((raw: Record<string, unknown>) => {
    // Options are checked here, synchronously: a mistake is one line and exit 2 (main's catch).
    const options = parseFuzzOptions(raw);
    return fuzzCommand(options, {
      chalk: makeChalk(process.stdout, process.env),
      write,
      warn: (line) => process.stderr.write(`${line}\n`),
      wallNowMs: () => performance.now(),
      progressStream: process.stderr.isTTY && !options.json ? process.stderr : undefined,
    }).then(
      (code) => {
        process.exitCode = code;
      },
      (error: unknown) => {
        process.exitCode = reportError(error);
      },
    );
  });

  generationOptions(
    program
      .command('repro')
      .description('rerun one fuzz seed exactly and explain its violation')
      .argument('<seed>')
      .option('--json', 'print one JSON object')
      .option('--verbose', 'show every trace event in the timeline')
      .option('--trace <file>', 'write the trace')
      .option('--trace-format <format>', TRACE_FORMAT_HELP)
      .option('--history <file>', "write the clients' history as JSON Lines"),
  ).action((seed: string, raw: Record<string, unknown>) => {
    process.exitCode = reproCommand(parseReproOptions(seed, raw), {
      chalk: makeChalk(process.stdout, process.env),
      write,
      warn: (line) => process.stderr.write(`${line}\n`),
      wallNowMs: () => performance.now(),
    });
  });

  generationOptions(
    program
      .command('shrink')
      .description('shrink a failing seed to a minimal scenario JSON')
      .argument('<seed>')
      .option('--out <file>', 'where the scenario JSON goes (default shrunk-seed-N.json)')
      .option('--runs-max <n>', 'at most this many runs (default 200)'),
  ).action((seed: string, raw: Record<string, unknown>) => {
    process.exitCode = shrinkCommand(parseShrinkOptions(seed, raw), {
      chalk: makeChalk(process.stdout, process.env),
      write,
      warn: (line) => process.stderr.write(`${line}\n`),
      wallNowMs: () => performance.now(),
    });
  });

  program
    .command('bugs')
    .description('list the historical-bug switches')
    .option('--json', 'print a JSON array')
    .action((raw: { json?: boolean }) => {
      if (raw.json === true) {
        write(
          `${JSON.stringify(BUG_SWITCHES.map((bug) => ({ name: bug.name, description: bug.description, breaks: bug.breaks, source: bug.source, scenarios: scenariosShowing(bug.name) })))}\n`,
        );
        return;
      }
      const chalk = makeChalk(process.stdout, process.env);
      const width = Math.max(...BUG_SWITCHES.map((bug) => bug.name.length));
      write(
        `${chalk.bold('historical-bug switches')} (kafkasim run|fuzz --bug NAME brings one back; each breaks\nthe invariant listed, the one fuzz and the bug zoo hunt it by; a run may break others too)\n\n`,
      );
      for (const bug of BUG_SWITCHES) {
        write(`  ${chalk.bold(bug.name.padEnd(width))}  ${bug.description}\n`);
        const shown = scenariosShowing(bug.name);
        const scenarios = shown.length === 0 ? '' : ` · shown step by step by ${shown.join(', ')}`;
        write(
          `  ${''.padEnd(width)}  ${chalk.dim(`breaks ${bug.breaks} · ${bug.source}${scenarios}`)}\n`,
        );
      }
    });

  program
    .command('demo')
    .description('run the simulation kernel alone: nodes gossiping under random faults')
    .option('--seed <n>', 'seed', '1')
    .option('--nodes <n>', 'how many nodes (2 to 26)', '5')
    .option('--seconds <n>', 'simulated seconds', '20')
    .option('--json', 'print one JSON object')
    .option('--trace <file>', 'write the trace')
    .option('--trace-format <format>', TRACE_FORMAT_HELP)
    .option('--verbose', 'show every event, messages and timers included')
    .action((raw: Record<string, string | boolean | undefined>) => {
      const nodes = parseNonNegativeInteger('--nodes', String(raw['nodes']));
      if (nodes < 2 || nodes > 26)
        throw new UsageError(`--nodes must be between 2 and 26 (got ${nodes})`);
      const seconds = parsePositiveInteger('--seconds', String(raw['seconds']));
      if (seconds > 3600) throw new UsageError(`--seconds must be at most 3600 (got ${seconds})`);
      const code = runDemo(
        {
          seed: parseNonNegativeInteger('--seed', String(raw['seed'])),
          nodes,
          seconds,
          json: raw['json'] === true,
          verbose: raw['verbose'] === true,
          ...parseTraceOptions(raw),
        },
        makeChalk(process.stdout, process.env),
        write,
      );
      process.exitCode = code;
    });

  // Commander's own help command shows the program's help for a name it does not know, with exit
  // 0: this one says which name is unknown and suggests the closest.
  program.helpCommand(false);
  program
    .command('help [command]')
    .description('show the help of a command')
    .action((name: string | undefined) => {
      if (name === undefined) {
        program.outputHelp();
        return;
      }
      const names = program.commands.map((command) => command.name());
      const command = program.commands.find((each) => each.name() === name);
      if (command === undefined) throw new UsageError(unknownName('command', name, names));
      command.outputHelp();
    });

  for (const command of program.commands) suggestOptions(command);
  return program;
}

/**
 * An unknown option's "did you mean" by kafkasim's own rule (scenarios/suggest.ts): a flag the
 * typed one begins or abbreviates comes first (commander's edit distance alone took --start for
 * --shard and --secs for --seed).
 */
function suggestOptions(command: Command): void {
  const patched = command as unknown as { unknownOption(flag: string): void };
  patched.unknownOption = (flag: string) => {
    const flags = [...command.options.map((option) => option.long), '--help'].filter(
      (each): each is string => each !== undefined,
    );
    // A flag the typed one abbreviates (--secs: --seconds) before the closest by spelling.
    const best = !flag.startsWith('--')
      ? undefined
      : (flags.find((each) => flag.length >= 5 && abbreviates(flag, each)) ?? closest(flag, flags));
    // A seed given as an option to a command that takes it as its argument (`repro --seed 370`).
    const takesSeed = command.registeredArguments.some((argument) => argument.name() === 'seed');
    const hint =
      flag === '--seed' && takesSeed
        ? ` (the seed is the command's argument: kafkasim ${command.name()} <seed>)`
        : best === undefined
          ? ''
          : ` (did you mean ${best}?)`;
    command.error(`error: unknown option '${flag}'${hint}`, { code: 'commander.unknownOption' });
  };
}

/** Commander's "error: …\n(Did you mean …?)" as one line. */
function oneLine(text: string): string {
  return `kafkasim: ${text
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\(Did you mean/, '(did you mean')
    .trim()}`;
}

function main(argv: readonly string[]): void {
  // A reader that stops early (`kafkasim run … | head`) closes the pipe: stop quietly, no stack.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit();
  });
  if (argv.length <= 2) {
    process.stderr.write(
      'kafkasim: a command is needed: list, run, fuzz, repro, shrink, bugs or demo (kafkasim --help says more)\n',
    );
    process.exitCode = EXIT_USAGE;
    return;
  }
  try {
    buildProgram().parse(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      const ok =
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help';
      process.exitCode = ok ? EXIT_OK : EXIT_USAGE;
      return;
    }
    process.exitCode = reportError(error);
  }
}

/**
 * A user's mistake (or a file that cannot be written, found after a campaign ran) is one line and
 * exit 2; anything else is a bug in kafkasim: everything is shown. Returns the exit code.
 */
function reportError(error: unknown): number {
  if (error instanceof UsageError || error instanceof ScenarioError) {
    process.stderr.write(`kafkasim: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
    return EXIT_USAGE;
  }
  process.stderr.write(
    `kafkasim: internal error (a bug in kafkasim, please report it)\n${(error as Error).stack ?? String(error)}\n`,
  );
  return EXIT_UNEXPECTED;
}

main(process.argv);
