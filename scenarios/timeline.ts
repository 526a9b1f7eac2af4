// What a person reads of a run: the events that matter, one line each (faults, operations,
// controller changes, broker fencing, leader elections, ISR changes, high watermarks that stall
// and move again, truncations, violations), the producers' outcomes grouped by second, and the
// final state of every partition. Plain data: the CLI colours it by category.

import { ActivityWatch } from '../properties/activity.ts';
import type { KafkaRunResult } from '../properties/kafka-harness.ts';
import type { HistoryEntry } from '../sim/kafka/clients/history.ts';
import { activeController, brokerOf, type KraftCluster } from '../sim/kafka/kraft/cluster.ts';
import type { ClusterMessage } from '../sim/kafka/messages.ts';
import type { Ms } from '../sim/kernel/time.ts';
import type { TraceEvent } from '../sim/kernel/trace.ts';

export type TimelineCategory =
  | 'fault'
  | 'operation'
  | 'controller'
  | 'broker'
  | 'election'
  | 'isr'
  | 'hw'
  | 'truncation'
  | 'acks'
  | 'error'
  | 'consumer'
  | 'violation'
  | 'allowed'
  | 'detail';

export interface TimelineEntry {
  readonly atMs: Ms;
  readonly category: TimelineCategory;
  /** The node it happened on (`world` for faults and operations). */
  readonly node: string;
  readonly text: string;
}

export interface ReplicaRow {
  readonly broker: string;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly highWatermark: number;
  readonly role: string;
  /** Down, or running without this replica. */
  readonly status: 'up' | 'down' | 'missing';
}

export interface PartitionRow {
  readonly topic: string;
  readonly partition: number;
  readonly leader: string | null;
  readonly leaderEpoch: number;
  readonly isr: readonly string[];
  readonly elr: readonly string[];
  readonly replicas: readonly ReplicaRow[];
}

const TIMELINE_MAX = 2_000;
/** A high watermark that has not moved for this long while its leader has more is "stalled". */
const STALL_MS = 2_000;

interface HighWatermarkWatch {
  highWatermark: number;
  sinceMs: Ms;
  stalled: boolean;
}

export class TimelineRecorder {
  readonly #verbose: boolean;
  readonly #entries: TimelineEntry[] = [];
  /** Leaders' high watermarks by broker, then partition key. */
  readonly #watches = new Map<string, Map<string, HighWatermarkWatch>>();
  #dropped = 0;
  #slowedOrClogged = false;
  /** Which brokers were entered since the last sample; when the next HW stall is due. */
  #brokersWatch: ActivityWatch<ClusterMessage> | null = null;
  #stallAtMs: Ms = Number.POSITIVE_INFINITY;

  constructor(verbose: boolean) {
    this.#verbose = verbose;
  }

  /** The trace kinds onTraceEvent uses (every kind when verbose). */
  wants(kind: string): boolean {
    return (
      this.#verbose ||
      TIMELINE_KINDS.has(kind) ||
      kind.startsWith('fault.') ||
      kind.startsWith('operation.')
    );
  }

  onTraceEvent(event: TraceEvent): void {
    // The heal undoes slow links and clogs too: say so only when there were any.
    if (event.kind === 'fault.slow' || event.kind === 'fault.clog') this.#slowedOrClogged = true;
    if (
      (event.kind === 'fault.unslow' || event.kind === 'fault.release-all') &&
      !this.#slowedOrClogged
    )
      return;
    const entry = describe(event);
    if (entry !== null) this.#push(entry);
    else if (this.#verbose)
      this.#push({ atMs: event.atMs, category: 'detail', node: event.node, text: detail(event) });
  }

  /** After every event: notes high watermarks that stall (leader has more) or move again. */
  sample(cluster: KraftCluster): void {
    const nowMs = cluster.world.nowMs;
    // Leaders' HWs and LEOs change only where a broker was entered: those are looked at after
    // each event; a stall shows with time alone, so every broker once its deadline passes.
    this.#brokersWatch ??= new ActivityWatch(cluster.world, cluster.brokers);
    if (nowMs < this.#stallAtMs) {
      this.#brokersWatch.visitEntered((brokerId) => this.#sampleBroker(cluster, brokerId, nowMs));
      return;
    }
    this.#brokersWatch.visitEntered();
    this.#stallAtMs = Number.POSITIVE_INFINITY;
    for (const brokerId of cluster.brokers) this.#sampleBroker(cluster, brokerId, nowMs);
  }

  #sampleBroker(cluster: KraftCluster, brokerId: string, nowMs: Ms): void {
    const broker = brokerOf(cluster, brokerId);
    if (broker === null) return;
    // Per broker: after a failover the new leader's high watermark is its own story.
    let watches = this.#watches.get(brokerId);
    if (watches === undefined) {
      watches = new Map();
      this.#watches.set(brokerId, watches);
    }
    for (const replica of broker.replicaManager.replicaList) {
      if (replica.role !== 'leader') continue;
      const watch = watches.get(replica.key);
      if (watch === undefined || replica.highWatermark !== watch.highWatermark) {
        if (watch?.stalled === true) {
          this.#push({
            atMs: nowMs,
            category: 'hw',
            node: brokerId,
            text: `${topicName(replica.key)}: HW moves again, ${watch.highWatermark} → ${replica.highWatermark}`,
          });
        }
        watches.set(replica.key, {
          highWatermark: replica.highWatermark,
          sinceMs: nowMs,
          stalled: false,
        });
        if (replica.logEndOffset > replica.highWatermark) this.#stallAt(nowMs + STALL_MS);
        continue;
      }
      if (watch.stalled || replica.logEndOffset <= replica.highWatermark) continue;
      if (nowMs - watch.sinceMs < STALL_MS) this.#stallAt(watch.sinceMs + STALL_MS);
      else {
        watch.stalled = true;
        const isr = replica.leaderState?.isr.join(',') ?? '';
        this.#push({
          atMs: nowMs,
          category: 'hw',
          node: brokerId,
          text: `${topicName(replica.key)}: HW stalled at ${replica.highWatermark} (LEO ${replica.logEndOffset}, ISR [${isr}]): acks=all writes wait`,
        });
      }
    }
  }

  #stallAt(atMs: Ms): void {
    if (atMs < this.#stallAtMs) this.#stallAtMs = atMs;
  }

  /** The timeline: trace events, producer outcomes, violations and allowed losses, by time. */
  entries(result: KafkaRunResult): TimelineEntry[] {
    const all = [
      ...this.#entries,
      ...producerLines(result.history.entries),
      ...result.violations.map(
        (violation): TimelineEntry => ({
          atMs: violation.atMs,
          category: 'violation',
          node: 'checker',
          text: `${violation.invariant}: ${violation.message}`,
        }),
      ),
      ...result.allowed.slice(0, 20).map(
        (loss): TimelineEntry => ({
          atMs: loss.atMs,
          category: 'allowed',
          node: 'checker',
          text: `allowed loss (${loss.reason}): ${loss.message}`,
        }),
      ),
    ];
    if (this.#dropped > 0) {
      all.push({
        atMs: result.simulatedMs,
        category: 'detail',
        node: 'timeline',
        text: `${this.#dropped} more events not shown (the timeline keeps ${TIMELINE_MAX})`,
      });
    }
    // A stable sort: same-time entries keep the order they were recorded in.
    return all
      .map((entry, index) => ({ entry, index }))
      .sort((a, b) => a.entry.atMs - b.entry.atMs || a.index - b.index)
      .map(({ entry }) => entry);
  }

  #push(entry: TimelineEntry): void {
    if (this.#entries.length >= TIMELINE_MAX) {
      this.#dropped++;
      return;
    }
    this.#entries.push(entry);
  }
}

/** `orders-7-0` → `orders-0`: topic ids carry the creation offset, people read names. */
function topicName(key: string): string {
  const match = /^(.*)-\d+-(\d+)$/.exec(key);
  return match === null ? key : `${match[1]}-${match[2]}`;
}

function field(event: TraceEvent, name: string): string {
  const value = event.fields?.[name];
  return value === undefined ? '' : String(value);
}

function detail(event: TraceEvent): string {
  const fields = Object.entries(event.fields ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  return `${event.kind} ${fields}`.trim();
}

/** The kinds `describe` names, besides faults and operations. */
const TIMELINE_KINDS: ReadonlySet<string> = new Set([
  'controller.active',
  'controller.session-expired',
  'broker.registered',
  'broker.state',
  'broker.controlled-shutdown',
  'replica.leader',
  'replica.isr-shrink',
  'replica.isr-expand',
  'replica.isr-changed',
  'replica.isr-change-failed',
  'replica.truncate',
  'consumer.truncation',
]);

/** The one-line description of a trace event that matters, or null. */
function describe(event: TraceEvent): TimelineEntry | null {
  const at = (category: TimelineCategory, text: string): TimelineEntry => ({
    atMs: event.atMs,
    category,
    node: event.node,
    text,
  });
  const partition = topicName(field(event, 'partition'));
  if (event.kind.startsWith('fault.'))
    return at('fault', `${event.kind.slice(6)} ${faultFields(event)}`.trim());
  if (event.kind === 'operation.remove-broker-retry')
    return at(
      'operation',
      `remove-broker ${field(event, 'broker')}: unregister failed (${field(event, 'error')}), asking again`,
    );
  if (event.kind.startsWith('operation.'))
    return at('operation', `${event.kind.slice(10)} ${field(event, 'broker')}`);
  switch (event.kind) {
    case 'controller.active':
      return at(
        'controller',
        `becomes the active controller (metadata epoch ${field(event, 'epoch')})`,
      );
    case 'controller.session-expired':
      return at(
        'broker',
        `fences ${field(event, 'broker')}: no heartbeat within the session timeout`,
      );
    case 'broker.registered':
      return at('broker', `registered (broker epoch ${field(event, 'brokerEpoch')})`);
    case 'broker.state':
      return at('broker', field(event, 'state') === 'running' ? 'unfenced: running' : 'fenced');
    case 'broker.controlled-shutdown':
      return at('broker', 'asks for a controlled shutdown');
    case 'replica.leader':
      return at(
        'election',
        `${partition}: leader in epoch ${field(event, 'leaderEpoch')} (LEO ${field(event, 'logEndOffset')}, HW ${field(event, 'highWatermark')}, ISR [${field(event, 'isr')}])`,
      );
    case 'replica.isr-shrink':
      return at('isr', `${partition}: ${field(event, 'lagging')} lagging, ISR shrink proposed`);
    case 'replica.isr-expand':
      return at('isr', `${partition}: ${field(event, 'joining')} caught up, ISR expand proposed`);
    case 'replica.isr-changed':
      return at('isr', `${partition}: ISR now [${field(event, 'isr')}]`);
    case 'replica.isr-change-failed':
      return at('isr', `${partition}: ISR change refused (${field(event, 'error')})`);
    case 'replica.truncate':
      return at(
        'truncation',
        `${partition}: truncates its log ${field(event, 'from')} → ${field(event, 'to')} (${field(event, 'reason')})`,
      );
    case 'consumer.truncation':
      return at(
        'consumer',
        `${field(event, 'topic')}-${field(event, 'partition')}: detects a log truncation (KIP-320), goes back ${field(event, 'from')} → ${field(event, 'to')}`,
      );
    default:
      return null;
  }
}

function faultFields(event: TraceEvent): string {
  return Object.entries(event.fields ?? {})
    .map(([key, value]) => (key === 'target' ? String(value) : `${key}=${value}`))
    .join(' ');
}

/** Producers' completions, one line per producer, outcome and second. */
function producerLines(entries: readonly HistoryEntry[]): TimelineEntry[] {
  // One group per producer, outcome, partition and second, however the producers interleave.
  const groups = new Map<
    string,
    { entry: HistoryEntry; count: number; first: number; last: number }
  >();
  for (const entry of entries) {
    if (entry.f !== 'send' || entry.type === 'invoke') continue;
    const key = `${entry.process}|${entry.type}|${entry.error ?? ''}|${entry.topic}-${entry.partition}|${Math.floor(entry.atMs / 1_000)}`;
    const offset = entry.offset ?? -1;
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, { entry, count: 1, first: offset, last: offset });
      continue;
    }
    group.count++;
    group.last = Math.max(group.last, offset);
    if (group.first < 0 || (offset >= 0 && offset < group.first)) group.first = offset;
  }
  return [...groups.values()].map(({ entry, count, first, last }) => {
    const what =
      entry.type === 'ok'
        ? `${count} ok${first >= 0 ? `, offsets ${first}–${last}` : ''}`
        : `${count} ${entry.type} (${entry.error ?? '?'})`;
    return {
      atMs: entry.atMs,
      category: entry.type === 'ok' ? 'acks' : 'error',
      node: entry.process,
      text: `acks=${entry.acks ?? 'all'} writes to ${entry.topic}-${entry.partition}: ${what}`,
    };
  });
}

/** Every partition's final state: the committed metadata and each replica's log. */
export function buildPartitionRows(result: KafkaRunResult): PartitionRow[] {
  const { cluster } = result;
  const rows: PartitionRow[] = [];
  const image =
    activeController(cluster)?.image ??
    cluster.brokers
      .map((id) => brokerOf(cluster, id)?.image)
      .find((candidate) => candidate !== undefined);
  if (image === undefined) return rows;
  for (const topic of image.topics.values()) {
    const numbers = [...topic.partitions.keys()].sort((a, b) => a - b);
    for (const number of numbers) {
      const state = topic.partitions.get(number);
      if (state === undefined) continue;
      rows.push({
        topic: topic.name,
        partition: number,
        leader: state.leader,
        leaderEpoch: state.leaderEpoch,
        isr: state.isr,
        elr: state.elr,
        replicas: state.replicas.map((brokerId): ReplicaRow => {
          const broker = brokerOf(cluster, brokerId);
          const replica = broker?.replicaManager.replica(topic.topicId, number);
          if (replica === undefined) {
            return {
              broker: brokerId,
              logStartOffset: -1,
              logEndOffset: -1,
              highWatermark: -1,
              role: '-',
              status: broker === null ? 'down' : 'missing',
            };
          }
          return {
            broker: brokerId,
            logStartOffset: replica.log.logStartOffset,
            logEndOffset: replica.logEndOffset,
            highWatermark: replica.highWatermark,
            role: replica.role,
            status: 'up',
          };
        }),
      });
    }
  }
  return rows;
}
