// One line per trace event, for a person: simulated time, node, kind (coloured by category), and
// the event's fields as key=value.

import type { ChalkInstance } from 'chalk';
import { formatMs } from '../sim/kernel/time.ts';
import type { TraceEvent, TraceValue } from '../sim/kernel/trace.ts';

function colorKind(chalk: ChalkInstance, kind: string): (text: string) => string {
  const category = kind.slice(0, kind.indexOf('.') + 1 || kind.length);
  switch (category) {
    case 'fault.':
      return chalk.red.bold;
    case 'node.':
      return chalk.magenta;
    case 'net.':
    case 'timer':
      return chalk.dim;
    default:
      return chalk.cyan;
  }
}

function formatValue(value: TraceValue): string {
  if (typeof value === 'string')
    return /[\s=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return String(value);
}

export function formatTraceEvent(event: TraceEvent, chalk: ChalkInstance, nodeWidth = 6): string {
  const time = chalk.dim(formatMs(event.atMs).padStart(10));
  const node = chalk.bold(event.node.padEnd(nodeWidth));
  const kind = colorKind(chalk, event.kind)(event.kind.padEnd(22));
  const fields: string[] = [];
  if (event.fields !== undefined) {
    for (const [key, value] of Object.entries(event.fields))
      fields.push(`${chalk.dim(`${key}=`)}${formatValue(value)}`);
  }
  return `${time}  ${node}  ${kind} ${fields.join(' ')}`.trimEnd();
}
