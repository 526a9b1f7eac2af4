// The reference workload R of the speed budget (issue 6): 5 brokers, 3 KRaft voters, 3 topics × 3
// partitions RF 3 min ISR 2, 2 producers × 500 records/s acks=all, 1 consumer, the leader of
// partition 0 of the first topic killed at 30 s, 90 s of fault phase then 30 s of heal phase, all
// checks on. To weigh the checkers (bench only), `checks: 'end-of-run'` skips their per-event
// `check()` while the cluster runs (the end-of-run checks still run in full), and `checks: 'none'`
// skips the end-of-run checks too: what is left is the cluster model alone. The data
// checker still checks once just before the crash, as `@leader` is read from its metadata image:
// both modes then crash the same broker and run the same events (the same trace hash).

import { DataChecker } from '../properties/data-checker.ts';
import { runKafka } from '../properties/kafka-harness.ts';
import { RaftChecker } from '../properties/raft-checker.ts';

export const R_FAULT_PHASE_MS = 90_000;
export const R_HEAL_PHASE_MS = 30_000;
export const R_SIMULATED_MS = R_FAULT_PHASE_MS + R_HEAL_PHASE_MS;
const R_CRASH_AT_MS = 30_000;
/** When the data checker syncs its metadata image, when per-event checks are off. */
const R_SYNC_AT_MS = R_CRASH_AT_MS - 1_000;
const R_TOPICS = ['t1', 't2', 't3'];

export interface WorkloadRResult {
  readonly events: number;
  readonly simulatedMs: number;
  readonly violations: number;
  /** Records the producers had acknowledged (acks=all) by the end. */
  readonly acked: number;
  readonly traceHash: string;
}

export interface WorkloadROptions {
  readonly seed?: number;
  /** Which checks run: every one (the default), only the end-of-run ones, or none. */
  readonly checks?: 'all' | 'end-of-run' | 'none';
}

export function runWorkloadR(options: WorkloadROptions = {}): WorkloadRResult {
  const clock = { nowMs: 0 };
  const checks = options.checks ?? 'all';
  const restore = checks === 'all' ? () => {} : skipChecks(clock, checks === 'none');
  try {
    const result = runKafka({
      seed: options.seed ?? 1,
      controllers: 3,
      brokers: 5,
      topics: R_TOPICS.map((name) => ({
        name,
        partitions: 3,
        replicationFactor: 3,
        minInsyncReplicas: 2,
      })),
      // 500 records/s each: a burst of 5 sends every 10 ms (an application's send() loop), so
      // records share batches as in Kafka's accumulator rather than costing a timer each.
      producers: [
        { topic: 't1', acks: 'all', everyMs: 10, burst: 5 },
        { topic: 't2', acks: 'all', everyMs: 10, burst: 5 },
      ],
      consumers: [R_TOPICS],
      faults: [{ atMs: R_CRASH_AT_MS, kind: 'crash', node: '@leader', crash: 'kill' }],
      faultPhaseMs: R_FAULT_PHASE_MS,
      healPhaseMs: R_HEAL_PHASE_MS,
      ...(checks !== 'all' ? { sample: (cluster) => (clock.nowMs = cluster.world.nowMs) } : {}),
    });
    // Counted by the history (its entry objects are built only when its `entries` are read).
    const acked = result.history.countOf('send', 'ok');
    return {
      events: result.events,
      simulatedMs: result.simulatedMs,
      violations: result.violations.length,
      acked,
      traceHash: String(result.traceHash),
    };
  } finally {
    restore();
  }
}

/**
 * Makes both checkers' `check()` a no-op until DataChecker.finish starts (which then checks once,
 * in full, before the final read), except one data check at R_SYNC_AT_MS for the role reference
 * (`clock` is the time of the last event, which the run's `sample` hook keeps). With
 * `endOfRunToo`, DataChecker.finish does nothing either.
 * Returns the function that puts the originals back.
 */
function skipChecks(clock: { readonly nowMs: number }, endOfRunToo: boolean): () => void {
  const raftCheck = RaftChecker.prototype.check;
  const dataCheck = DataChecker.prototype.check;
  const dataFinish = DataChecker.prototype.finish;
  let finishing = false;
  let synced = false;
  RaftChecker.prototype.check = function (this: RaftChecker) {
    if (finishing) raftCheck.call(this);
  };
  DataChecker.prototype.check = function (this: DataChecker) {
    if (!finishing && (synced || clock.nowMs < R_SYNC_AT_MS)) return;
    synced = true;
    dataCheck.call(this);
  };
  DataChecker.prototype.finish = function (this: DataChecker, ...args) {
    if (endOfRunToo) return;
    finishing = true;
    return dataFinish.apply(this, args);
  };
  return () => {
    RaftChecker.prototype.check = raftCheck;
    DataChecker.prototype.check = dataCheck;
    DataChecker.prototype.finish = dataFinish;
  };
}
