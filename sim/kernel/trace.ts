// The run's record: every delivered message, timer, state change and fault as a structured event.
// A rolling 64-bit hash over each event's fields gives `traceHash`, the fingerprint of a run that
// must be identical for the same seed. Memory stays bounded: the trace keeps the most recent
// events in a ring for display and hands every event to an optional sink for streaming export.

import type { Clock, Ms } from './time.ts';

export type TraceValue = string | number | boolean | null;
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
  /** How many recent events stay in memory (the ring). */
  readonly ringCapacity?: number;
  /** Receives every event as it happens, for streaming export. */
  readonly sink?: TraceSink;
}

const FNV_PRIME = 0x01000193;
const MURMUR_M = 0x5bd1e995;

/** Two independent 32-bit lanes (FNV-1a and a murmur-style mix): a 64-bit rolling fingerprint. */
export class RollingHash {
  #a = 0x811c9dc5 | 0;
  #b = 0x2545f491 | 0;

  mixInt32(value: number): void {
    this.#a = Math.imul(this.#a ^ value, FNV_PRIME);
    let k = Math.imul(value, MURMUR_M);
    k ^= k >>> 24;
    this.#b = Math.imul(this.#b, MURMUR_M) ^ Math.imul(k, MURMUR_M);
  }

  mixNumber(value: number): void {
    if ((value | 0) === value) {
      this.mixInt32(value);
    } else if (Number.isSafeInteger(value)) {
      this.mixInt32((value % 0x1_0000_0000) | 0);
      this.mixInt32(Math.floor(value / 0x1_0000_0000) | 0);
    } else {
      this.mixString(String(value));
    }
  }

  mixString(value: string): void {
    let a = this.#a;
    let b = this.#b;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      a = Math.imul(a ^ code, FNV_PRIME);
      b = Math.imul(b ^ code, MURMUR_M);
      b ^= b >>> 15;
    }
    // The length closes the string so that ("ab", "c") and ("a", "bc") differ.
    this.#a = a;
    this.#b = b;
    this.mixInt32(value.length);
  }

  mixValue(value: TraceValue): void {
    if (typeof value === 'number') {
      this.mixInt32(1);
      this.mixNumber(value);
    } else if (typeof value === 'string') {
      this.mixInt32(2);
      this.mixString(value);
    } else if (typeof value === 'boolean') {
      this.mixInt32(value ? 3 : 4);
    } else {
      this.mixInt32(5);
    }
  }

  /** 16 hex digits. */
  digest(): string {
    let b = this.#b;
    b ^= b >>> 13;
    b = Math.imul(b, MURMUR_M);
    b ^= b >>> 15;
    return (this.#a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
  }
}

export class Trace {
  readonly #clock: Clock;
  readonly #hash = new RollingHash();
  readonly #ring: (TraceEvent | undefined)[];
  readonly #sink: TraceSink | undefined;
  #count = 0;

  constructor(clock: Clock, options: TraceOptions = {}) {
    const ringCapacity = options.ringCapacity ?? 10_000;
    if (!Number.isSafeInteger(ringCapacity) || ringCapacity < 1) {
      throw new RangeError(`ringCapacity must be a positive integer (got ${ringCapacity})`);
    }
    this.#clock = clock;
    this.#ring = new Array<TraceEvent | undefined>(ringCapacity);
    this.#sink = options.sink;
  }

  /** Events recorded so far. */
  get count(): number {
    return this.#count;
  }

  /** The fingerprint of every event so far. */
  get hash(): string {
    return this.#hash.digest();
  }

  get ringCapacity(): number {
    return this.#ring.length;
  }

  emit(node: string, kind: string, fields?: TraceFields): void {
    const atMs = this.#clock.nowMs;
    const hash = this.#hash;
    hash.mixNumber(atMs);
    hash.mixString(node);
    hash.mixString(kind);
    if (fields !== undefined) {
      for (const key in fields) {
        hash.mixString(key);
        hash.mixValue(fields[key] as TraceValue);
      }
    }
    const event: TraceEvent = { index: this.#count, atMs, node, kind, fields };
    this.#ring[this.#count % this.#ring.length] = event;
    this.#count++;
    if (this.#sink !== undefined) this.#sink(event);
  }

  /** The most recent events still in memory, oldest first. */
  recent(limit = this.#ring.length): TraceEvent[] {
    const available = Math.min(this.#count, this.#ring.length, limit);
    const result: TraceEvent[] = [];
    for (let index = this.#count - available; index < this.#count; index++) {
      result.push(this.#ring[index % this.#ring.length] as TraceEvent);
    }
    return result;
  }
}

/** One line of JSON Lines export: the event with its fields flattened beside atMs, node, kind. */
export function traceEventToJsonLine(event: TraceEvent): string {
  return JSON.stringify({
    index: event.index,
    atMs: event.atMs,
    node: event.node,
    kind: event.kind,
    ...event.fields,
  });
}

/**
 * Streams a run as Chrome trace-event JSON (opens in Perfetto or chrome://tracing): one track per
 * node, an instant per event, and a flow arrow from sender to receiver for every delivered message
 * (events of kind `net.deliver` that carry `source`, `msg` and `sentAtMs`).
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
    const args = { index: event.index, ...event.fields };
    parts.push(
      JSON.stringify({
        name: event.kind,
        cat: event.kind.split('.')[0],
        ph: 'i',
        s: 't',
        pid: 1,
        tid,
        ts,
        args,
      }),
    );
    const fields = event.fields;
    if (event.kind === 'net.deliver' && fields !== undefined) {
      const source = fields['source'];
      const msg = fields['msg'];
      const sentAtMs = fields['sentAtMs'];
      if (typeof source === 'string' && typeof msg === 'number' && typeof sentAtMs === 'number') {
        const sourceTid = this.#track(source, parts);
        const name = String(fields['type'] ?? 'message');
        parts.push(
          JSON.stringify({
            name,
            cat: 'flow',
            ph: 's',
            id: msg,
            pid: 1,
            tid: sourceTid,
            ts: sentAtMs * 1000,
          }),
        );
        parts.push(
          JSON.stringify({ name, cat: 'flow', ph: 'f', bp: 'e', id: msg, pid: 1, tid, ts }),
        );
      }
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
