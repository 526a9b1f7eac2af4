// `npm run bench`: the speed figures, all in one process so they share the machine's mood. The
// machines are shared and noisy, so each comparison interleaves its contenders round by round
// and reports medians: of each rate, and of the per-round ratio.

import { cpus } from 'node:os';
import { runGossip } from '../sim/kernel/gossip.ts';
import { runBareLoop } from './bare-loop.ts';
import { runKernelLoop } from './kernel-loop.ts';

const ROUNDS = 9;
const EVENTS = 1_000_000;

interface Contender {
  readonly label: string;
  /** Does a fixed amount of work and returns the number of events it fired. */
  readonly work: () => number;
}

function median(values: readonly number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function rateOf(work: () => number): number {
  const start = performance.now();
  const events = work();
  return events / ((performance.now() - start) / 1000);
}

function formatRate(rate: number): string {
  return `${(rate / 1e6).toFixed(2)} M events/s`;
}

/** Medians of each contender's rate over interleaved rounds, and of each one's ratio to the first. */
function compare(contenders: readonly Contender[]): { rates: number[]; ratios: number[] } {
  for (const contender of contenders) contender.work();
  const rounds: number[][] = [];
  for (let round = 0; round < ROUNDS; round++)
    rounds.push(contenders.map((contender) => rateOf(contender.work)));
  const rates = contenders.map((_, index) => median(rounds.map((rates) => rates[index] as number)));
  const ratios = contenders.map((_, index) =>
    median(rounds.map((rates) => (rates[index] as number) / (rates[0] as number))),
  );
  contenders.forEach((contender, index) => {
    const spread = rounds.map((rates) => rates[index] as number);
    const ratio =
      index === 0 ? '' : `   ${(100 * (ratios[index] as number)).toFixed(1)} % of the bare loop`;
    console.log(
      `  ${contender.label.padEnd(56)} ${formatRate(rates[index] as number).padStart(16)}` +
        `  (${(Math.min(...spread) / 1e6).toFixed(2)}–${(Math.max(...spread) / 1e6).toFixed(2)})${ratio}`,
    );
  });
  return { rates, ratios };
}

console.log(
  `kafkasim bench · node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'unknown cpu'}`,
);
console.log(`median of ${ROUNDS} interleaved rounds after a warm-up (range in brackets)\n`);
console.log('kernel');
const { ratios } = compare([
  {
    label: 'bare binary-heap loop, no-op handlers, ~1000 pending',
    work: () => runBareLoop(EVENTS),
  },
  {
    label: 'kernel: messages between 10 nodes, ~1000 in flight',
    work: () => runKernelLoop(EVENTS).fired,
  },
  {
    label: 'kernel: gossip workload under random faults',
    work: () =>
      runGossip(1, {
        nodes: 5,
        pingEveryMs: 1,
        flushEveryPongs: 8,
        durationMs: 30_000,
        faultEveryMs: 400,
      }).events,
  },
]);
const kernelRatio = 100 * (ratios[1] as number);
console.log(
  `\nkernel / bare loop: ${kernelRatio.toFixed(1)} % (target ≥ 50 %: ${kernelRatio >= 50 ? 'met' : 'NOT met'})`,
);
