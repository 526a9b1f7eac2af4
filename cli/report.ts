// A scenario run as text a person can follow: first the seed and every option, the cluster and
// the scenario's description; then the timeline, one line per event that matters, coloured by
// category; then every partition's final state; then the verdict, the figures, and the command
// that reproduces the run. The same seed prints the same bytes, except the `wall` line.

import type { ChalkInstance } from 'chalk';
import type { KafkaRunSpec } from '../properties/kafka-harness.ts';
import type { ScenarioReport } from '../scenarios/run.ts';
import type { Expectation, Scenario } from '../scenarios/scenario.ts';
import type {
  PartitionRow,
  QuorumRow,
  TimelineCategory,
  TimelineEntry,
} from '../scenarios/timeline.ts';
import { INVARIANTS } from '../scenarios/validate.ts';
import { formatMs } from '../sim/kernel/time.ts';
import { outcomeWords } from './list.ts';
import type { RunCommandOptions } from './run.ts';

export interface ReportContext {
  readonly report: ScenarioReport;
  readonly scenario: Scenario;
  /** The run's effective spec (scenario settings and `--set` applied). */
  readonly spec: KafkaRunSpec;
  readonly options: RunCommandOptions;
  readonly wallMs: number;
  /** The command that reproduces the run. */
  readonly command: string;
  /** The first line's command: `kafkasim run NAME`, `kafkasim repro 5 --profile small`. */
  readonly title: string;
}

const WRAP_COLUMNS = 96;
const LABEL_WIDTH = 11;
/** Violations listed one by one in the verdict (the rest are counted). */
const VIOLATIONS_SHOWN_MAX = 20;

export function renderReport(context: ReportContext, chalk: ChalkInstance): string {
  const lines = [
    ...header(context, chalk),
    '',
    ...timeline(context.report.timeline, context.options.verbose, chalk),
    '',
    ...partitions(context.report.partitions, chalk),
    '',
    ...quorum(context.report.quorum, chalk),
    '',
    ...verdict(context, chalk),
  ];
  return `${lines.join('\n')}\n`;
}

function labelled(chalk: ChalkInstance, label: string, text: string): string {
  return `  ${chalk.dim(label.padEnd(LABEL_WIDTH))}${text}`;
}

function header(context: ReportContext, chalk: ChalkInstance): string[] {
  const { report, scenario, spec, options } = context;
  const target =
    options.target === scenario.name ? scenario.name : `${scenario.name} (from ${options.target})`;
  const settings = Object.entries(report.settings).map(
    ([key, value]) => `${key}=${value}${key in options.sets ? ' (--set)' : ''}`,
  );
  const lines = [
    `${chalk.bold(context.title)}: ${scenario.summary}`,
    labelled(chalk, 'scenario', target),
    labelled(chalk, 'seed', chalk.bold(String(report.seed))),
    labelled(chalk, 'mode', report.mode),
    labelled(chalk, 'bugs', report.bugs.length === 0 ? 'none' : chalk.red(report.bugs.join(', '))),
    labelled(chalk, 'settings', settings.length === 0 ? 'the defaults' : settings.join(', ')),
    labelled(
      chalk,
      'cluster',
      `${plural(spec.controllers, 'controller')}, ${plural(spec.brokers, 'broker')}`,
    ),
    ...spec.topics.map((topic, index) =>
      labelled(
        chalk,
        index === 0 ? 'topics' : '',
        `${topic.name}: ${plural(topic.partitions, 'partition')}, replication factor ${topic.replicationFactor}, min.insync.replicas ${topic.minInsyncReplicas}${topic.uncleanLeaderElection === true ? ', unclean leader election' : ''}`,
      ),
    ),
    ...clients(spec).map((text, index) => labelled(chalk, index === 0 ? 'clients' : '', text)),
    labelled(
      chalk,
      'phases',
      `faults until ${formatMs(spec.faultPhaseMs)}, then heal for ${formatMs(spec.healPhaseMs)}`,
    ),
    labelled(chalk, 'expected', expectationWords(report.expected)),
    '',
    ...wrap(scenario.description, WRAP_COLUMNS - 2).map((line) => `  ${line}`),
  ];
  return lines;
}

function clients(spec: KafkaRunSpec): string[] {
  const lines = spec.producers.map((producer, index) => {
    // Said either way: a producer that is not idempotent can append a retried write twice.
    const idempotent = producer.idempotent === true ? ', idempotent' : ', not idempotent';
    const count = producer.count === undefined ? '' : `, ${producer.count} writes`;
    return `p${index + 1}: writes to ${producer.topic} with acks=${producer.acks}${idempotent}, one every ${producer.everyMs} ms${count}`;
  });
  spec.consumers.forEach((topics, index) => {
    lines.push(`r${index + 1}: reads every partition of ${topics.join(', ')}`);
  });
  return lines.length === 0 ? ['none'] : lines;
}

function expectationWords(expected: Expectation): string {
  const demonstration = 'bug' in expected ? ` (with --bug ${String(expected.bug)})` : '';
  return `${outcomeWords(expected.violations, expected.allowed)}${demonstration}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Greedy word wrap to `columns`. */
export function wrap(text: string, columns: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((each) => each !== '')) {
    if (line !== '' && line.length + 1 + word.length > columns) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

function categoryColor(chalk: ChalkInstance, category: TimelineCategory): ChalkInstance {
  switch (category) {
    case 'fault':
      return chalk.red;
    case 'operation':
      return chalk.bold;
    case 'controller':
    case 'broker':
      return chalk.blue;
    case 'election':
      return chalk.magenta;
    case 'isr':
      return chalk.yellow;
    case 'hw':
      return chalk.cyan;
    case 'truncation':
      return chalk.red.bold;
    case 'acks':
      return chalk.green.dim;
    case 'error':
      return chalk.yellow;
    case 'consumer':
      return chalk.cyan;
    case 'violation':
      return chalk.red.bold;
    case 'allowed':
      return chalk.yellow;
    case 'detail':
      return chalk.dim;
    default: {
      const unknown: never = category;
      throw new Error(`unknown timeline category ${String(unknown)}`);
    }
  }
}

function timeline(
  entries: readonly TimelineEntry[],
  verbose: boolean,
  chalk: ChalkInstance,
): string[] {
  const title = verbose
    ? 'timeline (every trace event)'
    : 'timeline (faults, controller and brokers, elections, ISR, high watermarks, truncations, writes by second; --verbose for every trace event)';
  if (entries.length === 0) return [chalk.bold(title), '  (nothing happened)'];
  const timeWidth = Math.max(...entries.map((entry) => formatMs(entry.atMs).length));
  const nodeWidth = Math.max(6, ...entries.map((entry) => entry.node.length)) + 2;
  return [
    chalk.bold(title),
    ...entries.map(
      (entry) =>
        `  ${chalk.dim(formatMs(entry.atMs).padStart(timeWidth))}  ${entry.node.padEnd(nodeWidth)}${categoryColor(chalk, entry.category)(entry.text)}`,
    ),
  ];
}

function partitions(rows: readonly PartitionRow[], chalk: ChalkInstance): string[] {
  const view = rows[0]?.view;
  const lines = [
    `${chalk.bold('partitions at the end')}${view === undefined ? '' : chalk.dim(` (leader, leader epoch, ISR, ELR: ${view}; role, LEO, HW: each replica's own)`)}`,
  ];
  if (rows.length === 0)
    lines.push('  (no partitions: no topic was created, or no controller or broker is up to say)');
  for (const row of rows) {
    const leader = row.leader === null ? chalk.red('none') : chalk.bold(row.leader);
    lines.push(
      `  ${chalk.cyan.bold(`${row.topic}-${row.partition}`)}  leader ${leader} · leader epoch ${row.leaderEpoch} · ISR [${row.isr.join(', ')}] · ELR [${row.elr.join(', ')}]`,
    );
    const table = [
      ['replica', 'role', 'LEO', 'HW', 'log start', 'status'],
      ...row.replicas.map((replica) => {
        const known = replica.status === 'up';
        return [
          replica.broker,
          replica.role,
          known ? String(replica.logEndOffset) : '-',
          known ? String(replica.highWatermark) : '-',
          known ? String(replica.logStartOffset) : '-',
          replica.status,
        ];
      }),
    ];
    lines.push(...tableLines(table, [2, 3, 4], chalk));
  }
  return lines;
}

/** Each metadata voter's own state at the end (a split shows as two leaders of one epoch). */
function quorum(rows: readonly QuorumRow[], chalk: ChalkInstance): string[] {
  const leaders = rows.filter((row) => row.role === 'leader');
  const split =
    leaders.length > 1
      ? chalk.red(
          ` — ${leaders.length} voters think they lead: ${leaders.map((row) => `${row.controller} (epoch ${row.epoch})`).join(', ')}`,
        )
      : '';
  const lines = [
    `${chalk.bold('metadata quorum at the end')}${chalk.dim(" (each voter's own state)")}${split}`,
  ];
  const table = [
    ['voter', 'role', 'epoch', 'voted for', 'log end', 'last epoch', 'HW', 'status'],
    ...rows.map((row) => {
      const known = row.status === 'up';
      return [
        row.controller,
        row.role,
        known ? String(row.epoch) : '-',
        row.votedFor,
        known ? String(row.logEndOffset) : '-',
        known ? String(row.lastEpoch) : '-',
        known ? String(row.highWatermark) : '-',
        row.status,
      ];
    }),
  ];
  lines.push(...tableLines(table, [2, 4, 5, 6], chalk));
  return lines;
}

/** A table's lines, columns padded to their widest cell (right-aligned: `numeric`), header dim. */
function tableLines(
  table: readonly (readonly string[])[],
  numeric: readonly number[],
  chalk: ChalkInstance,
): string[] {
  const widths = (table[0] ?? []).map((_, column) =>
    Math.max(...table.map((cells) => (cells[column] ?? '').length)),
  );
  return table.map((cells, index) => {
    const text = cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return numeric.includes(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
    return `    ${index === 0 ? chalk.dim(text) : text}`;
  });
}

function verdict(context: ReportContext, chalk: ChalkInstance): string[] {
  const { report } = context;
  const lines = [chalk.bold('verdict')];
  lines.push(labelled(chalk, 'expected', expectationWords(report.expected)));
  for (const line of report.verdict) lines.push(`  · ${line}`);
  lines.push(...violations(report, chalk));
  lines.push(...invariantLines(report, chalk));
  lines.push(labelled(chalk, 'allowed', allowedSummary(report)));
  lines.push(
    labelled(
      chalk,
      'outcome',
      report.ok
        ? chalk.green.bold(
            report.expected.violations.length === 0
              ? 'the expected outcome (exit 0)'
              : `the expected outcome: ${report.expected.violations.join(', ')} broke, as the scenario says it does${report.bugs.length === 0 ? '' : ` with --bug ${report.bugs.join(' --bug ')}`} (exit 0)`,
          )
        : chalk.red.bold('NOT the expected outcome (exit 1)'),
    ),
  );
  lines.push('');
  lines.push(
    labelled(
      chalk,
      'stats',
      `${report.stats.events} events · ${formatMs(report.stats.simulatedMs)} simulated · trace hash ${chalk.bold(report.traceHash)}`,
    ),
  );
  // On its own line: the one figure that differs between two runs of the same seed.
  lines.push(labelled(chalk, 'wall', `${context.wallMs} ms`));
  const { options } = context;
  if (options.trace !== undefined)
    lines.push(labelled(chalk, 'trace', `${options.trace} (${options.traceFormat})`));
  if (options.history !== undefined)
    lines.push(labelled(chalk, 'history', `${options.history} (JSON Lines)`));
  lines.push(labelled(chalk, 'reproduce', chalk.bold(context.command)));
  if (report.bugs.length === 0) {
    for (const demonstration of context.scenario.demonstrates) {
      lines.push(
        labelled(
          chalk,
          'try',
          `${context.command} --bug ${demonstration.bug}  ${chalk.dim(`(${outcomeWords(demonstration.violations, demonstration.allowed)})`)}`,
        ),
      );
    }
  }
  return lines;
}

function violations(report: ScenarioReport, chalk: ChalkInstance): string[] {
  const counts = Object.entries(report.counts);
  if (counts.length === 0) return [labelled(chalk, 'violations', 'none')];
  const total = counts.reduce((sum, [, count]) => sum + count, 0);
  const lines = [
    labelled(
      chalk,
      'violations',
      chalk.red.bold(
        `${total}: ${counts.map(([invariant, count]) => `${invariant} ×${count}`).join(', ')}`,
      ),
    ),
  ];
  for (const violation of report.violations.slice(0, VIOLATIONS_SHOWN_MAX)) {
    lines.push(
      `    ${chalk.dim(formatMs(violation.atMs))}  ${chalk.red.bold(violation.invariant)}: ${violation.message}`,
    );
  }
  const shown = Math.min(report.violations.length, VIOLATIONS_SHOWN_MAX);
  if (total > shown) {
    const kept = report.violations.length - shown;
    lines.push(
      `    … and ${total - shown} more${kept > 0 ? ` (--json lists ${kept} of them)` : ''}`,
    );
  }
  return lines;
}

/** Every invariant this mode checks, held (✓) or broken (✗ with its count), a few per line. */
/** What a partition left offline after unclean shutdowns does not have to show after healing. */
const OFFLINE_EXCUSED: ReadonlySet<string> = new Set([
  'leader-elected-after-heal',
  'acked-fully-replicated',
]);

function invariantLines(report: ScenarioReport, chalk: ChalkInstance): string[] {
  const checked = INVARIANTS.filter(
    (invariant) =>
      !invariant.startsWith('zk-') &&
      invariant !== 'compaction-keeps-latest' &&
      invariant !== 'retention-safe',
  );
  // A partition left offline after unclean shutdowns (KIP-966) is an allowed outcome: the checks
  // of a leader and a full ISR after healing held it to that, not to being led again.
  const offline = report.allowedCounts['offline-after-unclean-shutdowns'] ?? 0;
  const marks = checked.map((invariant) => {
    const count = report.counts[invariant];
    if (count !== undefined) return chalk.red.bold(`✗ ${invariant} ×${count}`);
    if (offline > 0 && OFFLINE_EXCUSED.has(invariant))
      return chalk.yellow(
        `~ ${invariant} (${offline} partition${offline === 1 ? '' : 's'} left offline: allowed)`,
      );
    return chalk.green(`✓ ${invariant}`);
  });
  const lines: string[] = [];
  for (let index = 0; index < marks.length; index += 3) {
    const row = marks.slice(index, index + 3).join('  ');
    lines.push(index === 0 ? labelled(chalk, 'invariants', row) : `             ${row}`);
  }
  return lines;
}

function allowedSummary(report: ScenarioReport): string {
  const byReason = Object.entries(report.allowedCounts);
  if (byReason.length === 0) return 'no allowed loss';
  const parts = [...byReason].map(([reason, count]) => `${reason} ×${count}`);
  return `losses the contract allows: ${parts.join(', ')}`;
}
