import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Disk } from '../../kernel/disk.ts';
import { type RaftEntry, RaftLog } from './log.ts';

/** A log of batches of the given entry counts, each entry `sizeBytes` big; ids `b<batch>.<entry>`. */
function logOf(batchSizes: readonly number[], sizeBytes = 10): RaftLog {
  const log = new RaftLog(new Disk(() => 0));
  batchSizes.forEach((count, batch) => {
    for (let index = 0; index < count; index++) {
      const payload = { type: 'record', id: `b${batch}.${index}`, record: null } as const;
      log.append(
        index < count - 1
          ? { epoch: 1, payload, sizeBytes, moreInBatch: true }
          : { epoch: 1, payload, sizeBytes },
      );
    }
  });
  return log;
}

const ids = (entries: readonly RaftEntry[]) =>
  entries.map((entry) => (entry.payload.type === 'record' ? entry.payload.id : '?'));

describe('RaftLog.read', () => {
  it('returns whole batches only, and at least one however small the cap', () => {
    const log = logOf([1, 3, 2]);
    // 25 bytes would end inside the second batch: it is left for the next read.
    expect(ids(log.read(0, 25))).toEqual(['b0.0']);
    expect(ids(log.read(0, 40))).toEqual(['b0.0', 'b1.0', 'b1.1', 'b1.2']);
    // The first batch is sent whole even when it alone is over the cap.
    expect(ids(log.read(1, 1))).toEqual(['b1.0', 'b1.1', 'b1.2']);
    expect(ids(log.read(4, 1000))).toEqual(['b2.0', 'b2.1']);
    expect(log.read(6, 1000)).toEqual([]);
  });

  test.prop([
    fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 12 }),
    fc.nat(80),
  ])(
    'reading from batch start to batch start, whatever the cap, returns the log exactly',
    (batchSizes, maxBytes) => {
      const log = logOf(batchSizes);
      const read: RaftEntry[] = [];
      while (read.length < log.endOffset) {
        const entries = log.read(read.length, maxBytes);
        expect(entries.length).toBeGreaterThan(0);
        // Every read ends where a batch ends.
        expect(entries[entries.length - 1]?.moreInBatch).toBeUndefined();
        read.push(...entries);
      }
      expect(read).toEqual(Array.from({ length: log.endOffset }, (_, offset) => log.entry(offset)));
    },
  );
});
