import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CRASH_KINDS, type CrashKind, Disk, type LogFile } from './disk.ts';

/** A disk on a clock the test moves by hand. */
function manualDisk(writebackMs: number | null) {
  let nowMs = 0;
  const disk = new Disk(() => nowMs, { writebackMs });
  return {
    disk,
    advance(ms: number): void {
      nowMs += ms;
    },
  };
}

type Operation =
  | { readonly op: 'append'; readonly sizeBytes: number }
  | { readonly op: 'flush' }
  | { readonly op: 'truncate'; readonly fraction: number }
  | { readonly op: 'wait'; readonly ms: number }
  | { readonly op: 'crash'; readonly kind: CrashKind };

const operationArbitrary: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .integer({ min: 0, max: 100 })
      .map((sizeBytes): Operation => ({ op: 'append', sizeBytes })),
  },
  { weight: 2, arbitrary: fc.constant<Operation>({ op: 'flush' }) },
  {
    weight: 1,
    arbitrary: fc
      .double({ min: 0, max: 1, noNaN: true })
      .map((fraction): Operation => ({ op: 'truncate', fraction })),
  },
  {
    weight: 3,
    arbitrary: fc.integer({ min: 0, max: 20_000 }).map((ms): Operation => ({ op: 'wait', ms })),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(...CRASH_KINDS).map((kind): Operation => ({ op: 'crash', kind })),
  },
);

interface ModelRecord {
  readonly value: number;
  readonly sizeBytes: number;
  readonly appendedAtMs: number;
}

describe('LogFile under crashes', () => {
  test.prop(
    [
      fc.array(operationArbitrary, { maxLength: 120 }),
      fc.constantFrom<number | null>(null, 5_000, 30_000),
    ],
    { numRuns: 300 },
  )(
    'kill keeps everything appended, powerFailure the flushed prefix (and written-back records), diskLoss nothing',
    (operations, writebackMs) => {
      const { disk, advance } = manualDisk(writebackMs);
      let file: LogFile<number> = disk.log<number>('segment');
      let nowMs = 0;
      let model: ModelRecord[] = [];
      let flushedLength = 0;
      let valueNext = 0;
      for (const operation of operations) {
        switch (operation.op) {
          case 'append': {
            const record = {
              value: valueNext++,
              sizeBytes: operation.sizeBytes,
              appendedAtMs: nowMs,
            };
            file.append(record.value, record.sizeBytes);
            model.push(record);
            break;
          }
          case 'flush':
            file.flush();
            flushedLength = model.length;
            break;
          case 'truncate': {
            const length = Math.floor(operation.fraction * model.length);
            file.truncate(length);
            model = model.slice(0, length);
            flushedLength = Math.min(flushedLength, length);
            break;
          }
          case 'wait':
            advance(operation.ms);
            nowMs += operation.ms;
            break;
          case 'crash': {
            // What must survive, computed from the model.
            let survivors: number;
            if (operation.kind === 'kill') survivors = model.length;
            else if (operation.kind === 'diskLoss') survivors = 0;
            else {
              let writtenBack = 0;
              if (writebackMs !== null) {
                while (
                  writtenBack < model.length &&
                  (model[writtenBack] as ModelRecord).appendedAtMs <= nowMs - writebackMs
                ) {
                  writtenBack++;
                }
              }
              survivors = Math.max(flushedLength, writtenBack);
            }
            if (operation.kind === 'powerFailure')
              expect(file.durableLength(nowMs)).toBe(survivors);
            disk.crash(operation.kind);
            model = model.slice(0, survivors);
            if (operation.kind !== 'kill') flushedLength = survivors;
            if (operation.kind === 'diskLoss') {
              expect(disk.has('segment')).toBe(false);
              file = disk.log<number>('segment');
            }
            break;
          }
        }
        expect(file.records()).toEqual(model.map((record) => record.value));
        expect(file.length).toBe(model.length);
        expect(file.flushedLength).toBe(flushedLength);
        const sizeBytes = model.reduce((sum, record) => sum + record.sizeBytes, 0);
        expect(file.sizeBytes).toBe(sizeBytes);
        const flushedBytes = model
          .slice(0, flushedLength)
          .reduce((sum, record) => sum + record.sizeBytes, 0);
        expect(file.flushedBytes).toBe(flushedBytes);
      }
    },
  );

  it('a power failure keeps the flushed prefix and loses the rest (no write-back)', () => {
    const { disk, advance } = manualDisk(null);
    const log = disk.log<string>('log');
    log.append('a');
    log.append('b');
    log.flush();
    log.append('c');
    advance(1_000_000);
    disk.crash('powerFailure');
    expect(log.records()).toEqual(['a', 'b']);
    log.append('d');
    disk.crash('kill');
    expect(log.records()).toEqual(['a', 'b', 'd']);
    disk.crash('diskLoss');
    expect(disk.names()).toEqual([]);
    expect(disk.log<string>('log').records()).toEqual([]);
  });

  it('write-back makes records durable once they are writebackMs old', () => {
    const { disk, advance } = manualDisk(30_000);
    const log = disk.log<string>('log');
    log.append('old'); // at 0
    advance(10_000);
    log.append('younger'); // at 10 000
    advance(20_000); // now 30 000: 'old' is exactly 30 s old, 'younger' 20 s
    expect(log.durableLength(30_000)).toBe(1);
    expect(log.flushedLength).toBe(0);
    disk.crash('powerFailure');
    expect(log.records()).toEqual(['old']);
    expect(log.flushedLength).toBe(1);
  });

  it('truncation is durable at once: truncated records never come back', () => {
    const { disk, advance } = manualDisk(null);
    const log = disk.log<string>('log');
    for (const record of ['a', 'b', 'c']) log.append(record);
    log.flush();
    log.truncate(1);
    expect(log.flushedLength).toBe(1);
    log.append('d');
    advance(1);
    disk.crash('powerFailure');
    expect(log.records()).toEqual(['a']);
    expect(() => log.truncate(2)).toThrow('truncate to 2 beyond the end 1');
    expect(() => log.truncate(-1)).toThrow(/non-negative integer/);
  });

  it('reads records by index and rejects reads outside the log', () => {
    const { disk } = manualDisk(null);
    const log = disk.log<string>('log');
    log.append('a');
    log.append('b');
    expect(log.at(1)).toBe('b');
    expect(() => log.at(2)).toThrow('log read at 2 outside [0, 2)');
    expect(() => log.at(-1)).toThrow(/outside/);
    expect(() => log.append('c', -1)).toThrow(/sizeBytes must be a non-negative integer/);
    expect(() => log.append('c', 1.5)).toThrow(/sizeBytes/);
  });

  it('keeps a key per record, finds records by it, and forgets the keys a truncation removed', () => {
    const { disk } = manualDisk(null);
    const log = disk.log<string>('log');
    log.append('a', 10, 4);
    log.append('b', 20, 9);
    log.append('c', 5, 9);
    log.append('d', 1, 30);
    expect(log.keyAt(1)).toBe(9);
    expect([0, 4, 5, 9, 10, 30, 31].map((key) => log.indexOfKeyAtLeast(key))).toEqual([
      0, 0, 1, 1, 3, 3, 4,
    ]);
    expect([0, 1, 2, 4].map((length) => log.bytesBefore(length))).toEqual([0, 10, 30, 36]);
    log.truncate(2);
    expect(() => log.keyAt(2)).toThrow('log key read at 2 outside [0, 2)');
    expect(log.indexOfKeyAtLeast(10)).toBe(2);
    expect(() => log.bytesBefore(3)).toThrow(/outside/);
    expect(() => log.append('e', 1, 8)).toThrow('log key 8 below the last 9');
    expect(() => log.append('e', 1, 2 ** 31)).toThrow(/must be an int32/);
    log.append('e', 1, 9);
    expect(log.keyAt(2)).toBe(9);
  });

  it('finds the first of equal keys, at the end of the file as anywhere', () => {
    const { disk } = manualDisk(null);
    const log = disk.log<string>('log');
    expect(log.indexOfKeyAtLeast(0)).toBe(0);
    log.append('a', 1, 5);
    expect([4, 5, 6].map((key) => log.indexOfKeyAtLeast(key))).toEqual([0, 0, 1]);
    for (const record of ['b', 'c', 'd']) log.append(record, 1, 9);
    expect([4, 5, 6, 9, 10].map((key) => log.indexOfKeyAtLeast(key))).toEqual([0, 0, 1, 1, 4]);
    log.append('e', 1, 12);
    expect([9, 10, 12, 13].map((key) => log.indexOfKeyAtLeast(key))).toEqual([1, 4, 4, 5]);
  });
});

describe('CheckpointFile', () => {
  it('write is lost on power failure, writeDurably is not, kill keeps both', () => {
    const { disk, advance } = manualDisk(null);
    const checkpoint = disk.checkpoint<number>('checkpoint');
    expect(checkpoint.read()).toBeUndefined();
    checkpoint.write(1);
    expect(checkpoint.isDirty).toBe(true);
    advance(1_000_000);
    disk.crash('powerFailure');
    expect(checkpoint.read()).toBeUndefined();
    expect(checkpoint.isDirty).toBe(false);

    checkpoint.writeDurably(2);
    expect(checkpoint.isDirty).toBe(false);
    checkpoint.write(3);
    disk.crash('kill');
    expect(checkpoint.read()).toBe(3);
    disk.crash('powerFailure');
    expect(checkpoint.read()).toBe(2);

    checkpoint.write(4);
    checkpoint.flush();
    disk.crash('powerFailure');
    expect(checkpoint.read()).toBe(4);
    disk.crash('diskLoss');
    expect(disk.has('checkpoint')).toBe(false);
    expect(disk.checkpoint<number>('checkpoint').read()).toBeUndefined();
  });

  it('write-back makes a checkpoint durable once it is writebackMs old', () => {
    const { disk, advance } = manualDisk(30_000);
    const checkpoint = disk.checkpoint<string>('checkpoint');
    checkpoint.writeDurably('durable');
    checkpoint.write('recent');
    advance(29_999);
    // Just short of the write-back age: lost.
    disk.crash('powerFailure');
    expect(checkpoint.read()).toBe('durable');
    checkpoint.write('old enough');
    advance(30_000);
    disk.crash('powerFailure');
    expect(checkpoint.read()).toBe('old enough');
  });
});

describe('Disk', () => {
  it('counts appended and flushed bytes and flushes', () => {
    const { disk } = manualDisk(null);
    const log = disk.log<string>('log');
    log.append('a', 10);
    log.append('b', 5);
    expect(disk.stats).toEqual({ appendedBytes: 15, flushedBytes: 0, flushes: 0 });
    log.flush();
    expect(disk.stats).toEqual({ appendedBytes: 15, flushedBytes: 15, flushes: 1 });
    log.flush(); // nothing new: not a flush
    expect(disk.stats.flushes).toBe(1);
    log.append('c', 7);
    log.flush();
    expect(disk.stats).toEqual({ appendedBytes: 22, flushedBytes: 22, flushes: 2 });
    expect(log.sizeBytes).toBe(22);
    expect(log.flushedBytes).toBe(22);
    log.truncate(1);
    expect(log.sizeBytes).toBe(10);
    expect(log.flushedBytes).toBe(10);

    const checkpoint = disk.checkpoint<string>('checkpoint');
    checkpoint.writeDurably('state', 100);
    expect(disk.stats).toEqual({ appendedBytes: 122, flushedBytes: 122, flushes: 3 });
    checkpoint.write('later', 40);
    checkpoint.write('latest', 60);
    checkpoint.flush();
    expect(disk.stats).toEqual({ appendedBytes: 222, flushedBytes: 182, flushes: 4 });
  });

  it('flushAll makes every file durable', () => {
    const { disk } = manualDisk(null);
    const log = disk.log<string>('log');
    const checkpoint = disk.checkpoint<string>('checkpoint');
    log.append('a');
    checkpoint.write('x');
    disk.flushAll();
    disk.crash('powerFailure');
    expect(log.records()).toEqual(['a']);
    expect(checkpoint.read()).toBe('x');
  });

  it('keeps files by name in creation order; deletion is durable; kinds do not mix', () => {
    const { disk } = manualDisk(null);
    const log = disk.log<string>('b-log');
    disk.checkpoint<string>('a-checkpoint');
    expect(disk.log<string>('b-log')).toBe(log);
    expect(disk.names()).toEqual(['b-log', 'a-checkpoint']);
    expect(() => disk.checkpoint('b-log')).toThrow('disk file "b-log" exists with another kind');
    expect(() => disk.log('a-checkpoint')).toThrow(/another kind/);
    disk.delete('b-log');
    disk.crash('powerFailure');
    expect(disk.has('b-log')).toBe(false);
    expect(disk.names()).toEqual(['a-checkpoint']);
  });

  it('writes back after 30 s by default and takes null for explicit flushes only', () => {
    expect(new Disk(() => 0).writebackMs).toBe(30_000);
    expect(new Disk(() => 0, { writebackMs: null }).writebackMs).toBeNull();
    expect(new Disk(() => 0, { writebackMs: 5 }).writebackMs).toBe(5);
  });

  it('says how many records each crash kind lost', () => {
    const { disk } = manualDisk(null);
    const log = disk.log<string>('log');
    const checkpoint = disk.checkpoint<string>('checkpoint');
    log.append('a');
    log.flush();
    log.append('b');
    log.append('c');
    checkpoint.write('x');
    expect(disk.crash('kill')).toBe(0);
    expect(disk.crash('powerFailure')).toBe(3);
    log.append('d');
    expect(disk.crash('diskLoss')).toBe(2);
  });
});
