// What a person reads of a run: the events that matter, one line each (faults, operations,
// controller changes, broker fencing, the controller's leadership decisions, brokers taking up
// leadership, ISR changes, high watermarks that stall and move again, truncations, violations),
// the producers' outcomes grouped by second, and the final state of every partition. Plain data:
// the CLI colours it by category.
//
// The controller does not trace its partition decisions: they are records of the metadata log.
// The recorder follows the committed log as brokers do (its own image, replayed batch by batch)
// and writes one line per leader epoch of a partition (who leads, or that none can, and why), at
// the moment and on the controller that appended it; a decision that never commits is not shown.

import { ActivityWatch } from '../properties/activity.ts';
import type { KafkaRunResult } from '../properties/kafka-harness.ts';
import type { Replica } from '../sim/kafka/broker/replica-manager.ts';
import type { HistoryEntry } from '../sim/kafka/clients/history.ts';
import {
  MetadataImage,
  type PartitionState,
  replayLog,
} from '../sim/kafka/controller/metadata-image.ts';
import type { BrokerId, MetadataRecord } from '../sim/kafka/controller/records.ts';
import {
  activeController,
  brokerOf,
  controllerOf,
  type KraftCluster,
} from '../sim/kafka/kraft/cluster.ts';
import type { KraftController } from '../sim/kafka/kraft/controller-node.ts';
import type { ClusterMessage } from '../sim/kafka/messages.ts';
import type { RaftEntry, RaftLog } from '../sim/kafka/raft/log.ts';
import type { NodeId } from '../sim/kernel/network.ts';
import { formatMs, type Ms } from '../sim/kernel/time.ts';
import type { TraceEvent, TraceValue } from '../sim/kernel/trace.ts';

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
  /**
   * A line that says the same thing each time it repeats (a step skipped, a registration
   * refused while the old session lasts): told once, at its first time, with a count.
   */
  readonly repeats?: boolean;
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
  /** Whose metadata the leader, ISR and ELR are: the active controller's, else a broker's. */
  readonly view: string;
}

/** A metadata quorum voter at the end of a run, as its own state says. */
export interface QuorumRow {
  readonly controller: string;
  /** Down: the rest is unknown (-1, '-'). */
  readonly status: 'up' | 'down';
  /** leader, follower, candidate, prospective, unattached. */
  readonly role: string;
  readonly epoch: number;
  /** Its vote in its epoch ('-' for none). */
  readonly votedFor: string;
  readonly logEndOffset: number;
  /** The epoch of its log's last entry. */
  readonly lastEpoch: number;
  readonly highWatermark: number;
}

/** Allowed losses shown one by one in the timeline, per reason (the verdict counts them all). */
const ALLOWED_SHOWN_MAX = 10;
/** Lines kept of what matters (faults, elections, ISR, …); past it they are counted. */
const TIMELINE_MAX = 2_000;
/**
 * Lines kept of the other trace events `--verbose` adds, counted apart: a verbose timeline must
 * not lose what matters to the messages and timers of a run's first seconds.
 */
const DETAIL_MAX = 50_000;
/** A high watermark that has not moved for this long while its leader has more is "stalled". */
export const STALL_MS = 2_000;

/** A leader's high watermark, on one broker. */
interface HighWatermarkWatch {
  /** The leader epoch it was last seen leading. */
  leaderEpoch: number;
  highWatermark: number;
  /** Since when the leader has held records past this HW (null: it holds none). */
  waitingSinceMs: Ms | null;
  stalled: boolean;
}

export class TimelineRecorder {
  readonly #verbose: boolean;
  readonly #entries: TimelineEntry[] = [];
  /** Leaders' high watermarks by broker, then partition key. */
  readonly #watches = new Map<string, Map<string, HighWatermarkWatch>>();
  #dropped = 0;
  #details = 0;
  #detailsDropped = 0;
  #slowedOrClogged = false;
  /** A role step's event, told with the fault that follows it (onTraceEvent). */
  #pendingStep: TraceEvent | null = null;
  /** The metadata leaders as the trace tells them: node → the epoch it leads. */
  readonly #metadataLeaders = new Map<string, number>();
  /** The newest epoch a metadata leader took, and who took it. */
  #newestLeader: { readonly node: string; readonly epoch: number } | null = null;
  /** Leaders whose resignation (check-quorum) was told: their next role says nothing more. */
  readonly #resigned = new Set<string>();
  /** Which brokers were entered since the last sample; when the next HW stall is due. */
  #brokersWatch: ActivityWatch<ClusterMessage> | null = null;
  #stallAtMs: Ms = Number.POSITIVE_INFINITY;
  readonly #decisions = new LeadershipDecisions((entry) => this.#push(entry));

  constructor(verbose: boolean) {
    this.#verbose = verbose;
  }

  /** The trace kinds onTraceEvent uses (every kind when verbose). */
  wants(kind: string): boolean {
    return (
      this.#verbose ||
      TIMELINE_KINDS.has(kind) ||
      // A crash ends a metadata leader's term without a word: no step-down to tell after it.
      kind === 'node.crash' ||
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
    if (event.kind === 'controller.session-expired')
      this.#decisions.noteSessionExpired(String(event.fields?.['broker']));
    // A role step's event comes just before its fault's, at the same time: one line says both.
    const step = this.#pendingStep;
    this.#pendingStep = null;
    if (event.kind === 'fault.step' && !this.#verbose) {
      if (step !== null) this.#push(describe(step) as TimelineEntry);
      this.#pendingStep = event;
      return;
    }
    let entry = this.#quorumContext(event, describe(event));
    if (step !== null) {
      if (entry !== null && entry.category === 'fault' && entry.atMs === step.atMs)
        entry = { ...entry, text: `${entry.text} (${stepSuffix(step.fields ?? {}, step.atMs)})` };
      else this.#push(describe(step) as TimelineEntry);
    }
    if (entry !== null) this.#push(entry);
    else if (this.#verbose)
      this.#push({ atMs: event.atMs, category: 'detail', node: event.node, text: detail(event) });
  }

  /**
   * What the metadata quorum's leadership adds to a line: a leader stepping down because it
   * learned of a newer epoch (its role changes with no resignation told), and a controller acting
   * as the leader of an epoch a newer one has replaced (its decisions will not commit).
   */
  #quorumContext(event: TraceEvent, entry: TimelineEntry | null): TimelineEntry | null {
    const node = event.node;
    if (event.kind === 'node.crash') this.#metadataLeaders.delete(node);
    if (event.kind === 'raft.resign') this.#resigned.add(node);
    if (event.kind === 'raft.role') {
      const role = field(event, 'role');
      const epoch = Number(field(event, 'epoch'));
      if (role === 'leader') {
        this.#metadataLeaders.set(node, epoch);
        if (this.#newestLeader === null || epoch > this.#newestLeader.epoch)
          this.#newestLeader = { node, epoch };
        return entry;
      }
      const led = this.#metadataLeaders.get(node);
      this.#metadataLeaders.delete(node);
      if (led === undefined || this.#resigned.delete(node)) return entry;
      const now =
        role === 'follower'
          ? `following ${field(event, 'leader')} in epoch ${epoch}`
          : `${role} in epoch ${epoch}`;
      return {
        atMs: event.atMs,
        category: 'controller',
        node,
        text: `steps down as metadata leader of epoch ${led}: it learned of epoch ${epoch} (now ${now})`,
      };
    }
    if (event.kind === 'controller.session-expired' && entry !== null) {
      const led = this.#metadataLeaders.get(node);
      const newest = this.#newestLeader;
      if (led !== undefined && newest !== null && newest.epoch > led)
        return {
          ...entry,
          text: `${entry.text} (as the leader of metadata epoch ${led}, which ${newest.node}'s epoch ${newest.epoch} has replaced: this will not commit)`,
        };
    }
    return entry;
  }

  /**
   * After every event: notes the controller's leadership decisions as they commit, and high
   * watermarks that stall (the leader has more) or move again.
   */
  sample(cluster: KraftCluster): void {
    this.#decisions.sample(cluster);
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
      let watch = watches.get(replica.key);
      if (watch === undefined) {
        watch = {
          leaderEpoch: replica.leaderEpoch,
          highWatermark: replica.highWatermark,
          waitingSinceMs: null,
          stalled: false,
        };
        watches.set(replica.key, watch);
      } else if (watch.leaderEpoch !== replica.leaderEpoch) {
        // Leading again: what waits is counted afresh; a stall before ends when the HW moves.
        watch.leaderEpoch = replica.leaderEpoch;
        watch.waitingSinceMs = null;
      }
      if (replica.highWatermark !== watch.highWatermark) {
        if (watch.stalled) {
          this.#push({
            atMs: nowMs,
            category: 'hw',
            node: brokerId,
            text:
              replica.highWatermark < watch.highWatermark
                ? `${topicName(replica.key)}: HW goes back, ${watch.highWatermark} → ${replica.highWatermark} (records it had counted as committed are gone from its log)`
                : `${topicName(replica.key)}: HW moves again, ${watch.highWatermark} → ${replica.highWatermark}`,
          });
        }
        watch.highWatermark = replica.highWatermark;
        watch.waitingSinceMs = null;
        watch.stalled = false;
      }
      this.#sampleWaiting(watch, replica, brokerId, nowMs);
    }
  }

  /**
   * A stall is a HW that stays put for STALL_MS while the leader holds records past it: counted
   * from the later of the HW's last move and the first record past it (an idle leader's HW that
   * waited for no record is not stalled).
   */
  #sampleWaiting(watch: HighWatermarkWatch, replica: Replica, brokerId: string, nowMs: Ms): void {
    if (replica.logEndOffset <= replica.highWatermark) {
      watch.waitingSinceMs = null;
      return;
    }
    if (watch.stalled) return;
    watch.waitingSinceMs ??= nowMs;
    const dueMs = watch.waitingSinceMs + STALL_MS;
    if (nowMs < dueMs) {
      this.#stallAt(dueMs);
      return;
    }
    watch.stalled = true;
    const isr = replica.leaderState?.isr.join(',') ?? '';
    this.#push({
      atMs: nowMs,
      category: 'hw',
      node: brokerId,
      text: `${topicName(replica.key)}: HW stalled at ${replica.highWatermark} (LEO ${replica.logEndOffset}, ISR [${isr}]): acks=all writes wait`,
    });
  }

  #stallAt(atMs: Ms): void {
    if (atMs < this.#stallAtMs) this.#stallAtMs = atMs;
  }

  /** The timeline: trace events, producer outcomes, violations and allowed losses, by time. */
  entries(result: KafkaRunResult): TimelineEntry[] {
    // A role step whose fault traced nothing after it (none does now; said rather than lost).
    if (this.#pendingStep !== null) {
      this.#push(describe(this.#pendingStep) as TimelineEntry);
      this.#pendingStep = null;
    }
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
      ...allowedLines(result),
    ];
    if (this.#dropped > 0) {
      all.push({
        atMs: result.simulatedMs,
        category: 'detail',
        node: 'timeline',
        text: `${this.#dropped} more events not shown (the timeline keeps ${TIMELINE_MAX})`,
      });
    }
    if (this.#detailsDropped > 0) {
      all.push({
        atMs: result.simulatedMs,
        category: 'detail',
        node: 'timeline',
        text: `${this.#detailsDropped} more trace events not shown (--verbose keeps ${DETAIL_MAX}; --trace FILE writes them all)`,
      });
    }
    // A stable sort: same-time entries keep the order they were recorded in.
    return collapseRepeatedFaults(
      all
        .map((entry, index) => ({ entry, index }))
        .sort((a, b) => a.entry.atMs - b.entry.atMs || a.index - b.index)
        .map(({ entry }) => entry),
    );
  }

  #push(entry: TimelineEntry): void {
    if (entry.category === 'detail') {
      if (this.#details >= DETAIL_MAX) {
        this.#detailsDropped++;
        return;
      }
      this.#details++;
    } else if (this.#entries.length - this.#details >= TIMELINE_MAX) {
      this.#dropped++;
      return;
    }
    this.#entries.push(entry);
  }
}

/**
 * Lines that repeat word for word, as one line with a count: a step that did nothing (`skip …`)
 * or a line marked `repeats` wherever it repeats (a schedule's many steps waiting for a role that
 * never came, a broker refused each second), at its first time; any other fault line when it
 * repeats one after another.
 */
function collapseRepeatedFaults(entries: readonly TimelineEntry[]): TimelineEntry[] {
  const anywhere = (entry: TimelineEntry) =>
    entry.repeats === true || (entry.category === 'fault' && entry.text.startsWith('skip '));
  const keyOf = (entry: TimelineEntry) => `${entry.node}|${entry.text}`;
  const repeats = new Map<string, { count: number; lastMs: Ms }>();
  for (const entry of entries) {
    if (!anywhere(entry)) continue;
    const seen = repeats.get(keyOf(entry));
    repeats.set(keyOf(entry), { count: (seen?.count ?? 0) + 1, lastMs: entry.atMs });
  }
  const told = new Set<string>();
  const out: TimelineEntry[] = [];
  for (let index = 0; index < entries.length; ) {
    const entry = entries[index] as TimelineEntry;
    let count = 1;
    let lastMs = entry.atMs;
    if (anywhere(entry)) {
      index++;
      if (told.has(keyOf(entry))) continue;
      told.add(keyOf(entry));
      ({ count, lastMs } = repeats.get(keyOf(entry)) ?? { count, lastMs });
    } else {
      let end = index + 1;
      if (entry.category === 'fault')
        while (end < entries.length) {
          const next = entries[end] as TimelineEntry;
          if (next.category !== 'fault' || keyOf(next) !== keyOf(entry)) break;
          end++;
        }
      count = end - index;
      lastMs = (entries[end - 1] as TimelineEntry).atMs;
      index = end;
    }
    out.push(
      count === 1
        ? entry
        : { ...entry, text: `${entry.text} ${countText(count, entry.atMs, lastMs)}` },
    );
  }
  return out;
}

/** `(×23)`, or `(×35, the last at 52.300s)` when they spread over time. */
function countText(count: number, firstMs: Ms, lastMs: Ms): string {
  return `(×${count}${lastMs === firstMs ? '' : `, the last at ${formatMs(lastMs)}`})`;
}

/** A partition record seen in the active controller's log before it committed. */
interface Appended {
  readonly atMs: Ms;
  readonly node: NodeId;
  readonly offset: number;
}

/** How far a controller's log was read for its own appends, in which metadata epoch. */
interface Scanned {
  readonly epoch: number;
  readonly offset: number;
}

/**
 * The controller's leadership decisions, read from the committed metadata log (the controller
 * traces none): one line per leader epoch of a partition (its leader, or none and why) and per
 * change of who may lead a leaderless one, dated when and where the record was appended.
 */
class LeadershipDecisions {
  readonly #push: (entry: TimelineEntry) => void;
  /** The committed records replayed, as a broker keeps them. */
  #image = new MetadataImage();
  /** Each committed entry replayed, by offset (to notice a log that lost committed entries). */
  readonly #replayed: string[] = [];
  /** Partition records appended, not yet committed: when and by whom, by record id. */
  readonly #appended = new Map<string, Appended>();
  /** The records that have had their line (two diverged logs, with a quorum bug, may both replay). */
  readonly #shown = new Set<string>();
  readonly #scanned = new Map<NodeId, Scanned>();
  /**
   * Brokers the controller fenced when their session expired. A broker cut off never hears it was
   * fenced, so it traces no change when its heartbeats come back: the controller's unfence (a
   * committed UnfenceBroker record) is the line that says it may lead and join ISRs again.
   */
  readonly #sessionExpired = new Set<BrokerId>();
  #cluster: KraftCluster | null = null;
  #controllersWatch: ActivityWatch<ClusterMessage> | null = null;

  constructor(push: (entry: TimelineEntry) => void) {
    this.#push = push;
  }

  noteSessionExpired(brokerId: BrokerId): void {
    this.#sessionExpired.add(brokerId);
  }

  sample(cluster: KraftCluster): void {
    this.#cluster = cluster;
    // A controller's log and high watermark change only when it is entered.
    this.#controllersWatch ??= new ActivityWatch(cluster.world, cluster.controllers);
    this.#controllersWatch.visitEntered(this.#visit);
  }

  readonly #visit = (id: NodeId): void => {
    const cluster = this.#cluster;
    const controller = cluster === null ? null : controllerOf(cluster, id);
    if (cluster === null || controller === null) return;
    const nowMs = cluster.world.nowMs;
    if (controller.isActive) this.#noteAppends(id, controller, nowMs);
    const { log } = controller.raft;
    const committedTo = Math.min(controller.raft.highWatermark, log.endOffset);
    if (committedTo > this.#replayed.length) this.#replayCommitted(id, log, committedTo, nowMs);
  };

  /** The partition records the active controller appended in its epoch since the last look. */
  #noteAppends(id: NodeId, controller: KraftController, nowMs: Ms): void {
    const { raft } = controller;
    const { log } = raft;
    const scanned = this.#scanned.get(id);
    let offset = scanned?.epoch === raft.epoch ? scanned.offset : raft.epochStartOffset;
    if (offset >= log.endOffset) return;
    for (; offset < log.endOffset; offset++) {
      const entry = log.entry(offset);
      if (entry.epoch !== raft.epoch || entry.payload.type !== 'record') continue;
      const record = entry.payload.record as MetadataRecord;
      if (record.type !== 'Partition' && record.type !== 'PartitionChange') continue;
      if (!this.#appended.has(entry.payload.id))
        this.#appended.set(entry.payload.id, { atMs: nowMs, node: id, offset });
    }
    this.#scanned.set(id, { epoch: raft.epoch, offset });
  }

  #replayCommitted(id: NodeId, log: RaftLog, committedTo: number, nowMs: Ms): void {
    let offset = this.#replayed.length;
    // Only with a quorum bug on does a log that committed further disagree with what was replayed.
    if (offset > 0 && entryIdentity(log.entry(offset - 1)) !== this.#replayed[offset - 1])
      offset = this.#rebuild(log, offset);
    while (offset < committedTo) offset = this.#replayBatch(id, log, offset, committedTo, nowMs);
    // What was appended at a committed offset and not replayed there was truncated: never decided.
    for (const [id, appended] of this.#appended)
      if (appended.offset < offset) this.#appended.delete(id);
  }

  /** Replays, without lines, the prefix `log` shares with what was replayed; returns its end. */
  #rebuild(log: RaftLog, upTo: number): number {
    let agreed = 0;
    while (agreed < upTo && entryIdentity(log.entry(agreed)) === this.#replayed[agreed]) agreed++;
    this.#image = new MetadataImage();
    replayLog(this.#image, log, 0, agreed);
    this.#replayed.length = agreed;
    return agreed;
  }

  /** Replays the batch (one decision) from `start`; returns where the next one starts. */
  #replayBatch(id: NodeId, log: RaftLog, start: number, committedTo: number, nowMs: Ms): number {
    let end = start + 1;
    while (end < committedTo && log.entry(end - 1).moreInBatch === true) end++;
    const changes = brokerChanges(log, start, end);
    for (let offset = start; offset < end; offset++) {
      const entry = log.entry(offset);
      this.#replayed.push(entryIdentity(entry));
      if (entry.payload.type !== 'record') continue;
      const record = entry.payload.record as MetadataRecord;
      this.#noteBrokerRecord(id, record, nowMs);
      const isPartition = record.type === 'Partition' || record.type === 'PartitionChange';
      const before = isPartition
        ? this.#image.partition(record.topicId, record.partition)
        : undefined;
      this.#image.apply(record, offset);
      if (!isPartition) continue;
      const after = this.#image.partition(record.topicId, record.partition);
      const text = after === undefined ? null : decisionText(this.#image, before, after, changes);
      if (text === null || this.#shown.has(entry.payload.id)) continue;
      this.#shown.add(entry.payload.id);
      const appended = this.#appended.get(entry.payload.id);
      this.#appended.delete(entry.payload.id);
      this.#push({
        atMs: appended?.atMs ?? nowMs,
        category: 'election',
        node: appended?.node ?? entry.payload.id.replace(/-\d+-\d+$/, ''),
        text,
      });
    }
    return end;
  }

  /** A broker fenced for its session is unfenced (a new registration says so itself). */
  #noteBrokerRecord(id: NodeId, record: MetadataRecord, nowMs: Ms): void {
    if (record.type === 'RegisterBroker') this.#sessionExpired.delete(record.brokerId);
    if (record.type === 'UnregisterBroker') {
      this.#push({
        atMs: nowMs,
        category: 'broker',
        node: id,
        text: `unregisters ${record.brokerId}: it leaves the cluster, and every ISR and ELR`,
      });
      return;
    }
    if (record.type !== 'UnfenceBroker' || !this.#sessionExpired.delete(record.brokerId)) return;
    this.#push({
      atMs: nowMs,
      category: 'broker',
      node: id,
      text: `unfences ${record.brokerId}: its heartbeats are back and it has caught up with the metadata`,
    });
  }
}

/** An entry as the log-matching rule tells entries apart: its record id, or its epoch's start. */
function entryIdentity(entry: RaftEntry): string {
  return entry.payload.type === 'record'
    ? entry.payload.id
    : `leader-change-${entry.epoch}-${entry.payload.leaderId}`;
}

/** What the batch's broker records did to each broker (its last one counts). */
function brokerChanges(log: RaftLog, start: number, end: number): Map<BrokerId, string> {
  const changes = new Map<BrokerId, string>();
  for (let offset = start; offset < end; offset++) {
    const payload = log.entry(offset).payload;
    if (payload.type !== 'record') continue;
    const record = payload.record as MetadataRecord;
    const words = BROKER_CHANGE_WORDS[record.type];
    if (words !== undefined && 'brokerId' in record) changes.set(record.brokerId, words);
  }
  return changes;
}

const BROKER_CHANGE_WORDS: Partial<Record<MetadataRecord['type'], string>> = {
  FenceBroker: 'fenced',
  UnfenceBroker: 'unfenced',
  BrokerInControlledShutdown: 'in controlled shutdown',
  UnregisterBroker: 'unregistered',
  // The fence of its previous registration comes first in the batch: this says more.
  RegisterBroker: 'registers again',
};

/** Why a broker cannot lead now (null: it can). */
function unusableWords(image: MetadataImage, brokerId: BrokerId): string | null {
  const broker = image.broker(brokerId);
  if (broker === undefined) return 'unregistered';
  if (broker.fenced) return 'fenced';
  return broker.inControlledShutdown ? 'in controlled shutdown' : null;
}

/**
 * The line for a partition record that decides leadership: a new partition, a new leader epoch
 * (its leader, or none), or a leaderless partition whose eligible replicas change; else null (an
 * ISR change the leader asked for shows as the leader's own line).
 */
function decisionText(
  image: MetadataImage,
  before: PartitionState | undefined,
  after: PartitionState,
  changes: ReadonlyMap<BrokerId, string>,
): string | null {
  const name = `${image.topics.get(after.topicId)?.name ?? after.topicId}-${after.partition}`;
  const epoch = after.leaderEpoch;
  if (before === undefined) {
    const who = after.leader === null ? 'no leader' : `elects ${after.leader}`;
    return `${name}: ${who} for leader epoch ${epoch} (a new partition: replicas [${after.replicas.join(',')}], ISR [${after.isr.join(',')}])`;
  }
  const cause = causeOf(image, before, after, changes);
  const because =
    cause === null ? [] : [`${cause.brokerId} ${cause.words}${leftElrWords(before, after, cause)}`];
  if (epoch !== before.leaderEpoch && after.leader !== null) {
    const why = [...because, electionSource(before, after)];
    return `${name}: elects ${after.leader} for leader epoch ${epoch} (${why.join('; ')})`;
  }
  const why = [...because, ...leaderlessWhy(image, after, cause?.brokerId ?? null)];
  if (epoch !== before.leaderEpoch)
    return `${name}: no leader for leader epoch ${epoch} (${why.join('; ')})`;
  if (after.leader !== null && cause !== null && changes.size > 0) {
    // The controller took a broker it fenced (or that is shutting down) out of the ISR, the ELR
    // keeping it eligible (KIP-966); an ISR change the leader asked for has no broker record.
    const moved = listChanges(before, after);
    return moved === null
      ? null
      : `${name}: ${moved} under leader ${after.leader} in leader epoch ${epoch} (${because.join('; ')})`;
  }
  if (after.leader !== null && cause === null && !sameList(before.elr, after.elr)) {
    // An ISR change the leader asked for that moved the ELR: said here, where the ELR shows
    // (the leader's own line names the ISR only).
    const moved = listChanges(before, after);
    return moved === null
      ? null
      : `${name}: ${moved} under leader ${after.leader} in leader epoch ${epoch} (${elrWhy(before, after)})`;
  }
  const eligibleChange =
    before.leader === null &&
    after.leader === null &&
    (!sameList(before.isr, after.isr) ||
      !sameList(before.elr, after.elr) ||
      !sameList(before.lastKnownElr, after.lastKnownElr));
  return eligibleChange
    ? `${name}: still no leader in leader epoch ${epoch} (${why.join('; ')})`
    : null;
}

/** Why the ELR moved with an ISR change the leader asked for (KIP-966's rules). */
function elrWhy(before: PartitionState, after: PartitionState): string {
  const added = after.elr.filter((id) => !before.elr.includes(id));
  const rejoined = before.elr.filter((id) => !after.elr.includes(id) && after.isr.includes(id));
  const parts: string[] = [];
  if (added.length > 0)
    parts.push(
      `the ISR fell below min.insync.replicas: ${added.length === 1 ? added[0] : `${added.slice(0, -1).join(', ')} and ${added.at(-1)}`} ${added.length === 1 ? 'leaves it but stays' : 'leave it but stay'} eligible to lead, in the ELR (KIP-966)`,
    );
  if (after.elr.length === 0 && before.elr.length > 0)
    parts.push('the ISR is back at min.insync.replicas: the ELR is cleared (KIP-966)');
  else if (rejoined.length > 0) parts.push(`${rejoined.join(',')} back in the ISR`);
  return parts.length === 0 ? "the leader's ISR change" : parts.join('; ');
}

/** `ISR [b1,b2] → [b2], ELR [] → [b1]`: the lists that changed; null when neither did. */
function listChanges(before: PartitionState, after: PartitionState): string | null {
  const parts: string[] = [];
  if (!sameList(before.isr, after.isr))
    parts.push(`ISR [${before.isr.join(',')}] → [${after.isr.join(',')}]`);
  if (!sameList(before.elr, after.elr))
    parts.push(`ELR [${before.elr.join(',')}] → [${after.elr.join(',')}]`);
  return parts.length === 0 ? null : parts.join(', ');
}

/** The broker change that made the decision: the old or new leader's, else any in the batch. */
function causeOf(
  image: MetadataImage,
  before: PartitionState,
  after: PartitionState,
  changes: ReadonlyMap<BrokerId, string>,
): { brokerId: BrokerId; words: string } | null {
  for (const brokerId of [before.leader, after.leader]) {
    const words = brokerId === null ? undefined : changes.get(brokerId);
    if (brokerId !== null && words !== undefined) return { brokerId, words };
  }
  for (const [brokerId, words] of changes) return { brokerId, words };
  const words = before.leader === null ? null : unusableWords(image, before.leader);
  return before.leader === null || words === null ? null : { brokerId: before.leader, words };
}

/**
 * Registering again, a broker leaves the ELR only after an unclean shutdown (KIP-966: it may have
 * lost unflushed records); it stays the partition's last known leader, which Kafka still elects.
 */
function leftElrWords(
  before: PartitionState,
  after: PartitionState,
  cause: { brokerId: BrokerId; words: string },
): string {
  const { brokerId } = cause;
  const leftElr = before.elr.includes(brokerId) && !after.elr.includes(brokerId);
  if (cause.words !== BROKER_CHANGE_WORDS.RegisterBroker || !leftElr) return '';
  const lastKnown = after.lastKnownElr.includes(brokerId)
    ? ', still the last known leader: once unfenced it is elected, uncleanly'
    : '';
  return ` after an unclean shutdown: it may have lost records, out of the ELR (KIP-966)${lastKnown}`;
}

/** Where the new leader came from (KIP-966's ELR and last known leader, or an unclean election). */
function electionSource(before: PartitionState, after: PartitionState): string {
  const leader = after.leader;
  const isr = `ISR [${after.isr.join(',')}]`;
  if (leader === null) return isr;
  if (before.isr.includes(leader)) return `from the ${isr}`;
  if (before.elr.includes(leader)) return `from the ELR (KIP-966); ${isr}`;
  if (before.lastKnownElr.includes(leader))
    return `the last known leader (KIP-966): it may lack committed records; ${isr}`;
  return `unclean: not in the ISR, it may lack committed records; ${isr}`;
}

/** Why a partition has no leader: who was eligible and why none can lead, and unclean election. */
function leaderlessWhy(
  image: MetadataImage,
  state: PartitionState,
  causeBrokerId: BrokerId | null,
): string[] {
  const lists = [`ISR [${state.isr.join(',')}]`, `ELR [${state.elr.join(',')}]`];
  if (state.lastKnownElr.length > 0)
    lists.push(`last known leader ${state.lastKnownElr.join(',')}`);
  const eligible = [...new Set([...state.isr, ...state.elr, ...state.lastKnownElr])];
  const others = eligible
    .filter((brokerId) => brokerId !== causeBrokerId)
    .map((brokerId) => `${brokerId} ${unusableWords(image, brokerId) ?? 'up'}`);
  const none =
    eligible.length === 0 ? 'no eligible replica' : ['none usable', ...others].join(', ');
  const unclean = image.topics.get(state.topicId)?.configs.uncleanLeaderElection ?? false;
  return [
    `${lists.join(', ')}: ${none}`,
    unclean ? 'unclean election on, but no replica usable' : 'unclean election off',
  ];
}

function sameList(a: readonly BrokerId[], b: readonly BrokerId[]): boolean {
  return a.length === b.length && a.every((id, index) => b[index] === id);
}

/** `orders-7-0` → `orders-0`: topic ids carry the creation offset, people read names. */
function topicName(key: string): string {
  const match = /^(.*)-\d+-(\d+)$/.exec(key);
  return match === null ? key : `${match[1]}-${match[2]}`;
}

/**
 * The followers an ISR expansion takes in, each with the fetch the leader judged it on: `b2 (its
 * last fetch at 7.965s: log end 25, broker epoch 2)`. A fetch from before the follower's last
 * restart (another broker epoch) is how a replica that lost its data rejoins (KIP-903).
 */
function joinersText(event: TraceEvent): string {
  const joining = field(event, 'joining').split(',');
  const fetchedAtMs = field(event, 'fetchedAtMs').split(',');
  const logEndOffsets = field(event, 'logEndOffsets').split(',');
  const brokerEpochs = field(event, 'brokerEpochs').split(',');
  return joining
    .map((brokerId, index) => {
      const atMs = Number(fetchedAtMs[index]);
      if (!Number.isFinite(atMs)) return brokerId;
      return `${brokerId} (its last fetch at ${formatMs(atMs)}: log end ${logEndOffsets[index]}, broker epoch ${brokerEpochs[index]})`;
    })
    .join(', ');
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
  'broker.register-failed',
  'broker.state',
  'broker.controlled-shutdown',
  'replica.leader',
  'replica.isr-shrink',
  'replica.isr-expand',
  'replica.isr-changed',
  'replica.isr-change-failed',
  'replica.truncate',
  'consumer.truncation',
  'raft.leader-lost',
  'raft.role',
  'raft.voted',
  'raft.vote-refused',
  'raft.election-lost',
  'raft.resign',
  'raft.truncate',
  'raft.truncate-below-hw',
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
    return at('fault', faultText(event.kind, event.fields, event.atMs));
  if (event.kind === 'operation.remove-broker-retry')
    return at(
      'operation',
      `remove-broker ${field(event, 'broker')}: unregister failed (${field(event, 'error')}), asking again`,
    );
  if (event.kind === 'operation.remove-broker-answered')
    return at(
      'operation',
      field(event, 'error') === 'NONE'
        ? `remove-broker ${field(event, 'broker')}: unregistered`
        : `remove-broker ${field(event, 'broker')}: the controller says it is not registered (BROKER_ID_NOT_REGISTERED): done`,
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
    case 'raft.leader-lost':
      return at(
        'controller',
        `lost metadata leader ${field(event, 'leader')} of epoch ${field(event, 'epoch')}: no fetch answered within the fetch timeout`,
      );
    case 'raft.role':
      // A candidate's line; a leader's is the active controller's, the other roles are many.
      return field(event, 'role') === 'candidate'
        ? at(
            'controller',
            `stands for metadata leader in epoch ${field(event, 'epoch')} (its pre-vote won a majority)`,
          )
        : null;
    case 'raft.voted':
      return at(
        'controller',
        `votes for ${field(event, 'candidate')} in metadata epoch ${field(event, 'epoch')} (${field(event, 'candidate')}'s log: last epoch ${field(event, 'candidateLastEpoch')}, end ${field(event, 'candidateEndOffset')}; its own: last epoch ${field(event, 'lastEpoch')}, end ${field(event, 'endOffset')})`,
      );
    case 'raft.vote-refused':
      return at(
        'controller',
        `refuses ${field(event, 'candidate')} its vote in metadata epoch ${field(event, 'epoch')}: ${field(event, 'why')}`,
      );
    case 'raft.election-lost':
      // A lost pre-vote is no election (a voter cut off tries one at every election timeout).
      return field(event, 'preVote') === 'true' || event.fields?.['preVote'] === true
        ? null
        : at(
            'controller',
            `loses the election for metadata epoch ${field(event, 'epoch')}: a majority refused`,
          );
    case 'raft.truncate':
      return at(
        'truncation',
        `truncates its metadata log ${field(event, 'from')} → ${field(event, 'to')} (its leader's answer: their logs agree up to the end of epoch ${field(event, 'epoch')})`,
      );
    case 'raft.truncate-below-hw':
      return at(
        'truncation',
        `that truncation removed metadata entries below its high watermark ${field(event, 'highWatermark')}, committed: the high watermark falls to ${field(event, 'to')}`,
      );
    case 'raft.resign':
      return at(
        'controller',
        field(event, 'reason') === 'check-quorum'
          ? `resigns as metadata leader of epoch ${field(event, 'epoch')}: heard from ${field(event, 'heard')} voter${field(event, 'heard') === '1' ? '' : 's'} (itself included) within the check-quorum interval, fewer than a majority`
          : `resigns as metadata leader of epoch ${field(event, 'epoch')}: shutting down`,
      );
    case 'broker.register-failed':
      // A refusal that explains a gap (a restarted broker waits for its old session to expire);
      // NOT_CONTROLLER while the quorum elects its first leader is every run's start.
      return field(event, 'error') === 'DUPLICATE_BROKER_REGISTRATION'
        ? {
            ...at(
              'broker',
              'registration refused (DUPLICATE_BROKER_REGISTRATION: the controller still holds its previous incarnation, whose session has not expired); it asks again',
            ),
            repeats: true,
          }
        : null;
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
      return at('isr', `${partition}: ${joinersText(event)} caught up, ISR expand proposed`);
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

/**
 * A fault as a person reads it, every field named as the trace names it: `crash target=b3
 * crash=powerFailure`, `clog source=b2 target=c1`. Two fields say more than the trace: a slow link
 * without a bandwidth cap (the trace's 0) leaves the cap out, and a one-way cut leaves out a node
 * that a role put on both sides when its only counterpart is itself (no node has a link to itself,
 * so it cuts nothing: `sources=c1,c3,c2 targets=c3` cuts c1 → c3 and c2 → c3). `kind` is the trace
 * kind (`fault.clog`); the stories (explain-common.ts) print their faults with it.
 */
export function faultText(
  kind: string,
  fields: Readonly<Record<string, TraceValue>> | undefined,
  atMs?: Ms,
): string {
  // The heal phase's first step, and a scheduled heal: what it ends.
  if (kind === 'fault.heal') return 'heal: every network partition and isolation ends';
  // A step that did nothing: its kind and roles, and why (`skip crash @leader: named no node then`).
  if (kind === 'fault.skip')
    return `skip ${String(fields?.['step'])} ${String(fields?.['roles'])}: ${String(fields?.['why'])}`;
  // A step naming nodes by role, as it fires: which node each role named, and how long it waited.
  if (kind === 'fault.step') return stepText(fields ?? {}, atMs);
  const shown = kind === 'fault.partition-one-way' ? oneWayCut(fields ?? {}) : (fields ?? {});
  const named = Object.entries(shown)
    .filter(([key, value]) => !(key === 'bandwidthBytesPerSec' && value === 0))
    .map(([key, value]) => `${key}=${String(value)}`);
  return [kind.replace(/^fault\./, ''), ...named].join(' ');
}

/** `step crash: @leader-of-behind-isr is b3, waited for from 8.000s`. */
function stepText(fields: Readonly<Record<string, TraceValue>>, atMs: Ms | undefined): string {
  return `step ${String(fields['step'])}: ${stepSuffix(fields, atMs)}`;
}

/** `@leader-of-behind-isr is b3, waited for from 8.000s`: what a role step's roles named. */
function stepSuffix(fields: Readonly<Record<string, TraceValue>>, atMs: Ms | undefined): string {
  const named = String(fields['roles'] ?? '')
    .split(',')
    .map((pair) => {
      const [role, node] = pair.split('=');
      return node === '-' ? `${role} named no node` : `${role} is ${node}`;
    })
    .join(', ');
  const sinceMs = Number(fields['sinceMs']);
  const waited =
    atMs !== undefined && Number.isFinite(sinceMs) && atMs > sinceMs
      ? `, waited for from ${formatMs(sinceMs)}`
      : '';
  return `${named}${waited}`;
}

/** A one-way cut's sides without the nodes that cut no link (a node on both sides, alone). */
function oneWayCut(
  fields: Readonly<Record<string, TraceValue>>,
): Readonly<Record<string, TraceValue>> {
  const sources = String(fields['sources'] ?? '').split(',');
  const targets = String(fields['targets'] ?? '').split(',');
  const cutting = sources.filter((source) => targets.some((target) => target !== source));
  const cut = targets.filter((target) => sources.some((source) => source !== target));
  if (cutting.length === sources.length && cut.length === targets.length) return fields;
  if (cutting.length === 0) return { ...fields, cuts: 'nothing (a node has no link to itself)' };
  return { ...fields, sources: cutting.join(','), targets: cut.join(',') };
}

/**
 * The first allowed losses of each reason, and a line after the last shown saying how many more
 * of that reason the verdict counts (one reason's hundreds do not hide another's).
 */
function allowedLines(result: KafkaRunResult): TimelineEntry[] {
  const lines: TimelineEntry[] = [];
  const shown = new Map<string, number>();
  for (const loss of result.allowed) {
    const count = shown.get(loss.reason) ?? 0;
    if (count === ALLOWED_SHOWN_MAX) continue;
    shown.set(loss.reason, count + 1);
    lines.push({
      atMs: loss.atMs,
      category: 'allowed',
      node: 'checker',
      text: `allowed loss (${loss.reason}): ${loss.message}`,
    });
    const total = result.allowedCounts.get(loss.reason) ?? 0;
    if (count + 1 === ALLOWED_SHOWN_MAX && total > ALLOWED_SHOWN_MAX) {
      lines.push({
        atMs: loss.atMs,
        category: 'allowed',
        node: 'checker',
        text: `… and ${total - ALLOWED_SHOWN_MAX} more allowed losses (${loss.reason}), from here on (the verdict counts them by reason)`,
      });
    }
  }
  return lines;
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
      text: `acks=${entry.acks ?? 'all'} writes to ${(entry.partition ?? -1) < 0 ? `${entry.topic} (no partition chosen)` : `${entry.topic}-${entry.partition}`}: ${what}`,
    };
  });
}

/** Every partition's final state: the committed metadata and each replica's log. */
/** Each metadata voter's own state at the end: who thinks it leads, its log, its vote. */
export function buildQuorumRows(result: KafkaRunResult): QuorumRow[] {
  const { cluster } = result;
  return cluster.controllers.map((id): QuorumRow => {
    const raft = controllerOf(cluster, id)?.raft;
    if (raft === undefined)
      return {
        controller: id,
        status: 'down',
        role: '-',
        epoch: -1,
        votedFor: '-',
        logEndOffset: -1,
        lastEpoch: -1,
        highWatermark: -1,
      };
    return {
      controller: id,
      status: 'up',
      role: raft.role,
      epoch: raft.epoch,
      votedFor: raft.votedId ?? '-',
      logEndOffset: raft.log.endOffset,
      lastEpoch: raft.log.lastEpoch,
      highWatermark: raft.highWatermark,
    };
  });
}

export function buildPartitionRows(result: KafkaRunResult): PartitionRow[] {
  const { cluster } = result;
  const rows: PartitionRow[] = [];
  const active = activeController(cluster);
  const controller = cluster.controllers.find((id) => controllerOf(cluster, id) === active);
  const broker = cluster.brokers.find((id) => brokerOf(cluster, id) !== null);
  const image =
    active?.image ?? (broker === undefined ? undefined : brokerOf(cluster, broker)?.image);
  if (image === undefined) return rows;
  // Two metadata leaders (a split the checkers report): say whose view this is among them.
  const leading = cluster.controllers.filter((id) => controllerOf(cluster, id)?.raft.isLeader);
  const among =
    leading.length > 1
      ? `, one of ${leading.length} controllers that think they lead: ${leading.join(', ')}`
      : '';
  const view =
    active !== null && controller !== undefined
      ? `the active controller ${controller}'s metadata${among}`
      : `broker ${broker}'s metadata (no controller active)`;
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
        view,
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
