import { describe, expect, it } from 'vitest';
import { runKafka } from './kafka-harness.ts';

describe('the end-of-run verdicts', () => {
  it('writes-resolve: a send still waiting after the heal is reported, with its producer and value', () => {
    const result = runKafka({
      seed: 2,
      controllers: 1,
      brokers: 3,
      topics: [{ name: 't', partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 }],
      producers: [
        { topic: 't', acks: 'all', everyMs: 100 },
        // A topic nobody creates: the send waits for its metadata, past the end of the run.
        { topic: 'missing', acks: 'all', everyMs: 1_000, count: 1, startMs: 28_000 },
      ],
      consumers: [['t']],
      faults: [],
      faultPhaseMs: 20_000,
      healPhaseMs: 10_000,
    });
    expect(result.violations.map((violation) => violation.message)).toEqual([
      "p2's write p2-0 to missing (no partition chosen yet) is still unresolved after healing",
    ]);
    // The other producer's writes all resolved: nothing else is open.
    expect(result.history.openCount).toBe(1);
  });
});

describe('losses of a record written twice at one offset', () => {
  // As large seed 289 once did (min ISR 1): the leader b1 is cut off with the producer and appends
  // writes nobody replicates; the controller fences it and elects b2; after the heal b1 truncates
  // them (never committed) and stops; the producer's retries land on b2 at the same offsets, are
  // committed and acknowledged, and b2 loses them in a power failure. Every copy held since the
  // commit was lost in a lossy crash: an allowed loss. The checker once counted b1's earlier,
  // truncated copy as a holder of the committed record and failed acked-write-durable.
  it('counts only the copies held since the commit', () => {
    const truncations: string[] = [];
    const result = runKafka({
      seed: 1,
      controllers: 1,
      brokers: 2,
      topics: [{ name: 't', partitions: 1, replicationFactor: 2, minInsyncReplicas: 1 }],
      producers: [{ topic: 't', acks: 'all', everyMs: 1_000 }],
      consumers: [],
      faults: [
        {
          atMs: 10_500,
          kind: 'partition',
          groups: [
            ['@replica-0', 'p1'],
            ['@replica-1', 'c1'],
          ],
          mode: 'silent',
        },
        { atMs: 22_000, kind: 'heal' },
        { atMs: 22_200, kind: 'stop', node: '@replica-0' },
        { atMs: 27_000, kind: 'crash', node: '@replica-1', crash: 'powerFailure' },
      ],
      faultPhaseMs: 30_000,
      healPhaseMs: 30_000,
      trace: {
        sink: (event) =>
          truncations.push(`${event.node} ${event.fields?.from}→${event.fields?.to}`),
        sinkFilter: (kind) => kind === 'replica.truncate',
      },
    });
    // b2 comes back as the last known leader (KIP-966), an unclean election: b1 truncates to it.
    expect(truncations).toEqual(['b1 15→4', 'b1 4→0']);
    expect(result.violations.map((violation) => violation.message)).toEqual([]);
    expect(result.allowed.map((loss) => loss.message)).toContainEqual(
      expect.stringMatching(
        /^t-0: committed record p1-4 \(offset 4, committed at \d+ ms\) is lost \(its replicas: b2 lost it in a lossy crash\)$/,
      ),
    );
  });
});

describe('a final leader elected uncleanly', () => {
  // RF 2: the follower is removed (it leaves the ISR and the cluster, its log kept on its disk),
  // the lone leader loses power after the last write and comes back with nothing flushed. Kafka
  // elects it again as the last known leader (KIP-966), RECOVERING: the records only the removed
  // broker still holds are lost by that election, an allowed loss (unclean-election), and those
  // nobody else held by the crash (lossy-crashes). Nothing covers their offsets again (no more
  // writes): only the end of the run sees them. The checker once called them acked-write-durable.
  it('loses what it lacks as unclean-election, though a removed broker still holds it', () => {
    const result = runKafka({
      seed: 1,
      controllers: 1,
      brokers: 3,
      topics: [{ name: 't', partitions: 1, replicationFactor: 2, minInsyncReplicas: 1 }],
      producers: [{ topic: 't', acks: 'all', everyMs: 100, count: 50 }],
      consumers: [],
      faults: [
        { atMs: 10_000, kind: 'remove-broker', node: '@replica-1' },
        { atMs: 15_000, kind: 'bounce', node: '@replica-0', crash: 'powerFailure', downMs: 1_000 },
      ],
      faultPhaseMs: 30_000,
      healPhaseMs: 30_000,
    });
    expect(result.violations.map((violation) => violation.message)).toEqual([]);
    expect(result.allowed.map((loss) => loss.message)).toContainEqual(
      expect.stringMatching(
        /^t-0: committed record p1-0 \(offset 0, committed at \d+ ms\) is lost: the final leader b\d does not hold it \(its replicas: b\d truncated it after an unclean election, b\d still holds it\)$/,
      ),
    );
    const reasons = new Set(result.allowed.map((loss) => loss.reason));
    expect(reasons).toEqual(new Set(['unclean-election', 'lossy-crashes']));
  });
});
