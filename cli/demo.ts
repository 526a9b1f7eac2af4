// `kafkasim demo`: the simulation kernel on its own, without Kafka: gossiping nodes under a seeded
// storm of faults, shown as a timeline.

import type { ChalkInstance } from 'chalk';
import type { GossipNode } from '../sim/kernel/gossip.ts';
import { runGossip } from '../sim/kernel/gossip.ts';
import { formatMs } from '../sim/kernel/time.ts';
import type { TraceEvent } from '../sim/kernel/trace.ts';
import { formatTraceEvent } from './timeline.ts';
import { openTraceFile, type TraceFormat } from './trace-file.ts';

export interface DemoOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly seconds: number;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly trace: string | undefined;
  readonly traceFormat: TraceFormat;
}

const PING_EVERY_MS = 10;
const FAULT_EVERY_MS = 400;

function matters(event: TraceEvent): boolean {
  return (
    event.kind.startsWith('fault.') ||
    event.kind.startsWith('node.') ||
    event.kind.startsWith('gossip.')
  );
}

export function runDemo(
  options: DemoOptions,
  chalk: ChalkInstance,
  write: (text: string) => void,
): number {
  const lines: string[] = [];
  const traceFile =
    options.trace === undefined ? undefined : openTraceFile(options.trace, options.traceFormat);
  const show = (event: TraceEvent): void => {
    if (!options.json && (options.verbose || matters(event)))
      lines.push(formatTraceEvent(event, chalk));
    traceFile?.sink(event);
  };
  const durationMs = options.seconds * 1000;
  const wallStart = performance.now();
  const result = runGossip(options.seed, {
    nodes: options.nodes,
    pingEveryMs: PING_EVERY_MS,
    flushEveryPongs: 8,
    durationMs,
    faultEveryMs: FAULT_EVERY_MS,
    trace: { sink: show },
  });
  const wallMs = Math.round(performance.now() - wallStart);
  traceFile?.close();
  const world = result.world;
  const network = world.network.stats;
  const nodes = world.nodes().map((host) => {
    const machine = host.machine as GossipNode | null;
    const pongs = host.disk.has('pongs') ? host.disk.log('pongs') : undefined;
    return {
      node: host.id,
      status: host.status,
      incarnation: host.incarnation,
      pongsOnDisk: pongs?.length ?? 0,
      pongsFlushed: pongs?.flushedLength ?? 0,
      unreachable: machine?.unreachableCount ?? 0,
    };
  });
  if (options.json) {
    const stats = { events: result.events, simulatedMs: durationMs, wallMs, messages: network };
    write(
      `${JSON.stringify({ command: 'demo', seed: options.seed, nodes, stats, traceHash: result.traceHash })}\n`,
    );
    return 0;
  }
  const faultsUntil = formatMs(Math.floor((durationMs * 3) / 4));
  write(`${chalk.bold('kafkasim demo')}: the simulation kernel alone, before any Kafka\n`);
  write(
    `seed ${options.seed} · ${options.nodes} nodes · ${formatMs(durationMs)} simulated · a fault every ~${FAULT_EVERY_MS} ms until ${faultsUntil}, then heal\n`,
  );
  write(
    chalk.dim(
      'Nodes ping random peers and log every pong to disk. Faults partition them (both ways, one way,\n',
    ),
  );
  write(
    chalk.dim(
      'isolated; silently or refusing connections), crash them (kill, power failure, disk loss), stop,\n',
    ),
  );
  write(
    chalk.dim('pause, slow and clog them. The same seed gives the same run, event for event.\n\n'),
  );
  write(
    `${chalk.bold(options.verbose ? 'timeline (every event)' : 'timeline (faults and node lifecycle; --verbose for every event)')}\n`,
  );
  for (const line of lines) write(`${line}\n`);
  write(`\n${chalk.bold('at the end')}\n`);
  write(
    `  ${'node'.padEnd(6)}${'status'.padEnd(10)}${'incarnation'.padEnd(13)}${'pongs on disk'.padEnd(15)}${'flushed'.padEnd(9)}refused\n`,
  );
  for (const row of nodes) {
    const status =
      row.status === 'up' ? chalk.green(row.status.padEnd(10)) : chalk.red(row.status.padEnd(10));
    write(
      `  ${row.node.padEnd(6)}${status}${String(row.incarnation).padEnd(13)}${String(row.pongsOnDisk).padEnd(15)}${String(row.pongsFlushed).padEnd(9)}${row.unreachable}\n`,
    );
  }
  write(
    `\n  events ${result.events} · messages sent ${network.sent}, delivered ${network.delivered}, dropped ${network.dropped}\n`,
  );
  if (options.trace !== undefined)
    write(`  trace written to ${options.trace} (${options.traceFormat})\n`);
  write(`  trace hash ${chalk.bold(result.traceHash)}\n`);
  return 0;
}
