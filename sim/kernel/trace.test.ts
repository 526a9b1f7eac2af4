import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { NodeId } from './network.ts';
import type { Machine, NodeContext } from './node.ts';
import { Clock } from './time.ts';
import {
  ChromeTraceWriter,
  Trace,
  type TraceEvent,
  type TraceFields,
  TraceLink,
  TraceName,
  TraceNode,
  type TraceShape,
  type TraceShapedValue,
  type TraceShapeOf,
  type TraceValue,
  traceEventToJsonLine,
  traceShape,
} from './trace.ts';
import { World } from './world.ts';

interface EventSpec {
  readonly delayMs: number;
  readonly node: string;
  readonly kind: string;
  readonly fields: Record<string, TraceValue> | undefined;
}

const valueArbitrary: fc.Arbitrary<TraceValue> = fc.oneof(
  fc.integer(),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(null),
);

const eventArbitrary: fc.Arbitrary<EventSpec> = fc.record({
  delayMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000_000_000 })),
  node: fc.string({ maxLength: 6 }),
  kind: fc.string({ maxLength: 10 }),
  fields: fc.option(fc.dictionary(fc.string({ maxLength: 6 }), valueArbitrary, { maxKeys: 4 }), {
    nil: undefined,
  }),
});

function hashOf(events: readonly EventSpec[]): string {
  const clock = new Clock();
  const trace = new Trace(clock, { ringCapacity: 1 });
  for (const event of events) {
    clock.advanceTo(clock.nowMs + event.delayMs);
    trace.emit(event.node, event.kind, event.fields);
  }
  return trace.hash;
}

/** A different value of the same or another type. */
function otherValue(value: TraceValue, choice: number): TraceValue {
  if (choice % 2 === 1) {
    // Another type with the same text: 1 vs "1", true vs "true", null vs "null".
    return typeof value === 'string' ? (value === '' ? 0 : null) : String(value);
  }
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value + 1 : value * 2 + 1;
  if (typeof value === 'string') return `${value}x`;
  if (typeof value === 'boolean') return !value;
  return false;
}

type Mutation =
  | 'delay'
  | 'node'
  | 'kind'
  | 'fieldKey'
  | 'fieldValue'
  | 'fieldValueType'
  | 'fieldAdded';

function mutate(event: EventSpec, mutation: Mutation): EventSpec {
  const fields = event.fields ?? {};
  const keys = Object.keys(fields);
  switch (mutation) {
    case 'delay':
      return { ...event, delayMs: event.delayMs + 1 };
    case 'node':
      return { ...event, node: `${event.node}x` };
    case 'kind':
      return { ...event, kind: `${event.kind}.x` };
    case 'fieldAdded':
      return { ...event, fields: { ...fields, [`${keys.join('')}+`]: 0 } };
  }
  const key = keys[0];
  if (key === undefined) return { ...event, fields: { added: 1 } };
  const value = fields[key] as TraceValue;
  if (mutation === 'fieldKey') {
    const renamed: Record<string, TraceValue> = {};
    for (const each of keys)
      renamed[each === key ? `${keys.join('')}~` : each] = fields[each] as TraceValue;
    return { ...event, fields: renamed };
  }
  return {
    ...event,
    fields: { ...fields, [key]: otherValue(value, mutation === 'fieldValueType' ? 1 : 0) },
  };
}

describe('Trace hash', () => {
  test.prop([fc.array(eventArbitrary, { minLength: 1, maxLength: 20 })], { numRuns: 200 })(
    'is the same for the same events',
    (events) => {
      expect(hashOf(events)).toBe(hashOf(events.map((event) => ({ ...event }))));
      expect(hashOf(events)).toMatch(/^[0-9a-f]{16}$/);
    },
  );

  test.prop(
    [
      fc.array(eventArbitrary, { minLength: 1, maxLength: 12 }),
      fc.nat(),
      fc.constantFrom<Mutation>(
        'delay',
        'node',
        'kind',
        'fieldKey',
        'fieldValue',
        'fieldValueType',
        'fieldAdded',
      ),
    ],
    { numRuns: 400 },
  )('changes when any field of any event changes', (events, position, mutation) => {
    const index = position % events.length;
    const changed = events.map((event, each) => (each === index ? mutate(event, mutation) : event));
    expect(hashOf(changed)).not.toBe(hashOf(events));
  });

  it('tells apart values that print alike and strings split differently', () => {
    const variants: (TraceFields | undefined)[] = [
      { v: 1 },
      { v: '1' },
      { v: true },
      { v: 'true' },
      { v: null },
      { v: 'null' },
      { v: 0 },
      { v: 2 ** 32 },
      { v: 2 ** 32 + 1 },
      { v: -(2 ** 32) },
      { v: 1.5 },
      { v: '1.5' },
      { ab: 'c' },
      { a: 'bc' },
      { a: 1, b: 2 },
      { b: 2, a: 1 },
    ];
    const hashes = variants.map((fields) => hashOf([{ delayMs: 0, node: 'n', kind: 'k', fields }]));
    expect(new Set(hashes).size).toBe(variants.length);
    expect(hashOf([{ delayMs: 0, node: 'ab', kind: 'c', fields: undefined }])).not.toBe(
      hashOf([{ delayMs: 0, node: 'a', kind: 'bc', fields: undefined }]),
    );
  });

  test.prop(
    [
      fc.string({ maxLength: 5 }),
      fc.string({ maxLength: 5 }),
      fc.string({ maxLength: 5 }),
      fc.nat(),
      fc.nat(),
    ],
    { numRuns: 100 },
  )(
    'emitDelivery hashes and records exactly as the equivalent emit',
    (target, source, type, msg, sentAtMs) => {
      const clockA = new Clock();
      const clockB = new Clock();
      const eventsA: TraceEvent[] = [];
      const eventsB: TraceEvent[] = [];
      const a = new Trace(clockA, { sink: (event) => eventsA.push(event) });
      const b = new Trace(clockB, { sink: (event) => eventsB.push(event) });
      clockA.advanceTo(sentAtMs + 7);
      clockB.advanceTo(sentAtMs + 7);
      a.emit(target, 'net.deliver', { source, type, msg, sentAtMs });
      b.emitDelivery(
        new TraceLink(new TraceNode(source), new TraceNode(target)),
        type,
        msg,
        sentAtMs,
      );
      expect(b.hash).toBe(a.hash);
      const [expected] = eventsA as [TraceEvent];
      const [actual] = eventsB as [TraceEvent];
      expect({ ...actual, kind: actual.kind, fields: actual.fields }).toMatchObject({
        ...expected,
      });
      expect(traceEventToJsonLine(actual)).toBe(traceEventToJsonLine(expected));
    },
  );
  test.prop([fc.string({ maxLength: 5 }), fc.string({ maxLength: 8 }), fc.nat()], {
    numRuns: 100,
  })('emitTimer hashes and records exactly as the equivalent emit', (node, label, atMs) => {
    const clockA = new Clock();
    const clockB = new Clock();
    const eventsA: TraceEvent[] = [];
    const eventsB: TraceEvent[] = [];
    const a = new Trace(clockA, { ringCapacity: 2, sink: (event) => eventsA.push(event) });
    const b = new Trace(clockB, { ringCapacity: 2, sink: (event) => eventsB.push(event) });
    clockA.advanceTo(atMs);
    clockB.advanceTo(atMs);
    a.emit(node, 'timer', { label });
    b.emitTimer(new TraceNode(node), label);
    expect(b.hash).toBe(a.hash);
    expect(eventsB).toEqual(eventsA);
    expect(b.recent()).toEqual(a.recent());
  });

  // A node remembers its last timer's label and a link its last message type: runs of the same
  // one, switches, and the empty string (what both remember at first) must hash as emit does.
  const word = fc.constantFrom('', 'a', 'b', 'fetch', 'timer');
  test.prop([fc.array(fc.tuple(fc.boolean(), fc.nat({ max: 1 }), word), { maxLength: 40 })], {
    numRuns: 100,
  })('emitTimer and emitDelivery remember labels and types without changing a hash', (steps) => {
    const clock = new Clock();
    const a = new Trace(clock);
    const b = new Trace(clock);
    const nodes = [new TraceNode('n0'), new TraceNode('n1')];
    const links = [new TraceLink(nodes[1] as TraceNode, nodes[0] as TraceNode)];
    links.push(new TraceLink(nodes[0] as TraceNode, nodes[1] as TraceNode));
    for (const [timer, which, text] of steps) {
      const node = nodes[which] as TraceNode;
      const link = links[which] as TraceLink;
      if (timer) {
        a.emit(node.name, 'timer', { label: text });
        b.emitTimer(node, text);
      } else {
        const fields = { source: link.source.name, type: text, msg: 1, sentAtMs: 0 };
        a.emit(link.target.name, 'net.deliver', fields);
        b.emitDelivery(link, text, 1, 0);
      }
      expect(b.hash).toBe(a.hash);
    }
  });

  // The shapes the models declare for their hottest events (and one that shares a kind with emit).
  const shapes: readonly TraceShape[] = [
    traceShape('producer.send', ['op', 'topic', 'partition', 'value']),
    traceShape('producer.produce', [
      'target',
      'requestId',
      'topic',
      'partition',
      'records',
      'producerId',
      'baseSequence',
      'retries',
    ]),
    traceShape('producer.ack', ['topic', 'partition', 'baseOffset', 'records', 'leaderEpoch']),
    traceShape('replica.append', ['partition', 'baseOffset', 'records', 'acks', 'duplicate']),
    traceShape('consumer.poll', ['topic', 'partition', 'from', 'records', 'position']),
  ];
  type Eight<T> = [T, T, T, T, T, T, T, T];
  const shapedStep = fc.record({
    shape: fc.nat({ max: shapes.length - 1 }),
    // Plain emit of the same kind, with its names in another order, in both traces: the kind's
    // remembered names must not leak into the shaped events or the other way round.
    plain: fc.boolean(),
    // The shaped event's strings given as TraceNames (hashed once), as the models give some.
    named: fc.boolean(),
    node: fc.constantFrom('p1', 'b-1', ''),
    delayMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000_000_000 })),
    values: fc.array(fc.oneof(valueArbitrary, fc.constant(undefined)), {
      minLength: 8,
      maxLength: 8,
    }),
  });
  test.prop([fc.array(shapedStep, { maxLength: 30 }), fc.integer({ min: 0, max: 5 })], {
    numRuns: 200,
  })(
    'emitShaped (four, five and eight fields, strings as such or as TraceNames) hashes and reads back exactly as emit with the object',
    (steps, ring) => {
      const clockA = new Clock();
      const clockB = new Clock();
      const eventsA: TraceEvent[] = [];
      const eventsB: TraceEvent[] = [];
      const sinkFilter = (kind: string) => kind.startsWith('producer.');
      const a = new Trace(clockA, { ringCapacity: ring, sink: (e) => eventsA.push(e), sinkFilter });
      const b = new Trace(clockB, { ringCapacity: ring, sink: (e) => eventsB.push(e), sinkFilter });
      for (const step of steps) {
        const shape = shapes[step.shape] as TraceShape;
        clockA.advanceTo(clockA.nowMs + step.delayMs);
        clockB.advanceTo(clockB.nowMs + step.delayMs);
        const names = shape.fieldNames;
        // Built here as a model's call site built it, not by the shape (whose fieldsOf is under test).
        const fields = Object.fromEntries(
          (step.plain ? [...names].reverse() : names).map((name) => [
            name,
            step.values[names.indexOf(name)],
          ]),
        ) as TraceFields;
        a.emit(step.node, shape.kind, fields);
        if (step.plain) b.emit(step.node, shape.kind, fields);
        else {
          const values = step.values.map((value) =>
            step.named && typeof value === 'string' ? new TraceName(value) : value,
          );
          const [v0, v1, v2, v3, v4, v5, v6, v7] = values as Eight<TraceShapedValue>;
          const node = new TraceNode(step.node);
          if (names.length === 4) b.emitShaped(node, shape as TraceShapeOf<4>, v0, v1, v2, v3);
          else if (names.length === 5)
            b.emitShaped(node, shape as TraceShapeOf<5>, v0, v1, v2, v3, v4);
          else b.emitShaped(node, shape as TraceShapeOf<8>, v0, v1, v2, v3, v4, v5, v6, v7);
        }
        expect(b.hash).toBe(a.hash);
      }
      // Strict: a field whose value is undefined is there in both, and in the same order.
      expect(eventsB).toStrictEqual(eventsA);
      expect(b.recent()).toStrictEqual(a.recent());
      expect(b.recent().map((e) => Object.keys(e.fields ?? {}))).toEqual(
        a.recent().map((e) => Object.keys(e.fields ?? {})),
      );
      expect(eventsB.map(traceEventToJsonLine)).toEqual(eventsA.map(traceEventToJsonLine));
    },
  );

  it('refuses a shape with too many fields or a name twice', () => {
    expect(() => traceShape('k', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'])).toThrow(
      RangeError,
    );
    expect(() => traceShape('k', ['a', 'b', 'a'])).toThrow(RangeError);
    expect(() => traceShape('k', ['a', '1'])).toThrow(RangeError);
  });

  it('hashes a pinned mix of kinds, field orders and deliveries to a fixed value', () => {
    // Emit remembers the hashes of kinds and field names: the same kind with other names, in
    // another order or none at all, and a delivery of a type that is also a kind, must hash as
    // they did before it did.
    const clock = new Clock();
    const trace = new Trace(clock, { ringCapacity: 4 });
    const kinds = ['a.send', 'b', 'a.send', 'net.deliver', 'b'];
    const source = new TraceNode('n9');
    const links = [0, 1, 2].map((n) => new TraceLink(source, new TraceNode(`n${n}`)));
    for (let i = 0; i < 40; i++) {
      clock.advanceTo(clock.nowMs + (i % 3));
      const kind = kinds[i % kinds.length] as string;
      if (i % 4 === 0) trace.emit(`n${i % 3}`, kind, { x: i, y: `v${i}` });
      else if (i % 4 === 1) trace.emit(`n${i % 3}`, kind, { y: `v${i}`, x: i, z: i % 2 === 0 });
      else if (i % 4 === 2) trace.emit(`n${i % 3}`, kind);
      // One link per target, each remembering its last type: of a kind, or of another.
      else trace.emitDelivery(links[i % 3] as TraceLink, kind, i, clock.nowMs);
    }
    expect(trace.hash).toBe('7e463a208a1995fe');
  });
});

describe('Trace ring and sink', () => {
  it('keeps the newest events in order, up to its capacity', () => {
    const clock = new Clock();
    const trace = new Trace(clock, { ringCapacity: 3 });
    expect(trace.recent()).toEqual([]);
    trace.emit('n', 'first');
    clock.advanceTo(5);
    trace.emit('n', 'second', { x: 1 });
    expect(trace.recent().map((event) => [event.index, event.atMs, event.kind])).toEqual([
      [0, 0, 'first'],
      [1, 5, 'second'],
    ]);
    for (let i = 2; i < 10; i++) trace.emit('n', `e${i}`);
    expect(trace.count).toBe(10);
    expect(trace.ringCapacity).toBe(3);
    expect(trace.recent().map((event) => event.index)).toEqual([7, 8, 9]);
    expect(trace.recent().map((event) => event.kind)).toEqual(['e7', 'e8', 'e9']);
    expect(trace.recent(2).map((event) => event.index)).toEqual([8, 9]);
    expect(trace.recent(100).map((event) => event.index)).toEqual([7, 8, 9]);
    expect(trace.recent(0)).toEqual([]);
    expect(() => new Trace(clock, { ringCapacity: -1 })).toThrow(
      /ringCapacity must be a non-negative integer/,
    );
    expect(() => new Trace(clock, { ringCapacity: 1.5 })).toThrow(RangeError);
  });

  // Without a ring (the default) an event's fields are stored only for a sink that takes it: one
  // skipped must not leave its kind, node or time to the next event the sink takes.
  const anyShape = traceShape('x.shaped', ['a', 'b', 'c', 'd']);
  const anyStep = fc.record({
    kind: fc.constantFrom('emit', 'delivery', 'timer', 'shaped'),
    node: fc.constantFrom('n1', 'n2'),
    word: fc.constantFrom('a', 'b', 'tick'),
    value: fc.oneof(fc.nat({ max: 9 }), fc.constantFrom('v', 'w')),
    delayMs: fc.nat({ max: 3 }),
  });
  test.prop(
    [
      fc.array(anyStep, { maxLength: 40 }),
      fc.subarray(['x.emit', 'net.deliver', 'timer', 'x.shaped']),
    ],
    {
      numRuns: 200,
    },
  )(
    'without a ring keeps nothing, and hashes and hands the sink the same events as with one',
    (steps, taken) => {
      const shape = anyShape;
      const clock = new Clock();
      const eventsA: TraceEvent[] = [];
      const eventsB: TraceEvent[] = [];
      const sinkFilter = (kind: string) => taken.includes(kind);
      const ringed = new Trace(clock, {
        ringCapacity: 5,
        sink: (e) => eventsA.push(e),
        sinkFilter,
      });
      const bare = new Trace(clock, { sink: (e) => eventsB.push(e), sinkFilter });
      const nodes = { n1: new TraceNode('n1'), n2: new TraceNode('n2') };
      for (const step of steps) {
        clock.advanceTo(clock.nowMs + step.delayMs);
        const node = nodes[step.node as 'n1' | 'n2'];
        for (const trace of [ringed, bare]) {
          if (step.kind === 'emit')
            trace.emit(step.node, 'x.emit', { word: step.word, v: step.value });
          else if (step.kind === 'delivery')
            trace.emitDelivery(new TraceLink(nodes.n1, node), step.word, 1, clock.nowMs);
          else if (step.kind === 'timer') trace.emitTimer(node, step.word);
          else
            trace.emitShaped(
              node,
              shape as TraceShapeOf<4>,
              step.value,
              step.word,
              null,
              step.delayMs,
            );
        }
        expect(bare.hash).toBe(ringed.hash);
      }
      expect(eventsB).toStrictEqual(eventsA);
      expect(eventsA.length).toBe(
        steps.filter((step) =>
          taken.includes(
            { emit: 'x.emit', delivery: 'net.deliver', timer: 'timer', shaped: 'x.shaped' }[
              step.kind
            ] as string,
          ),
        ).length,
      );
      expect(bare.ringCapacity).toBe(0);
      expect(bare.recent()).toEqual([]);
      expect(ringed.recent().length).toBe(Math.min(steps.length, 5));
    },
  );

  it('hands every event to the sink, in order, including those gone from the ring', () => {
    const clock = new Clock();
    const received: TraceEvent[] = [];
    const trace = new Trace(clock, { ringCapacity: 2, sink: (event) => received.push(event) });
    for (let i = 0; i < 50; i++) {
      clock.advanceTo(i * 3);
      trace.emit(`n${i % 4}`, 'tick', { i });
    }
    expect(received).toHaveLength(50);
    expect(received.map((event) => event.index)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(received[17]).toEqual({
      index: 17,
      atMs: 51,
      node: 'n1',
      kind: 'tick',
      fields: { i: 17 },
    });
    expect(trace.recent()).toEqual(received.slice(48));
  });
});

describe('Trace sinkFilter', () => {
  const n1 = new TraceNode('n1');
  const link = new TraceLink(n1, new TraceNode('n2'));

  it('hands the sink only the kinds asked for, with the same hash as a full sink', () => {
    const clock = new Clock();
    const kept: TraceEvent[] = [];
    const all: TraceEvent[] = [];
    const filtered = new Trace(clock, {
      ringCapacity: 3,
      sinkFilter: (kind) => kind === 'crash' || kind === 'net.deliver',
      sink: (event) => kept.push(event),
    });
    const full = new Trace(clock, { ringCapacity: 3, sink: (event) => all.push(event) });
    for (let i = 0; i < 30; i++) {
      clock.advanceTo(i);
      for (const trace of [filtered, full]) {
        if (i % 7 === 0) trace.emit('n1', 'crash', { i });
        else if (i % 5 === 0) trace.emitDelivery(link, 'ping', i, i - 1);
        else trace.emit('n3', 'tick', { i });
      }
    }
    expect(kept).toEqual(
      all.filter((event) => event.kind === 'crash' || event.kind === 'net.deliver'),
    );
    expect(kept.map((event) => event.index)).toEqual([0, 5, 7, 10, 14, 15, 20, 21, 25, 28]);
    expect(filtered.hash).toBe(full.hash);
  });

  it('asks the sink filter once per kind: the known kinds when made, the others at their first event', () => {
    const clock = new Clock();
    const asked: string[] = [];
    const kept: string[] = [];
    const shape = traceShape('shaped', ['a', 'b', 'c', 'd']);
    const trace = new Trace(clock, {
      sinkFilter: (kind) => {
        asked.push(kind);
        return kind !== 'tick';
      },
      sink: (event) => kept.push(event.kind),
    });
    // Deliveries, timers and every shape declared so far (this file's), before any event.
    const askedWhenMade = [...asked];
    expect(askedWhenMade.slice(0, 2)).toEqual(['net.deliver', 'timer']);
    expect(askedWhenMade).toContain('shaped');
    expect(askedWhenMade).not.toContain('tick');
    for (let i = 0; i < 3; i++) {
      trace.emit('n1', 'tick', { i });
      trace.emit('n1', 'crash');
      trace.emitDelivery(link, 'ping', i, 0);
      trace.emitTimer(n1, 'retry');
      trace.emitShaped(n1, shape, i, 'x', true, null);
    }
    expect(asked).toEqual([...askedWhenMade, 'tick', 'crash']);
    expect(kept).toEqual(
      Array.from({ length: 3 }, () => ['crash', 'net.deliver', 'timer', 'shaped']).flat(),
    );
  });

  it('asks about a shape declared after the trace was made at its first event', () => {
    const asked: string[] = [];
    const kept: string[] = [];
    const trace = new Trace(new Clock(), {
      sinkFilter: (kind) => {
        asked.push(kind);
        return kind !== 'late.skipped';
      },
      sink: (event) => kept.push(event.kind),
    });
    const askedWhenMade = asked.length;
    const skipped = traceShape('late.skipped', ['a', 'b', 'c', 'd']);
    const taken = traceShape('late.taken', ['a', 'b', 'c', 'd']);
    for (let i = 0; i < 2; i++) {
      trace.emitShaped(n1, skipped, i, 'x', true, null);
      trace.emitShaped(n1, taken, i, 'x', true, null);
    }
    expect(asked.slice(askedWhenMade)).toEqual(['late.skipped', 'late.taken']);
    expect(kept).toEqual(['late.taken', 'late.taken']);
  });
});

describe('traceEventToJsonLine', () => {
  it('flattens the fields beside index, atMs, node and kind', () => {
    const line = traceEventToJsonLine({
      index: 4,
      atMs: 1_250,
      node: 'b1',
      kind: 'net.drop',
      fields: { source: 'b2', msg: 9, reason: 'partition', late: true, none: null },
    });
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      index: 4,
      atMs: 1_250,
      node: 'b1',
      kind: 'net.drop',
      source: 'b2',
      msg: 9,
      reason: 'partition',
      late: true,
      none: null,
    });
    expect(
      JSON.parse(
        traceEventToJsonLine({
          index: 0,
          atMs: 0,
          node: 'world',
          kind: 'fault.heal',
          fields: undefined,
        }),
      ),
    ).toEqual({
      index: 0,
      atMs: 0,
      node: 'world',
      kind: 'fault.heal',
    });
  });

  it("never lets a field replace the event's own keys, and keeps the field", () => {
    const events: TraceEvent[] = [];
    const trace = new Trace(new Clock(), { sink: (event) => events.push(event) });
    trace.emit('b1', 'node.odd', { kind: 'kill', node: 'b9', index: 7, atMs: 5, other: 1 });
    const line = JSON.parse(traceEventToJsonLine(events[0] as TraceEvent)) as Record<
      string,
      unknown
    >;
    expect(line).toEqual({
      index: 0,
      atMs: 0,
      node: 'b1',
      kind: 'node.odd',
      'field.kind': 'kill',
      'field.node': 'b9',
      'field.index': 7,
      'field.atMs': 5,
      other: 1,
    });
  });

  it('names the crash kind of crash events in the JSON Lines', () => {
    const events: TraceEvent[] = [];
    const world = new World<{ kind: 'none' }>({
      seed: 1,
      trace: { sink: (event) => events.push(event) },
    });
    world.addNode('b1', () => ({ start() {}, onMessage() {} }));
    world.node('b1').start();
    world.crash('b1', 'powerFailure');
    const lines = events.map(
      (event) => JSON.parse(traceEventToJsonLine(event)) as Record<string, unknown>,
    );
    expect(lines.find((line) => line['kind'] === 'node.crash')).toMatchObject({
      node: 'b1',
      crash: 'powerFailure',
      lostWrites: 0,
    });
    expect(lines.find((line) => line['kind'] === 'fault.crash')).toMatchObject({
      node: 'world',
      target: 'b1',
      crash: 'powerFailure',
    });
  });
});

// ---- Chrome trace export -------------------------------------------------------------------------

interface Ping {
  readonly kind: 'ping';
}

class Pinger implements Machine<Ping> {
  constructor(
    readonly context: NodeContext<Ping>,
    readonly peer: NodeId,
  ) {}

  start(): void {
    this.context.setTimer(5, 'ping', () => this.context.send(this.peer, { kind: 'ping' }));
  }

  onMessage(): void {}
}

interface ChromeEvent {
  readonly name: string;
  readonly ph: string;
  readonly pid: number;
  readonly tid: number;
  readonly ts?: number;
  readonly id?: number;
  readonly cat?: string;
  readonly dur?: number;
  readonly bind_id?: number;
  readonly flow_in?: boolean;
  readonly flow_out?: boolean;
  readonly args?: Record<string, unknown>;
}

describe('ChromeTraceWriter', () => {
  it('writes valid JSON with a named track per node, an instant per event and a bound flow per delivery', () => {
    const writer = new ChromeTraceWriter();
    let text = writer.begin();
    const events: TraceEvent[] = [];
    const world = new World<Ping>({
      seed: 7,
      latency: { kind: 'constant', ms: 3 },
      trace: {
        sink: (event) => {
          events.push(event);
          text += writer.event(event);
        },
      },
    });
    world.addNode('b1', (context) => new Pinger(context, 'b2'));
    world.addNode('b2', (context) => new Pinger(context, 'b1'));
    world.node('b1').start();
    world.node('b2').start();
    world.runFor(100);
    world.heal();
    text += writer.end();

    const parsed = JSON.parse(text) as { displayTimeUnit: string; traceEvents: ChromeEvent[] };
    expect(parsed.displayTimeUnit).toBe('ms');
    const traceEvents = parsed.traceEvents;

    const threadNames = traceEvents.filter(
      (event) => event.ph === 'M' && event.name === 'thread_name',
    );
    const tidOf = new Map(threadNames.map((event) => [event.args?.['name'] as string, event.tid]));
    expect([...tidOf.keys()]).toEqual(['b1', 'b2', 'world']);
    expect(new Set(tidOf.values()).size).toBe(3);

    const deliveries = events.filter((event) => event.kind === 'net.deliver');
    expect(deliveries).toHaveLength(2);
    const instants = traceEvents.filter((event) => event.ph === 'i');
    const others = events.filter((event) => event.kind !== 'net.deliver');
    expect(instants).toHaveLength(others.length);
    instants.forEach((instant, index) => {
      const event = others[index] as TraceEvent;
      expect(instant.name).toBe(event.kind);
      expect(instant.tid).toBe(tidOf.get(event.node));
      expect(instant.ts).toBe(event.atMs * 1000);
      expect(instant.args?.['index']).toBe(event.index);
    });

    const slices = traceEvents.filter((event) => event.ph === 'X');
    const sends = slices.filter((event) => event.flow_out === true);
    const receives = slices.filter((event) => event.flow_in === true);
    expect(sends).toHaveLength(2);
    expect(receives).toHaveLength(2);
    deliveries.forEach((delivery, index) => {
      const fields = delivery.fields as TraceFields;
      expect(sends[index]).toMatchObject({
        name: 'send ping',
        dur: 0,
        bind_id: fields['msg'],
        tid: tidOf.get(fields['source'] as string),
        ts: (fields['sentAtMs'] as number) * 1000,
      });
      expect(receives[index]).toMatchObject({
        name: 'net.deliver',
        dur: 0,
        bind_id: fields['msg'],
        tid: tidOf.get(delivery.node),
        ts: delivery.atMs * 1000,
        args: { index: delivery.index, source: fields['source'] },
      });
    });
  });

  it('writes a valid empty trace', () => {
    const writer = new ChromeTraceWriter();
    expect(JSON.parse(writer.begin() + writer.end())).toEqual({
      displayTimeUnit: 'ms',
      traceEvents: [],
    });
  });
});
