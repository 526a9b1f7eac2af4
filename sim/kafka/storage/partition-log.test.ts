import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CRASH_KINDS, type CrashKind, Disk } from '../../kernel/disk.ts';
import {
  BATCH_OVERHEAD_BYTES,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  type EpochEndOffset,
  type EpochEntry,
  PartitionLog,
  type PartitionLogOptions,
  RECORD_OVERHEAD_BYTES,
  type RecordBatch,
  type RecordInput,
  UNDEFINED_EPOCH,
} from './partition-log.ts';

const WRITEBACK_MS = 30_000;
const UNDEFINED_END: EpochEndOffset = { epoch: -1, endOffset: -1 };

/** A broker's disk on a clock the test moves by hand; `restart` opens the log anew over it. */
function broker(options: PartitionLogOptions = {}) {
  let nowMs = 0;
  const disk = new Disk(() => nowMs, { writebackMs: WRITEBACK_MS });
  const state = {
    disk,
    log: new PartitionLog(disk, 't-0', options),
    get nowMs(): number {
      return nowMs;
    },
    advance(ms: number): void {
      nowMs += ms;
    },
    crash(kind: CrashKind): void {
      disk.crash(kind);
      state.log = new PartitionLog(disk, 't-0', options);
    },
  };
  return state;
}

function values(...texts: string[]): RecordInput[] {
  return texts.map((value) => ({ key: null, value }));
}

/** Appends batches as leader: one batch of `count` records per (epoch, count) pair. */
function appendAll(log: PartitionLog, batches: readonly (readonly [number, number])[]): void {
  for (const [epoch, count] of batches) {
    log.appendAsLeader(
      Array.from({ length: count }, (_, index) => ({ key: `k${index}`, value: `e${epoch}` })),
      epoch,
      0,
    );
  }
}

function followerBatch(baseOffset: number, leaderEpoch: number, count: number): RecordBatch {
  const records = Array.from({ length: count }, (_, index) => ({
    offset: baseOffset + index,
    key: null,
    value: `f${baseOffset + index}`,
  }));
  return {
    baseOffset,
    lastOffset: baseOffset + count - 1,
    leaderEpoch,
    records,
    sizeBytes: BATCH_OVERHEAD_BYTES + count * (RECORD_OVERHEAD_BYTES + 4),
    appendedAtMs: 0,
    producerId: NO_PRODUCER_ID,
    baseSequence: NO_SEQUENCE,
    lastSequence: NO_SEQUENCE,
  };
}

describe('PartitionLog files', () => {
  it('keeps its batches and epoch checkpoint in two files named after the partition', () => {
    const { disk, log } = broker();
    log.appendAsLeader(values('a'), 0, 0);
    expect(disk.names()).toEqual(['t-0/log', 't-0/leader-epoch-checkpoint']);
  });
});

describe('PartitionLog.appendAsLeader', () => {
  it('assigns consecutive offsets from the LEO, one batch per call', () => {
    const { log } = broker();
    const first = log.appendAsLeader(values('a', 'b', 'c'), 0, 10);
    const second = log.appendAsLeader(
      [{ key: 'k', value: null, producerId: 7, sequence: 0 }],
      0,
      20,
    );
    expect(first).toMatchObject({ baseOffset: 0, lastOffset: 2, leaderEpoch: 0, appendedAtMs: 10 });
    expect(first.records.map((record) => record.offset)).toEqual([0, 1, 2]);
    // The producer id and sequences are the batch header's, not the record's (Kafka's v2 batch).
    expect(second.records).toEqual([{ key: 'k', value: null, offset: 3 }]);
    expect(second).toMatchObject({ producerId: 7, baseSequence: 0, lastSequence: 0 });
    expect(first).toMatchObject({
      producerId: NO_PRODUCER_ID,
      baseSequence: NO_SEQUENCE,
      lastSequence: NO_SEQUENCE,
    });
    expect(second.sizeBytes).toBe(BATCH_OVERHEAD_BYTES + RECORD_OVERHEAD_BYTES + 1);
    expect(log.batches()).toEqual([first, second]);
    expect(log.logEndOffset).toBe(4);
    expect(log.logStartOffset).toBe(0);
    expect(log.lastEpoch).toBe(0);
  });

  it('adds an epoch entry only when the epoch is new', () => {
    const { log } = broker();
    expect(log.lastEpoch).toBe(UNDEFINED_EPOCH);
    appendAll(log, [
      [0, 2],
      [0, 1],
      [3, 2],
      [3, 1],
      [4, 1],
    ]);
    expect(log.epochEntries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 3, startOffset: 3 },
      { epoch: 4, startOffset: 6 },
    ]);
    expect(log.lastEpoch).toBe(4);
  });

  it('rejects an epoch below the last one and an empty batch', () => {
    const { log } = broker();
    log.appendAsLeader(values('a'), 2, 0);
    expect(() => log.appendAsLeader(values('b'), 1, 0)).toThrow('appending epoch 1 after epoch 2');
    expect(() => log.appendAsLeader([], 2, 0)).toThrow('no records');
    expect(log.logEndOffset).toBe(1);
  });
});

describe('PartitionLog.appendAsFollower', () => {
  it("keeps the leader's offsets, epoch and append time", () => {
    const { log } = broker();
    const batch = { ...followerBatch(0, 5, 3), appendedAtMs: 1_234 };
    log.appendAsFollower(batch);
    expect(log.batches()).toEqual([batch]);
    expect(log.logEndOffset).toBe(3);
    expect(log.epochEntries()).toEqual([{ epoch: 5, startOffset: 0 }]);
  });

  it('rejects a batch that does not start at the LEO, is malformed, or goes back an epoch', () => {
    const { log } = broker();
    log.appendAsFollower(followerBatch(0, 2, 2));
    expect(() => log.appendAsFollower(followerBatch(3, 2, 1))).toThrow(
      'does not start at the LEO 2',
    );
    expect(() => log.appendAsFollower({ ...followerBatch(2, 2, 2), lastOffset: 4 })).toThrow(
      'last offset 4 does not match 2 records',
    );
    expect(() => log.appendAsFollower(followerBatch(2, 1, 1))).toThrow(
      'appending epoch 1 after epoch 2',
    );
    expect(log.logEndOffset).toBe(2);
  });
});

describe('PartitionLog.read', () => {
  /** Batches of 3, 1 and 2 records: offsets 0-2, 3, 4-5. */
  function threeBatches() {
    const { log } = broker();
    appendAll(log, [
      [0, 3],
      [0, 1],
      [1, 2],
    ]);
    return log;
  }

  it('returns whole batches from the one holding the fetch offset', () => {
    const log = threeBatches();
    const offsets = (batches: readonly RecordBatch[]) => batches.map((batch) => batch.baseOffset);
    expect(offsets(log.read(1, 10_000))).toEqual([0, 3, 4]);
    expect(offsets(log.read(3, 10_000))).toEqual([3, 4]);
    expect(offsets(log.read(5, 10_000))).toEqual([4]);
    expect(log.read(6, 10_000)).toEqual([]);
  });

  it('caps by bytes but returns at least one batch', () => {
    const log = threeBatches();
    const [first, second] = log.batches() as [RecordBatch, RecordBatch];
    expect(log.read(0, 0)).toEqual([first]);
    expect(log.read(0, first.sizeBytes + second.sizeBytes - 1)).toEqual([first]);
    expect(log.read(0, first.sizeBytes + second.sizeBytes)).toEqual([first, second]);
  });

  it('rejects an offset outside [logStartOffset, logEndOffset]', () => {
    const log = threeBatches();
    expect(() => log.read(7, 100)).toThrow('past the LEO 6');
    expect(() => log.read(-1, 100)).toThrow('below the log start 0');
  });
});

describe('PartitionLog.truncateTo', () => {
  it('removes whole batches: the LEO becomes the base of the first removed batch', () => {
    const { log } = broker();
    appendAll(log, [
      [0, 3],
      [2, 3],
      [2, 2],
    ]);
    log.truncateTo(4);
    expect(log.logEndOffset).toBe(3);
    expect(log.batches().map((batch) => batch.baseOffset)).toEqual([0]);
    expect(log.epochEntries()).toEqual([{ epoch: 0, startOffset: 0 }]);
    expect(log.truncations).toBe(1);
  });

  it('keeps epoch entries that start below the new LEO', () => {
    const { log } = broker();
    appendAll(log, [
      [0, 2],
      [1, 2],
      [1, 2],
    ]);
    log.truncateTo(4);
    expect(log.logEndOffset).toBe(4);
    expect(log.epochEntries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 1, startOffset: 2 },
    ]);
  });

  it('changes nothing at or past the LEO', () => {
    const { log } = broker();
    appendAll(log, [[0, 2]]);
    log.truncateTo(2);
    log.truncateTo(9);
    expect(log.logEndOffset).toBe(2);
    expect(log.truncations).toBe(0);
  });

  it('is durable at once, epoch checkpoint included', () => {
    const state = broker();
    appendAll(state.log, [
      [0, 2],
      [1, 2],
    ]);
    state.log.flush();
    state.log.truncateTo(2);
    state.crash('powerFailure');
    expect(state.log.logEndOffset).toBe(2);
    expect(state.log.epochEntries()).toEqual([{ epoch: 0, startOffset: 0 }]);
    state.log.appendAsLeader(values('x'), 3, 0);
    expect(state.log.epochEntries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 3, startOffset: 2 },
    ]);
  });
});

describe('PartitionLog flush and recovery', () => {
  it('flushedOffset follows flushes and the 30 s write-back', () => {
    const state = broker();
    appendAll(state.log, [[0, 2]]);
    expect(state.log.flushedOffset).toBe(0);
    state.log.flush();
    expect(state.log.flushedOffset).toBe(2);
    state.advance(1_000);
    appendAll(state.log, [[0, 3]]);
    expect(state.log.flushedOffset).toBe(2);
    state.advance(WRITEBACK_MS - 1);
    expect(state.log.flushedOffset).toBe(2);
    state.advance(1);
    expect(state.log.flushedOffset).toBe(5);
  });

  it('a kill keeps everything appended; a power failure the flushed prefix; a disk loss nothing', () => {
    const state = broker();
    appendAll(state.log, [
      [0, 2],
      [1, 1],
    ]);
    state.log.flush();
    appendAll(state.log, [[2, 2]]);
    state.crash('kill');
    expect(state.log.logEndOffset).toBe(5);
    expect(state.log.epochEntries().map((entry) => entry.epoch)).toEqual([0, 1, 2]);
    state.crash('powerFailure');
    expect(state.log.logEndOffset).toBe(3);
    expect(state.log.epochEntries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 1, startOffset: 2 },
    ]);
    state.crash('diskLoss');
    expect(state.log.logEndOffset).toBe(0);
    expect(state.log.epochEntries()).toEqual([]);
  });

  it('rebuilds epoch entries the checkpoint lost from the written-back batches', () => {
    // The checkpoint is rewritten at 20 s, so at 40 s the OS has not written it back yet, while the
    // epoch-1 batch appended at 0 s is on disk: recovery must assign epoch 1 again from the batch.
    const state = broker();
    appendAll(state.log, [[1, 2]]);
    state.advance(20_000);
    appendAll(state.log, [[2, 1]]);
    state.advance(20_000);
    expect(state.disk.checkpoint<EpochEntry[]>('t-0/leader-epoch-checkpoint').readDurable()).toBe(
      undefined,
    );
    state.crash('powerFailure');
    expect(state.log.logEndOffset).toBe(2);
    expect(state.log.epochEntries()).toEqual([{ epoch: 1, startOffset: 0 }]);
  });

  it('drops checkpointed epoch entries past the recovered log end', () => {
    // The truncation writes the checkpoint durably while the epoch-0 batch is still dirty: after
    // a power failure the checkpoint names an epoch whose batch is gone.
    const state = broker();
    appendAll(state.log, [
      [0, 1],
      [1, 1],
    ]);
    state.log.truncateTo(1);
    expect(
      state.disk.checkpoint<EpochEntry[]>('t-0/leader-epoch-checkpoint').readDurable(),
    ).toEqual([{ epoch: 0, startOffset: 0 }]);
    state.crash('powerFailure');
    expect(state.log.logEndOffset).toBe(0);
    expect(state.log.epochEntries()).toEqual([]);
  });

  it('flush makes the epoch checkpoint durable', () => {
    const state = broker();
    appendAll(state.log, [[4, 1]]);
    const checkpoint = state.disk.checkpoint<EpochEntry[]>('t-0/leader-epoch-checkpoint');
    expect(checkpoint.isDirty).toBe(true);
    state.log.flush();
    expect(checkpoint.isDirty).toBe(false);
    expect(checkpoint.readDurable()).toEqual([{ epoch: 4, startOffset: 0 }]);
  });
});

describe('PartitionLog.leaderEpochStartOffset', () => {
  it('answers the start of a known epoch, the LEO for a newer one, null for a missing older one', () => {
    const { log } = broker();
    appendAll(log, [
      [0, 2],
      [2, 3],
    ]);
    expect(log.leaderEpochStartOffset(0)).toBe(0);
    expect(log.leaderEpochStartOffset(2)).toBe(2);
    expect(log.leaderEpochStartOffset(3)).toBe(5);
    expect(log.leaderEpochStartOffset(1)).toBe(null);
  });
});

describe('PartitionLog.endOffsetForEpoch (KIP-279)', () => {
  /** Epoch 0 at 0-2, epoch 2 at 3-6, epoch 5 at 7-9: LEO 10. */
  function handWorkedLog(options: PartitionLogOptions = {}): PartitionLog {
    const { log } = broker(options);
    appendAll(log, [
      [0, 3],
      [2, 2],
      [2, 2],
      [5, 3],
    ]);
    return log;
  }

  it('answers the largest known epoch ≤ the requested one and where it ends', () => {
    const log = handWorkedLog();
    expect(log.endOffsetForEpoch(0)).toEqual({ epoch: 0, endOffset: 3 });
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 2, endOffset: 7 });
    expect(log.endOffsetForEpoch(5)).toEqual({ epoch: 5, endOffset: 10 });
  });

  it('answers an epoch the leader never had with the epoch before it', () => {
    const log = handWorkedLog();
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 0, endOffset: 3 });
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 2, endOffset: 7 });
    expect(log.endOffsetForEpoch(4)).toEqual({ epoch: 2, endOffset: 7 });
    expect(log.endOffsetForEpoch(6)).toEqual({ epoch: 5, endOffset: 10 });
  });

  it('answers UNDEFINED for UNDEFINED_EPOCH and on an empty log', () => {
    const { log } = broker();
    expect(log.endOffsetForEpoch(0)).toEqual(UNDEFINED_END);
    expect(log.divergesFrom(0, 3)).toBe(true);
    appendAll(log, [[2, 1]]);
    expect(log.endOffsetForEpoch(-1)).toEqual(UNDEFINED_END);
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 2, endOffset: 1 });
  });

  it('answers an epoch below every known one with itself and the first epoch start, as Kafka', () => {
    // LeaderEpochFileCache.endOffsetFor: floorEntry null, higherEntry the first epoch.
    const { log } = broker();
    appendAll(log, [
      [2, 3],
      [4, 2],
    ]);
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 0 });
    expect(log.endOffsetForEpoch(0)).toEqual({ epoch: 0, endOffset: 0 });
    // A fetcher that read epoch 1 up to offset 5 diverges at 0; one at offset 0 does not.
    expect(log.divergesFrom(1, 5)).toBe(true);
    expect(log.divergesFrom(1, 0)).toBe(false);
  });

  it('with kip101Lookup differs exactly at epochs the leader never had', () => {
    const fixed = handWorkedLog();
    const kip101 = handWorkedLog({ kip101Lookup: true });
    const differing: number[] = [];
    for (let epoch = -1; epoch <= 7; epoch++) {
      const answer = kip101.endOffsetForEpoch(epoch);
      const expected = fixed.endOffsetForEpoch(epoch);
      expect(answer.endOffset).toBe(expected.endOffset);
      if (answer.epoch !== expected.epoch) differing.push(epoch);
    }
    expect(differing).toEqual([1, 3, 4, 6, 7]);
    expect(kip101.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 3 });
    expect(kip101.endOffsetForEpoch(3)).toEqual({ epoch: 3, endOffset: 7 });
  });

  /**
   * The follower's side of KIP-279, enough to replay the example: ask for the last epoch; if the
   * leader answers another epoch, also stop at this log's own end of that epoch.
   */
  function truncateByEpoch(follower: PartitionLog, leader: PartitionLog): void {
    const requested = follower.lastEpoch;
    const answer = leader.endOffsetForEpoch(requested);
    let offset = Math.min(answer.endOffset, follower.logEndOffset);
    if (answer.epoch !== requested && answer.epoch !== UNDEFINED_EPOCH) {
      offset = Math.min(offset, follower.endOffsetForEpoch(answer.epoch).endOffset);
    }
    follower.truncateTo(offset);
    for (const batch of leader.read(follower.logEndOffset, Number.MAX_SAFE_INTEGER)) {
      follower.appendAsFollower(batch);
    }
  }

  /**
   * B and C both have m0 (epoch 0); B also has m1 (epoch 0) that C missed. C is leader in epoch 1
   * for a moment and writes m2 at offset 1, which nobody fetches; B becomes leader in epoch 2 and
   * writes m3 at offset 2. C then follows B.
   */
  function divergedReplicas(options: PartitionLogOptions) {
    const leaderB = broker(options).log;
    const followerC = broker().log;
    leaderB.appendAsLeader(values('m0'), 0, 0);
    followerC.appendAsFollower(leaderB.batches()[0] as RecordBatch);
    leaderB.appendAsLeader(values('m1'), 0, 0);
    followerC.appendAsLeader(values('m2'), 1, 0);
    leaderB.appendAsLeader(values('m3'), 2, 0);
    truncateByEpoch(followerC, leaderB);
    return { leaderB, followerC };
  }

  it('lets a follower drop records of an epoch the leader never had', () => {
    const { leaderB, followerC } = divergedReplicas({});
    expect(followerC.batches()).toEqual(leaderB.batches());
  });

  it('with kip101Lookup, a follower keeps records of an epoch the leader never had', () => {
    const { leaderB, followerC } = divergedReplicas({ kip101Lookup: true });
    expect(followerC.logEndOffset).toBe(leaderB.logEndOffset);
    const valuesOf = (log: PartitionLog) => log.batches().map((batch) => batch.records[0]?.value);
    expect(valuesOf(leaderB)).toEqual(['m0', 'm1', 'm3']);
    expect(valuesOf(followerC)).toEqual(['m0', 'm2', 'm3']);
  });
});

// The property: random appends, truncations, flushes, crashes and waits against a model.

type Step =
  | { readonly op: 'leaderAppend'; readonly epochBump: number; readonly count: number }
  | { readonly op: 'followerAppend'; readonly epochBump: number; readonly count: number }
  | { readonly op: 'truncate'; readonly fraction: number }
  | { readonly op: 'flush' }
  | { readonly op: 'wait'; readonly ms: number }
  | { readonly op: 'crash'; readonly kind: CrashKind };

const appendArbitrary = (op: 'leaderAppend' | 'followerAppend') =>
  fc
    .record({
      epochBump: fc.oneof(
        { weight: 2, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) },
      ),
      count: fc.integer({ min: 1, max: 4 }),
    })
    .map((fields): Step => ({ op, ...fields }));

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: appendArbitrary('leaderAppend') },
  { weight: 3, arbitrary: appendArbitrary('followerAppend') },
  {
    weight: 2,
    // Mostly near the end (a follower dropping its divergent tail), sometimes past it.
    arbitrary: fc
      .oneof(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0.7, max: 1.2, noNaN: true }),
      )
      .map((fraction): Step => ({ op: 'truncate', fraction })),
  },
  { weight: 2, arbitrary: fc.constant<Step>({ op: 'flush' }) },
  {
    weight: 3,
    // Short waits, and waits around the 30 s write-back.
    arbitrary: fc
      .oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 25_000, max: 40_000 }))
      .map((ms): Step => ({ op: 'wait', ms })),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        { weight: 1, arbitrary: fc.constantFrom(...CRASH_KINDS) },
        { weight: 2, arbitrary: fc.constant<CrashKind>('powerFailure') },
      )
      .map((kind): Step => ({ op: 'crash', kind })),
  },
);

interface ModelBatch {
  readonly batch: RecordBatch;
  /** When this disk appended it (what write-back goes by), not the leader's appendedAtMs. */
  readonly localAppendMs: number;
}

class Model {
  batches: ModelBatch[] = [];
  flushedCount = 0;
  /** The largest epoch ever used, so epochs keep growing across truncations and crashes. */
  epochMax = 0;

  get logEndOffset(): number {
    const last = this.batches[this.batches.length - 1];
    return last === undefined ? 0 : last.batch.lastOffset + 1;
  }

  /** Each epoch's first batch, from the batches alone. */
  epochEntries(): EpochEntry[] {
    const entries: EpochEntry[] = [];
    for (const { batch } of this.batches) {
      const last = entries[entries.length - 1];
      if (last === undefined || last.epoch !== batch.leaderEpoch) {
        entries.push({ epoch: batch.leaderEpoch, startOffset: batch.baseOffset });
      }
    }
    return entries;
  }

  /** How many batches a power failure at `nowMs` keeps. */
  durableCount(nowMs: number): number {
    let count = this.flushedCount;
    while (count < this.batches.length) {
      const next = this.batches[count] as ModelBatch;
      if (next.localAppendMs > nowMs - WRITEBACK_MS) break;
      count++;
    }
    return count;
  }

  keep(count: number): void {
    this.batches = this.batches.slice(0, count);
    this.flushedCount = Math.min(this.flushedCount, count);
  }

  /** KIP-279 answer computed from the batches (not from an epoch cache). */
  endOffsetForEpoch(epoch: number, kip101: boolean): EpochEndOffset {
    const upTo = this.batches.filter(({ batch }) => batch.leaderEpoch <= epoch);
    const last = upTo[upTo.length - 1];
    const first = this.batches[0];
    if (epoch < 0 || first === undefined) return UNDEFINED_END;
    if (last === undefined) return { epoch, endOffset: first.batch.baseOffset };
    return {
      epoch: kip101 ? epoch : last.batch.leaderEpoch,
      endOffset: last.batch.lastOffset + 1,
    };
  }
}

function applyStep(step: Step, state: ReturnType<typeof broker>, model: Model): void {
  switch (step.op) {
    case 'leaderAppend': {
      const epoch = model.epochMax + step.epochBump;
      const records = Array.from({ length: step.count }, (_, index) => ({
        key: index % 2 === 0 ? null : `k${index}`,
        value: `v${model.logEndOffset + index}`,
      }));
      const batch = state.log.appendAsLeader(records, epoch, state.nowMs);
      expect(batch.baseOffset).toBe(model.logEndOffset);
      expect(batch.records).toEqual(
        records.map((record, index) => ({ ...record, offset: model.logEndOffset + index })),
      );
      model.batches.push({ batch, localAppendMs: state.nowMs });
      model.epochMax = epoch;
      return;
    }
    case 'followerAppend': {
      const epoch = model.epochMax + step.epochBump;
      const batch = followerBatch(model.logEndOffset, epoch, step.count);
      state.log.appendAsFollower(batch);
      model.batches.push({ batch, localAppendMs: state.nowMs });
      model.epochMax = epoch;
      return;
    }
    case 'truncate': {
      const offset = Math.floor(step.fraction * model.logEndOffset);
      state.log.truncateTo(offset);
      model.keep(model.batches.filter(({ batch }) => batch.lastOffset < offset).length);
      return;
    }
    case 'flush':
      state.log.flush();
      model.flushedCount = model.batches.length;
      return;
    case 'wait':
      state.advance(step.ms);
      return;
    case 'crash': {
      if (step.kind === 'powerFailure') {
        const durable = model.durableCount(state.nowMs);
        model.keep(durable);
        model.flushedCount = durable;
      }
      if (step.kind === 'diskLoss') model.keep(0);
      state.crash(step.kind);
      return;
    }
  }
}

/** Where offsets are not contiguous from the log start (one line per break). */
function offsetGaps(log: PartitionLog): string[] {
  const gaps: string[] = [];
  let expectedOffset = log.logStartOffset;
  for (const batch of log.batches()) {
    batch.records.forEach((record, index) => {
      if (record.offset !== expectedOffset + index) {
        gaps.push(`record ${record.offset} at ${expectedOffset + index}`);
      }
    });
    if (batch.baseOffset !== expectedOffset)
      gaps.push(`batch ${batch.baseOffset} at ${expectedOffset}`);
    expectedOffset = batch.lastOffset + 1;
  }
  return gaps;
}

/** Epoch entries not increasing or not at the first batch of their epoch. */
function epochCacheMismatches(log: PartitionLog): string[] {
  const mismatches: string[] = [];
  log.epochEntries().forEach((entry, index, all) => {
    const previous = all[index - 1];
    if (previous !== undefined && entry.epoch <= previous.epoch) {
      mismatches.push(`epoch ${entry.epoch} after ${previous.epoch}`);
    }
    const first = log.batches().find((batch) => batch.leaderEpoch === entry.epoch);
    if (first?.baseOffset !== entry.startOffset) {
      mismatches.push(
        `epoch ${entry.epoch} at ${entry.startOffset}, first batch at ${first?.baseOffset}`,
      );
    }
  });
  return mismatches;
}

function checkAgainstModel(state: ReturnType<typeof broker>, model: Model, kip101: boolean): void {
  const log = state.log;
  // The log keeps the very objects appended, so identity is the fast path; toEqual explains.
  const batches = log.batches();
  const modelBatches = model.batches.map(({ batch }) => batch);
  if (
    batches.length !== modelBatches.length ||
    batches.some((batch, index) => batch !== modelBatches[index])
  ) {
    expect(batches).toEqual(modelBatches);
  }
  expect(log.logEndOffset).toBe(model.logEndOffset);
  const entries = model.epochEntries();
  expect(log.epochEntries()).toEqual(entries);
  expect(log.lastEpoch).toBe(entries[entries.length - 1]?.epoch ?? UNDEFINED_EPOCH);
  const durable = model.batches[model.durableCount(state.nowMs) - 1];
  expect(log.flushedOffset).toBe(durable === undefined ? 0 : durable.batch.lastOffset + 1);
  expect(offsetGaps(log)).toEqual([]);
  expect(epochCacheMismatches(log)).toEqual([]);
  const epochs = Array.from({ length: model.epochMax + 3 }, (_, index) => index - 1);
  expect(epochs.map((epoch) => log.endOffsetForEpoch(epoch))).toEqual(
    epochs.map((epoch) => model.endOffsetForEpoch(epoch, kip101)),
  );
}

describe('PartitionLog under appends, truncations and crashes', () => {
  test.prop([fc.array(stepArbitrary, { maxLength: 80, size: 'max' }), fc.boolean()], {
    numRuns: 300,
  })('matches a model that keeps exactly the durable prefix across crashes', (steps, kip101) => {
    const state = broker({ kip101Lookup: kip101 });
    const model = new Model();
    for (const step of steps) {
      applyStep(step, state, model);
      checkAgainstModel(state, model, kip101);
    }
  });
});
