// `npm run bench`: the speed figures, all in one process so they share the machine's mood. The
// machines are shared and noisy, so each comparison interleaves its contenders round by round
// and reports medians: of each rate, and of the per-round ratio.

import { cpus } from 'node:os';
import { runGossip } from '../sim/kernel/gossip.ts';
import { runBareLoop, runBareQueueLoop } from './bare-loop.ts';
import { breakDownR, formatBreakdown } from './breakdown.ts';
import { runSmallSeeds } from './fuzz-seeds.ts';
import { runKernelLoop } from './kernel-loop.ts';
import { R_SIMULATED_MS, runWorkloadR, type WorkloadRResult } from './workload-r.ts';

const ROUNDS = 9;
const EVENTS = 1_000_000;
/**
 * R takes 0.25-0.5 s a run, four contenders a round: fewer rounds than the loops, but enough that
 * one slow or fast moment of a shared machine does not make the median.
 */
const R_ROUNDS = 7;
const FUZZ_SEEDS = 10;

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
  return rate >= 1e6
    ? `${(rate / 1e6).toFixed(2)} M events/s`
    : `${(rate / 1e3).toFixed(1)} k events/s`;
}

function formatRange(rates: readonly number[]): string {
  const [min, max] = [Math.min(...rates), Math.max(...rates)];
  return min >= 1e6
    ? `${(min / 1e6).toFixed(2)}–${(max / 1e6).toFixed(2)}`
    : `${(min / 1e3).toFixed(1)}–${(max / 1e3).toFixed(1)} k`;
}

/** Medians of each contender's rate over interleaved rounds, and of each one's ratio to the first. */
function compare(
  contenders: readonly Contender[],
  roundsMax = ROUNDS,
): { rates: number[]; ratios: number[] } {
  for (const contender of contenders) contender.work();
  const rounds: number[][] = [];
  for (let round = 0; round < roundsMax; round++)
    rounds.push(contenders.map((contender) => rateOf(contender.work)));
  const rates = contenders.map((_, index) => median(rounds.map((rates) => rates[index] as number)));
  const ratios = contenders.map((_, index) =>
    median(rounds.map((rates) => (rates[index] as number) / (rates[0] as number))),
  );
  contenders.forEach((contender, index) => {
    const spread = rounds.map((rates) => rates[index] as number);
    const percent = 100 * (ratios[index] as number);
    const ratio =
      index === 0 ? '' : `   ${percent.toFixed(percent < 10 ? 2 : 1)} % of the bare loop`;
    console.log(
      `  ${contender.label.padEnd(56)} ${formatRate(rates[index] as number).padStart(16)}` +
        `  (${formatRange(spread)})${ratio}`,
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
  {
    // What the kernel's queue alone gains over the heap (the bare loop stays the issue's yardstick).
    label: "bare loop on the kernel's queue (near calendar + heap)",
    work: () => runBareQueueLoop(EVENTS),
  },
]);
const kernelRatio = 100 * (ratios[1] as number);
console.log(
  `\nkernel / bare loop: ${kernelRatio.toFixed(1)} % (target ≥ 50 %: ${kernelRatio >= 50 ? 'met' : 'NOT met'})`,
);

// The reference workload R (issue 6, "Speed"), with the checkers' per-event checks and without,
// interleaved with the bare loop so that the fraction is of a figure from the same moment.
console.log(
  `\nfull simulation: reference workload R, ${R_SIMULATED_MS / 1000} simulated s (median of ${R_ROUNDS})`,
);
const lastR: {
  checked?: WorkloadRResult;
  unchecked?: WorkloadRResult;
  model?: WorkloadRResult;
} = {};
const full = compare(
  [
    {
      label: 'bare binary-heap loop, no-op handlers, ~1000 pending',
      work: () => runBareLoop(EVENTS),
    },
    {
      label: 'R, all checks on',
      work: () => {
        lastR.checked = runWorkloadR();
        return lastR.checked.events;
      },
    },
    {
      label: 'R, per-event checks off (end-of-run checks on)',
      work: () => {
        lastR.unchecked = runWorkloadR({ checks: 'end-of-run' });
        return lastR.unchecked.events;
      },
    },
    {
      label: 'R, no checks (the cluster model alone)',
      work: () => {
        lastR.model = runWorkloadR({ checks: 'none' });
        return lastR.model.events;
      },
    },
  ],
  R_ROUNDS,
);
/** What the work a run leaves out costs, from the two speeds; the machine's noise can invert them. */
function shareOfR(what: string, withIt: number, without: number): string {
  const percent = 100 * (1 - withIt / without);
  return percent < 0
    ? `${what}: within the noise, this time the run with them was faster`
    : `${what} take ${percent.toFixed(0)} % of R`;
}

const checked = lastR.checked as WorkloadRResult;
const unchecked = lastR.unchecked as WorkloadRResult;
const model = lastR.model as WorkloadRResult;
for (const [other, what] of [
  [unchecked, 'the per-event checks'],
  [model, 'any checks'],
] as const) {
  if (checked.traceHash !== other.traceHash)
    throw new Error(
      `R ran differently without ${what} (trace ${checked.traceHash} ≠ ${other.traceHash})`,
    );
}
console.log(
  `\n  R: ${checked.events} events (budget ≤ 500000), ${checked.acked} records acknowledged, ` +
    `${checked.violations} violations, trace ${checked.traceHash}`,
);
const speedups = [1, 2, 3].map(
  (index) => (((full.rates[index] as number) / checked.events) * R_SIMULATED_MS) / 1000,
);
const [checkedSpeedup, uncheckedSpeedup, modelSpeedup] = speedups as [number, number, number];
const wallS = (speedup: number) => (R_SIMULATED_MS / 1000 / speedup).toFixed(2);
const fullRatio = 100 * (full.ratios[1] as number);
console.log(
  `  R, all checks on:        ${checkedSpeedup.toFixed(1)}× real time, ${wallS(checkedSpeedup)} s ` +
    `(target ≥ 500×, ≤ 0.24 s: ${checkedSpeedup >= 500 ? 'met' : `NOT met, ${(500 / checkedSpeedup).toFixed(1)}× short`})`,
);
console.log(
  `  R, per-event checks off: ${uncheckedSpeedup.toFixed(1)}× real time, ${wallS(uncheckedSpeedup)} s ` +
    `(${shareOfR('the per-event checks', checkedSpeedup, uncheckedSpeedup)})`,
);
console.log(
  `  R, no checks:            ${modelSpeedup.toFixed(1)}× real time, ${wallS(modelSpeedup)} s ` +
    `(${shareOfR('all the checks', checkedSpeedup, modelSpeedup)})`,
);
console.log(
  `  full simulation / bare loop: ${fullRatio.toFixed(2)} % (target ≥ 20 %: ${fullRatio >= 20 ? 'met' : 'NOT met'})`,
);

// What dominates R's cost, by what each event did (one more run, every check on, timed).
const breakdown = breakDownR();
if (breakdown.result.traceHash !== checked.traceHash)
  throw new Error(
    `R ran differently with its handlers timed (trace ${breakdown.result.traceHash} ≠ ${checked.traceHash})`,
  );
console.log(
  `\nwhere R's time goes (one timed run, ${(breakdown.totalMs / 1000).toFixed(2)} s; share, events × cost each)`,
);
for (const line of formatBreakdown(breakdown)) console.log(line);

console.log(`\nfuzz: small profile, seeds 1–${FUZZ_SEEDS}, every check on`);
const fuzzStart = performance.now();
const fuzz = runSmallSeeds(1, FUZZ_SEEDS);
const fuzzS = (performance.now() - fuzzStart) / 1000;
console.log(
  `  ${(fuzz.seeds / fuzzS).toFixed(2)} seeds/s (${fuzzS.toFixed(1)} s; ` +
    `${(fuzz.events / fuzz.seeds / 1000).toFixed(0)} k events and ${(fuzz.simulatedMs / fuzz.seeds / 1000).toFixed(0)} simulated s a seed, ` +
    `${formatRate(fuzz.events / fuzzS)}, ${fuzz.unexpected} unexpected outcomes)`,
);
