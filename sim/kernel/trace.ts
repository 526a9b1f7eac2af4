// The run's record: every delivered message, timer, state change and fault as a structured event.
// A rolling 64-bit hash over each event's fields gives `traceHash`, the fingerprint of a run that
// must be identical for the same seed. Memory stays bounded: the trace hands every event to an
// optional sink for streaming export and display, and keeps the most recent events in a ring only
// when asked to (`ringCapacity`, for `recent()`).

import type { Clock, Ms } from './time.ts';

export type TraceValue = string | number | boolean | null;
/** A value of a shaped event (`emitShaped`): a TraceValue, or a string as a TraceName. */
export type TraceShapedValue = TraceValue | TraceName;
export type TraceFields = Readonly<Record<string, TraceValue>>;

export interface TraceEvent {
  /** Position in the run, from 0. */
  readonly index: number;
  readonly atMs: Ms;
  readonly node: string;
  readonly kind: string;
  readonly fields: TraceFields | undefined;
}

export type TraceSink = (event: TraceEvent) => void;

export interface TraceOptions {
  /**
   * How many recent events stay in memory for `recent()` (the ring). Default 0: none. Storing
   * each event's fields where no one reads them was ~2 % of a run's instructions (the reference
   * workload's 440 k events a run, a dozen stores each): a sink gets its events without a ring.
   */
  readonly ringCapacity?: number;
  /** Receives every event as it happens, for streaming export. */
  readonly sink?: TraceSink;
  /**
   * Only events whose kind passes go to the sink (a checker's few kinds, not the whole stream:
   * events become objects only for a sink, and building one per event costs). Default: every event.
   * A function of the kind alone: the trace asks it once per kind and remembers the answer.
   */
  readonly sinkFilter?: (kind: string) => boolean;
}

const PRIME = 0x01000193;
const MURMUR_M = 0x5bd1e995;
const TAG_NUMBER = 1;
const TAG_STRING = 2;
const TAG_TRUE = 3;
const TAG_FALSE = 4;
const TAG_NULL = 5;

// The helpers below are consts, not function declarations: a module's function declaration is a
// mutable binding, so optimised code loads it and compares it with the function it inlined at every
// call (a few instructions per call, several per field hashed); a const is compiled in. The same in
// the other hot modules (they point here).

/**
 * The trace's fingerprint is two 32-bit lanes. Lane a takes every word of every event (xor, then
 * multiply by the FNV prime) and folds its high bits down once per event; lane b folds lane a in,
 * murmur-style, once per event. Together: a 64-bit fingerprint of the whole sequence, at a few operations a word.
 */
const mixWord = (hash: number, word: number): number => Math.imul(hash ^ word, PRIME);

/** A 32-bit fingerprint of one string (its code units, then its length). */
const hashString = (value: string): number => {
  let hash = 0x811c9dc5 | 0;
  for (let i = 0; i < value.length; i++) hash = Math.imul(hash ^ value.charCodeAt(i), PRIME);
  return mixWord(hash, value.length);
};

/** mixNumber for a number that is not an int32. */
const mixWideNumber = (hash: number, value: number): number => {
  if (Number.isSafeInteger(value)) {
    return mixWord(
      mixWord(hash, (value % 0x1_0000_0000) | 0),
      Math.floor(value / 0x1_0000_0000) | 0,
    );
  }
  return mixWord(hash, hashString(String(value)));
};

// Small enough for the compiler to inline at every call (times, counts, offsets are int32): the
// rest, inlined with it, filled emitShaped's inlining budget, and hashString was left a call.
const mixNumber = (hash: number, value: number): number =>
  (value | 0) === value ? mixWord(hash, value) : mixWideNumber(hash, value);

const mixValue = (hash: number, value: TraceValue): number => {
  if (typeof value === 'number') return mixNumber(mixWord(hash, TAG_NUMBER), value);
  if (typeof value === 'string') return mixWord(mixWord(hash, TAG_STRING), hashString(value));
  if (typeof value === 'boolean') return mixWord(hash, value ? TAG_TRUE : TAG_FALSE);
  return mixWord(hash, TAG_NULL);
};

/** mixValue, with a TraceName mixed in as its string (the only object a shaped event carries). */
const mixShapedValue = (hash: number, value: TraceShapedValue): number => {
  if (typeof value === 'number') return mixNumber(mixWord(hash, TAG_NUMBER), value);
  if (typeof value === 'string') return mixWord(mixWord(hash, TAG_STRING), hashString(value));
  if (typeof value === 'object' && value !== null)
    return mixWord(mixWord(hash, TAG_STRING), value.hash);
  if (typeof value === 'boolean') return mixWord(hash, value ? TAG_TRUE : TAG_FALSE);
  return mixWord(hash, TAG_NULL);
};

/** The value at `field` of a shaped event's values, given as arguments (emitShaped). */
const pick = (
  field: number,
  a: TraceShapedValue,
  b: TraceShapedValue,
  c: TraceShapedValue,
  d: TraceShapedValue,
  e: TraceShapedValue | undefined,
  f: TraceShapedValue | undefined,
  g: TraceShapedValue | undefined,
  h: TraceShapedValue | undefined,
): TraceShapedValue => {
  switch (field) {
    case 0:
      return a;
    case 1:
      return b;
    case 2:
      return c;
    case 3:
      return d;
    case 4:
      return e as TraceShapedValue;
    case 5:
      return f as TraceShapedValue;
    case 6:
      return g as TraceShapedValue;
    default:
      return h as TraceShapedValue;
  }
};

const NO_FIELDS: TraceFields = Object.freeze({});

/** The hash of '', which a remembered label or type starts as. */
const EMPTY_HASH = hashString('');

/**
 * The hashes of a kind and of the field names its events carry, by position: an event's kind and
 * names are the same strings call after call, and hashing them again was most of `emit`. A name
 * that differs from the one remembered at its position is hashed and remembered instead.
 */
interface KindShape {
  readonly kindHash: number;
  readonly keys: string[];
  readonly keyHashes: number[];
  /** Whether the sink takes events of this kind (undefined: not asked yet). */
  sinkTakes: boolean | undefined;
}

function learnKey(shape: KindShape, position: number, key: string): number {
  const keyHash = hashString(key);
  shape.keys[position] = key;
  shape.keyHashes[position] = keyHash;
  return keyHash;
}

const DELIVER_HASHES = {
  kind: hashString('net.deliver'),
  source: hashString('source'),
  type: hashString('type'),
  msg: hashString('msg'),
  sentAtMs: hashString('sentAtMs'),
};

/**
 * An event kind and the names of its fields, in order, declared once at module level, for an event
 * recorded without building its fields (`Trace.emitShaped`, `NodeContext.traceShaped`):
 * the hashes of the kind and the names are computed here once, and the values are stored in the
 * ring's value columns. An event recorded with a shape hashes and reads back exactly as `emit`
 * with the object `{ [fieldNames[0]]: a, [fieldNames[1]]: b, ... }`.
 */
export class TraceShape<const Names extends readonly string[] = readonly string[]> {
  /** Numbers the shapes, for a trace's per-shape memo (Trace.#sinkTakesByKind). */
  readonly id: number;
  readonly kind: string;
  readonly fieldNames: Names;
  /**
   * Internal: the hash of the kind, then of each name. The names' in a typed array: a frozen
   * array of numbers (its hashes are not all small integers) boxed each one, and reading them
   * back was a third of an event's time.
   */
  readonly kindHash: number;
  readonly nameHashes: Int32Array;

  constructor(kind: string, fieldNames: Names) {
    if (fieldNames.length > MAX_SHAPE_FIELDS)
      throw new RangeError(`trace shape ${kind}: at most ${MAX_SHAPE_FIELDS} fields`);
    if (new Set(fieldNames).size !== fieldNames.length)
      throw new RangeError(`trace shape ${kind}: a field name twice`);
    // An object puts integer-like keys first, so `emit` would not keep such a name's position.
    if (fieldNames.some((name) => /^(0|[1-9][0-9]*)$/.test(name)))
      throw new RangeError(`trace shape ${kind}: an integer-like field name`);
    // Numbered once valid: shapeKinds[id] is its kind.
    this.id = traceShapesMade++;
    shapeKinds.push(kind);
    this.kind = kind;
    this.fieldNames = Object.freeze([...fieldNames]) as unknown as Names;
    this.kindHash = hashString(kind);
    this.nameHashes = Int32Array.from(fieldNames, hashString);
  }

  /** The fields object `emit` would have been given: every name, in order, even an undefined value. */
  fieldsOf(values: readonly (TraceShapedValue | undefined)[], from = 0): TraceFields {
    const fields: Record<string, TraceValue> = {};
    for (let index = 0; index < this.fieldNames.length; index++) {
      const value = values[from + index] as TraceShapedValue;
      fields[this.fieldNames[index] as string] = value instanceof TraceName ? value.name : value;
    }
    return fields;
  }
}

let traceShapesMade = 0;
/** Each declared shape's kind, by id: what a new trace asks its sink filter about. */
const shapeKinds: string[] = [];

/** A shape with exactly N field names (what each overload of `emitShaped` takes). */
export type TraceShapeOf<N extends number> = TraceShape<readonly string[] & { readonly length: N }>;

/** Declares an event kind's shape: `traceShape('producer.send', ['op', 'topic', 'partition', 'value'])`. */
export function traceShape<const Names extends readonly string[]>(
  kind: string,
  fieldNames: Names,
): TraceShape<Names> {
  return new TraceShape(kind, fieldNames);
}

const MAX_SHAPE_FIELDS = 8;

/**
 * A node as the hottest events name it (`emitShaped`, `emitTimer`, `emitDelivery`): its name and
 * the name's hash, computed once. A node's events hashed its name again on every event; a host
 * and the network's links hold one of these per node instead. An event given a TraceNode hashes
 * exactly as one given the name.
 */
export class TraceNode {
  readonly name: string;
  /** hashString(name): the word an event mixes in for its node, and a delivery for its source. */
  readonly hash: number;
  /**
   * The label of the node's last fired timer, and its hash: a node fires the same timer again and
   * again (five in six timers in the reference workload), and a label's hash was a Map lookup.
   */
  labelLast = '';
  labelHashLast = EMPTY_HASH;

  constructor(name: string) {
    this.name = name;
    this.hash = hashString(name);
  }
}

/**
 * A string that shaped events carry again and again (a topic, a partition's key, a broker's id),
 * with its hash computed once: given to `emitShaped` in the string's place, it hashes and reads back
 * exactly as the string. Hashing a string is a loop over its characters, and a repeated one was
 * hashed again at every event (a third of `emitShaped`'s instructions); comparing it with a
 * remembered one (a call to V8's StringEqual) cost more than it saved.
 */
export class TraceName {
  readonly name: string;
  /** hashString(name). */
  readonly hash: number;

  constructor(name: string) {
    this.name = name;
    this.hash = hashString(name);
  }
}

/**
 * A connection source → target as `emitDelivery` names it: both ends, and the type of the last
 * message delivered on it with the type's hash (a connection carries one type after another:
 * 99 % of deliveries in the reference workload had the type of the one before on their link,
 * and a type's hash was a Map lookup).
 */
export class TraceLink {
  readonly source: TraceNode;
  readonly target: TraceNode;
  typeLast = '';
  typeHashLast = EMPTY_HASH;

  constructor(source: TraceNode, target: TraceNode) {
    this.source = source;
    this.target = target;
  }
}

const TIMER_HASHES = {
  kind: hashString('timer'),
  label: hashString('label'),
};

/**
 * The recent events, slot by slot: recording a delivered message stores a few numbers and string
 * references and allocates nothing (an object per event, kept alive for a whole ring's worth of
 * events, outlived the young generation and made the garbage collector a main cost). Objects are
 * built only for a sink or when someone reads the ring.
 *
 * An event's time, references and values sit side by side in one array (`slots`, SLOT_SIZE per
 * event): a column per field was an array each (its map, its backing store and its bounds checked
 * at every store), five to nine per event. Times and message ids are small integers, stored as such.
 */
class Ring {
  readonly capacity: number;
  /**
   * Event s at s * SLOT_SIZE: its time, node, kind and fields, then its values. The fields: the
   * event's object; for one recorded with a shape, the shape (its values follow); undefined for a
   * delivered message (kind net.deliver: source, type, msg, sentAtMs follow) and a fired timer
   * (kind timer: its label follows).
   */
  readonly slots: (string | TraceFields | TraceShape | TraceShapedValue | undefined)[];

  constructor(capacity: number) {
    this.capacity = capacity;
    this.slots = new Array<string | TraceFields | TraceShape | TraceShapedValue | undefined>(
      capacity * SLOT_SIZE,
    ).fill(null);
  }

  event(index: number): TraceEvent {
    const slot = index % this.capacity;
    const at = slot * SLOT_SIZE;
    const slots = this.slots;
    const atMs = slots[at + SLOT_AT_MS] as number;
    const node = slots[at + SLOT_NODE] as string;
    const kind = slots[at + SLOT_KIND] as string;
    const fields = slots[at + SLOT_FIELDS] as TraceFields | TraceShape | undefined;
    const values = at + SLOT_VALUES;
    if (fields === NO_FIELDS) return { index, atMs, node, kind, fields: undefined };
    if (fields instanceof TraceShape) {
      const fieldsOf = fields.fieldsOf(slots as readonly (TraceShapedValue | undefined)[], values);
      return { index, atMs, node, kind, fields: fieldsOf };
    }
    if (fields !== undefined) return { index, atMs, node, kind, fields };
    if (kind === TIMER_KIND)
      return { index, atMs, node, kind, fields: { label: slots[values] as string } };
    return {
      index,
      atMs,
      node,
      kind,
      fields: {
        source: slots[values] as string,
        type: slots[values + 1] as string,
        msg: slots[values + 2] as number,
        sentAtMs: slots[values + 3] as number,
      },
    };
  }
}

// An event's place in Ring.slots: time, node, kind, fields, then up to MAX_SHAPE_FIELDS values.
const SLOT_AT_MS = 0;
const SLOT_NODE = 1;
const SLOT_KIND = 2;
const SLOT_FIELDS = 3;
const SLOT_VALUES = 4;
const SLOT_SIZE = SLOT_VALUES + MAX_SHAPE_FIELDS;

const DELIVER_KIND = 'net.deliver';
const TIMER_KIND = 'timer';

// Trace.#sinkTakesByKind: its places and values.
const DELIVERY_TAKES = 0;
const TIMER_TAKES = 1;
const SHAPE_TAKES = 2;
const TAKES = 1;
const SKIPS = 2;

export class Trace {
  readonly #clock: Clock;
  /**
   * The recent events; with no ring asked for, one slot: the event being recorded, written only
   * when the sink takes it (Ring.event builds the sink's object from it).
   */
  readonly #ring: Ring;
  /** Whether the ring keeps events for `recent()` (ringCapacity > 0). */
  readonly #keeps: boolean;
  readonly #sink: TraceSink | undefined;
  readonly #sinkFilter: ((kind: string) => boolean) | undefined;
  #count = 0;
  /** The ring slot of the next event (count modulo capacity, without dividing). */
  #slot = 0;
  #laneA = 0x811c9dc5 | 0;
  #laneB = 0x2545f491 | 0;
  /** By kind (a bounded set: the kinds are constants in the code). */
  readonly #shapes = new Map<string, KindShape>();
  /**
   * Whether the sink takes deliveries (at DELIVERY_TAKES), timers (TIMER_TAKES) and each declared
   * shape's events (at SHAPE_TAKES + its id): the filter's answers (TAKES, SKIPS), asked for every
   * known kind when the trace is made (#askSinkFilter), so that the hottest events only read them.
   * Asked lazily, at a run's first event of each kind, the answers were written by code the
   * compiler had already made without that path (each run's new trace asks again), and the
   * second run threw away the compiled emitDelivery, emitTimer and emitShaped. In a typed array:
   * with a field per kind or an array of booleans (an empty array's map, then another), the same.
   */
  #sinkTakesByKind: Uint8Array;

  #shapeOf(kind: string): KindShape {
    let shape = this.#shapes.get(kind);
    if (shape === undefined) {
      shape = { kindHash: hashString(kind), keys: [], keyHashes: [], sinkTakes: undefined };
      this.#shapes.set(kind, shape);
    }
    return shape;
  }

  constructor(clock: Clock, options: TraceOptions = {}) {
    const ringCapacity = options.ringCapacity ?? 0;
    if (!Number.isSafeInteger(ringCapacity) || ringCapacity < 0) {
      throw new RangeError(`ringCapacity must be a non-negative integer (got ${ringCapacity})`);
    }
    this.#clock = clock;
    this.#keeps = ringCapacity > 0;
    this.#ring = new Ring(Math.max(ringCapacity, 1));
    this.#sink = options.sink;
    this.#sinkFilter = options.sinkFilter;
    this.#sinkTakesByKind = this.#askSinkFilter(new Uint8Array(0));
  }

  /**
   * The filter's answers for deliveries, timers and every shape declared so far: `known` (the
   * answers already asked) grown to them all. Asked only with a sink (without one, none is read).
   */
  #askSinkFilter(known: Uint8Array): Uint8Array {
    // Exactly as long as the kinds asked: a place past the end is a shape not asked yet.
    const takes = new Uint8Array(SHAPE_TAKES + traceShapesMade);
    takes.set(known);
    if (this.#sink === undefined) return takes;
    const answer = (kind: string) => (this.#filterTakes(kind) ? TAKES : SKIPS);
    if (known.length === 0) {
      takes[DELIVERY_TAKES] = answer(DELIVER_KIND);
      takes[TIMER_TAKES] = answer(TIMER_KIND);
    }
    for (let id = Math.max(known.length - SHAPE_TAKES, 0); id < traceShapesMade; id++)
      takes[SHAPE_TAKES + id] = answer(shapeKinds[id] as string);
    return takes;
  }

  /** Events recorded so far. */
  get count(): number {
    return this.#count;
  }

  /** The fingerprint of every event so far: 16 hex digits. */
  get hash(): string {
    let b = this.#laneB;
    b ^= b >>> 13;
    b = Math.imul(b, MURMUR_M);
    b ^= b >>> 15;
    return (
      (this.#laneA >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0')
    );
  }

  get ringCapacity(): number {
    return this.#keeps ? this.#ring.capacity : 0;
  }

  emit(node: string, kind: string, fields?: TraceFields): void {
    const atMs = this.#clock.nowMs;
    let hash = mixNumber(this.#laneA, atMs);
    hash = mixWord(hash, hashString(node));
    const shape = this.#shapeOf(kind);
    hash = mixWord(hash, shape.kindHash);
    if (fields !== undefined) {
      // Field order is the object's insertion order, fixed by the code that emits the event.
      let position = 0;
      for (const key in fields) {
        const keyHash =
          shape.keys[position] === key
            ? (shape.keyHashes[position] as number)
            : learnKey(shape, position, key);
        hash = mixValue(mixWord(hash, keyHash), fields[key] as TraceValue);
        position++;
      }
    }
    if (this.#sink !== undefined) shape.sinkTakes ??= this.#filterTakes(kind);
    const takes = shape.sinkTakes === true;
    // Stored only where someone reads it: the ring, or the sink (see TraceOptions.ringCapacity).
    // An event with no fields stores an empty object, so that it is never read as a delivery.
    if (this.#keeps || takes) this.#store(atMs, node, kind, fields ?? NO_FIELDS);
    const index = this.#advance(hash);
    if (takes) this.#toSink(index);
  }

  /**
   * The hottest event of all, a delivered message on `link`, recorded without building its fields.
   * Hashes and reads back exactly as
   * `emit(link.target.name, 'net.deliver', { source: link.source.name, type, msg, sentAtMs })`.
   */
  emitDelivery(link: TraceLink, type: string, msg: number, sentAtMs: Ms): void {
    const atMs = this.#clock.nowMs;
    const target = link.target;
    const source = link.source;
    let hash = mixNumber(this.#laneA, atMs);
    hash = mixWord(hash, target.hash);
    hash = mixWord(hash, DELIVER_HASHES.kind);
    hash = mixWord(mixWord(mixWord(hash, DELIVER_HASHES.source), TAG_STRING), source.hash);
    // A message's type is a kind of its own: its hash is remembered the same way (and by the link).
    let typeHash = link.typeHashLast;
    if (type !== link.typeLast) {
      typeHash = this.#shapeOf(type).kindHash;
      link.typeLast = type;
      link.typeHashLast = typeHash;
    }
    hash = mixWord(mixWord(mixWord(hash, DELIVER_HASHES.type), TAG_STRING), typeHash);
    hash = mixNumber(mixWord(mixWord(hash, DELIVER_HASHES.msg), TAG_NUMBER), msg);
    hash = mixNumber(mixWord(mixWord(hash, DELIVER_HASHES.sentAtMs), TAG_NUMBER), sentAtMs);
    const takes = this.#sink !== undefined && this.#sinkTakesByKind[DELIVERY_TAKES] === TAKES;
    if (this.#keeps || takes) {
      const values = this.#store(atMs, target.name, DELIVER_KIND, undefined);
      const slots = this.#ring.slots;
      slots[values] = source.name;
      slots[values + 1] = type;
      slots[values + 2] = msg;
      slots[values + 3] = sentAtMs;
    }
    const index = this.#advance(hash);
    if (takes) this.#toSink(index);
  }

  /**
   * A fired timer, recorded without building its fields: hashes and reads back exactly as
   * `emit(node.name, 'timer', { label })`.
   */
  emitTimer(node: TraceNode, label: string): void {
    const atMs = this.#clock.nowMs;
    let hash = mixNumber(this.#laneA, atMs);
    hash = mixWord(hash, node.hash);
    hash = mixWord(hash, TIMER_HASHES.kind);
    // Labels are constants in the code, remembered like kinds (and by the node).
    let labelHash = node.labelHashLast;
    if (label !== node.labelLast) {
      labelHash = this.#shapeOf(label).kindHash;
      node.labelLast = label;
      node.labelHashLast = labelHash;
    }
    hash = mixWord(mixWord(mixWord(hash, TIMER_HASHES.label), TAG_STRING), labelHash);
    const takes = this.#sink !== undefined && this.#sinkTakesByKind[TIMER_TAKES] === TAKES;
    if (this.#keeps || takes)
      this.#ring.slots[this.#store(atMs, node.name, TIMER_KIND, undefined)] = label;
    const index = this.#advance(hash);
    if (takes) this.#toSink(index);
  }

  /**
   * An event of a declared shape, recorded without building its fields: hashes and reads back
   * exactly as `emit(node.name, shape.kind, { [name0]: a, [name1]: b, ... })`, a TraceName as its
   * string. One overload per field count the models declare (positional arguments: no array per
   * event).
   */
  emitShaped(
    node: TraceNode,
    shape: TraceShapeOf<4>,
    a: TraceShapedValue,
    b: TraceShapedValue,
    c: TraceShapedValue,
    d: TraceShapedValue,
  ): void;
  emitShaped(
    node: TraceNode,
    shape: TraceShapeOf<5>,
    a: TraceShapedValue,
    b: TraceShapedValue,
    c: TraceShapedValue,
    d: TraceShapedValue,
    e: TraceShapedValue,
  ): void;
  emitShaped(
    node: TraceNode,
    shape: TraceShapeOf<8>,
    a: TraceShapedValue,
    b: TraceShapedValue,
    c: TraceShapedValue,
    d: TraceShapedValue,
    e: TraceShapedValue,
    f: TraceShapedValue,
    g: TraceShapedValue,
    h: TraceShapedValue,
  ): void;
  emitShaped(
    node: TraceNode,
    shape: TraceShape,
    a: TraceShapedValue,
    b: TraceShapedValue,
    c: TraceShapedValue,
    d: TraceShapedValue,
    e?: TraceShapedValue,
    f?: TraceShapedValue,
    g?: TraceShapedValue,
    h?: TraceShapedValue,
  ): void {
    const nameHashes = shape.nameHashes;
    const count = nameHashes.length;
    const atMs = this.#clock.nowMs;
    let hash = mixNumber(this.#laneA, atMs);
    hash = mixWord(hash, node.hash);
    hash = mixWord(hash, shape.kindHash);
    // Hashed as `emit` hashes the same event (time, node, kind, then each name and value in
    // order), the values picked by position: one call site of mixShapedValue, which the compiler
    // then inlines (eight, one per argument, were calls).
    for (let field = 0; field < count; field++)
      hash = mixShapedValue(
        mixWord(hash, nameHashes[field] as number),
        pick(field, a, b, c, d, e, f, g, h),
      );
    const takes = this.#sink !== undefined && this.#sinkTakes(SHAPE_TAKES + shape.id);
    if (this.#keeps || takes) {
      // Only the shape's own values are written (a slot's values past them, left by an older
      // event, are never read: `Ring.event` reads as many as the shape has).
      const values = this.#store(atMs, node.name, shape.kind, shape);
      const slots = this.#ring.slots;
      slots[values] = a;
      slots[values + 1] = b;
      slots[values + 2] = c;
      slots[values + 3] = d;
      if (count > 4) {
        slots[values + 4] = e;
        if (count > 5) {
          slots[values + 5] = f;
          slots[values + 6] = g;
          slots[values + 7] = h;
        }
      }
    }
    const index = this.#advance(hash);
    if (takes) this.#toSink(index);
  }

  /**
   * Stores the current event's time, node, kind and fields (see Ring.slots) in its slot, for the
   * ring or the sink; returns where its values go.
   */
  #store(
    atMs: Ms,
    node: string,
    kind: string,
    fields: TraceFields | TraceShape | undefined,
  ): number {
    const at = this.#slot * SLOT_SIZE;
    const slots = this.#ring.slots;
    slots[at + SLOT_AT_MS] = atMs;
    slots[at + SLOT_NODE] = node;
    slots[at + SLOT_KIND] = kind;
    slots[at + SLOT_FIELDS] = fields;
    return at + SLOT_VALUES;
  }

  /**
   * Hands event `index` to the sink: from one place, through Function.prototype.call. Each run
   * makes a new sink (a new closure), and a direct call site that had seen one closure is
   * compiled for that one: the next run's threw the compiled emit away ('wrong call target').
   * Called through `call`, the site's target is always the builtin, and the sink is called
   * generically. The receiver is the trace, as for a direct `this.#sink(event)`.
   */
  #toSink(index: number): void {
    const sink = this.#sink as TraceSink;
    sink.call(this, this.#ring.event(index));
  }

  /** Whether the sink takes a shape's events (at `at` in #sinkTakesByKind). */
  #sinkTakes(at: number): boolean {
    let takes = this.#sinkTakesByKind;
    // A shape declared after the trace was made: asked now.
    if (at >= takes.length) {
      takes = this.#askSinkFilter(takes);
      this.#sinkTakesByKind = takes;
    }
    return takes[at] === TAKES;
  }

  /** The sink filter's answer for `kind` (every kind passes without one). */
  #filterTakes(kind: string): boolean {
    const filter = this.#sinkFilter;
    return filter === undefined || Boolean(filter(kind));
  }

  /** Folds an event's hash into the lanes and moves to the next slot; returns the event's index. */
  #advance(eventHash: number): number {
    // Each word's step is a bijection of the lane, so no single change is ever lost; this fold,
    // once per event, carries high bits down into the low ones that the next words multiply.
    const hash = eventHash ^ (eventHash >>> 15);
    this.#laneA = hash;
    const b = Math.imul(this.#laneB ^ hash, MURMUR_M);
    this.#laneB = b ^ (b >>> 15);
    const index = this.#count++;
    const slot = this.#slot + 1;
    this.#slot = slot === this.#ring.capacity ? 0 : slot;
    return index;
  }

  /** The most recent events still in memory, oldest first. */
  recent(limit = this.ringCapacity): TraceEvent[] {
    const available = Math.min(this.#count, this.ringCapacity, limit);
    const result: TraceEvent[] = [];
    for (let index = this.#count - available; index < this.#count; index++) {
      result.push(this.#ring.event(index));
    }
    return result;
  }
}

const JSON_LINE_KEYS: ReadonlySet<string> = new Set(['index', 'atMs', 'node', 'kind']);

/**
 * One line of JSON Lines export: the event with its fields flattened beside index, atMs, node,
 * kind. A field named like one of those (a crash's `kind`) is written as `field.<name>`, so that it
 * neither replaces the event's own key nor is lost.
 */
export function traceEventToJsonLine(event: TraceEvent): string {
  const line: Record<string, TraceValue> = {
    index: event.index,
    atMs: event.atMs,
    node: event.node,
    kind: event.kind,
  };
  const fields = event.fields;
  if (fields !== undefined) {
    for (const key in fields) {
      line[JSON_LINE_KEYS.has(key) ? `field.${key}` : key] = fields[key] as TraceValue;
    }
  }
  return JSON.stringify(line);
}

/**
 * Streams a run as Chrome trace-event JSON (opens in Perfetto or chrome://tracing): one track per
 * node, an instant per event, and for every delivered message (events of kind `net.deliver` that
 * carry `source`, `msg` and `sentAtMs`) a zero-length slice at the sender and one at the receiver,
 * joined by a flow arrow (the flow-v2 `bind_id` form, which Perfetto binds to those slices).
 */
export class ChromeTraceWriter {
  readonly #trackIds = new Map<string, number>();
  #first = true;

  begin(): string {
    return '{"displayTimeUnit":"ms","traceEvents":[\n';
  }

  /** The JSON text for one event, with any track metadata it introduces; empty-safe to concatenate. */
  event(event: TraceEvent): string {
    const parts: string[] = [];
    const tid = this.#track(event.node, parts);
    const ts = event.atMs * 1000;
    const name = event.kind;
    const cat = event.kind.split('.')[0];
    const args = { index: event.index, ...event.fields };
    const fields = event.fields;
    const source = fields?.['source'];
    const msg = fields?.['msg'];
    const sentAtMs = fields?.['sentAtMs'];
    if (
      event.kind === 'net.deliver' &&
      typeof source === 'string' &&
      typeof msg === 'number' &&
      typeof sentAtMs === 'number'
    ) {
      // A delivery is a zero-length slice bound to a matching slice at the sender: Perfetto draws
      // an arrow between slices that share a bind_id (flow_out at the sender, flow_in here).
      const sourceTid = this.#track(source, parts);
      const type = String(fields?.['type'] ?? 'message');
      const sendArgs = { msg, target: event.node };
      parts.push(
        JSON.stringify({
          name: `send ${type}`,
          cat,
          ph: 'X',
          dur: 0,
          pid: 1,
          tid: sourceTid,
          ts: sentAtMs * 1000,
          bind_id: msg,
          flow_out: true,
          args: sendArgs,
        }),
      );
      parts.push(
        JSON.stringify({
          name,
          cat,
          ph: 'X',
          dur: 0,
          pid: 1,
          tid,
          ts,
          bind_id: msg,
          flow_in: true,
          args,
        }),
      );
    } else {
      parts.push(JSON.stringify({ name, cat, ph: 'i', s: 't', pid: 1, tid, ts, args }));
    }
    return this.#join(parts);
  }

  end(): string {
    return '\n]}\n';
  }

  #track(node: string, parts: string[]): number {
    let tid = this.#trackIds.get(node);
    if (tid === undefined) {
      tid = this.#trackIds.size + 1;
      this.#trackIds.set(node, tid);
      parts.push(
        JSON.stringify({ name: 'thread_name', ph: 'M', pid: 1, tid, args: { name: node } }),
      );
      parts.push(
        JSON.stringify({
          name: 'thread_sort_index',
          ph: 'M',
          pid: 1,
          tid,
          args: { sort_index: tid },
        }),
      );
    }
    return tid;
  }

  #join(parts: string[]): string {
    const text = parts.join(',\n');
    if (this.#first) {
      this.#first = false;
      return text;
    }
    return `,\n${text}`;
  }
}

function describeEvent(event: TraceEvent): string {
  return traceEventToJsonLine(event);
}

/**
 * Where two runs that should be identical part ways: the first event that differs (or the first
 * one only one run has), described in full. Undefined when the lists are equal.
 */
export function firstDifference(
  left: readonly TraceEvent[],
  right: readonly TraceEvent[],
): string | undefined {
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index++) {
    const a = describeEvent(left[index] as TraceEvent);
    const b = describeEvent(right[index] as TraceEvent);
    if (a !== b) return `event ${index} differs:\n  first run:  ${a}\n  second run: ${b}`;
  }
  if (left.length === right.length) return undefined;
  const longer = left.length > right.length ? left : right;
  const which = left.length > right.length ? 'first' : 'second';
  return `only the ${which} run has event ${length}: ${describeEvent(longer[length] as TraceEvent)}`;
}
