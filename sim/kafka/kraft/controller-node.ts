// A KRaft controller: a voter of the metadata quorum and, while it leads, the active controller.
// - The active controller applies its own records to its image as it appends them, and answers a
//   write request only once its records are committed. A newly elected leader first replays its
//   whole log to the end before it acts (KAFKA-17333); one that loses leadership rebuilds its image
//   from the committed records alone (what it appended may be truncated).
// - Brokers register (a RegisterBroker record whose offset is the broker epoch), then heartbeat.
//   A broker whose session (9 s) expires is fenced and its leaderships move away; a fenced broker
//   that has caught up with the metadata is unfenced; a broker asking for a controlled shutdown
//   loses its leaderships first and is told to shut down when it leads nothing.
// - A broker that restarts cannot register again while its previous incarnation's session is
//   alive (DUPLICATE_BROKER_REGISTRATION).

import { objectArray } from '../../kernel/arrays.ts';
import { interned } from '../../kernel/interned.ts';
import type { Machine, NodeContext, TimerHandle } from '../../kernel/node.ts';
import type { Ms } from '../../kernel/time.ts';
import type { Bugs } from '../bugs.ts';
import type {
  AlterPartitionRequest,
  BrokerHeartbeatRequest,
  BrokerRegistrationRequest,
  ControlError,
  ControlRequest,
  ControlResponse,
  CreatePartitionsRequest,
  CreatePartitionsResult,
  CreateTopicResult,
  CreateTopicsRequest,
  DeleteTopicsRequest,
  UnregisterBrokerRequest,
} from '../controller/messages.ts';
import { MetadataImage, replayLog } from '../controller/metadata-image.ts';
import {
  alterPartition,
  assignmentStartIndex,
  createPartitionsRecords,
  createTopicRecords,
  deleteTopicRecords,
  recordsForBrokerUnavailable,
  recordsForBrokerUnregistered,
  recordsForBrokerUsable,
  recordsForUncleanElection,
  recordsForUncleanRestart,
} from '../controller/partition-control.ts';
import { type BrokerId, type MetadataRecord, recordSizeBytes } from '../controller/records.ts';
import { type ClusterMessage, isRaftMessage } from '../messages.ts';
import { type RaftConfig, RaftNode } from '../raft/raft-node.ts';

export interface ControllerConfig {
  readonly raft: RaftConfig;
  /** broker.session.timeout.ms (9000) */
  readonly brokerSessionTimeoutMs: Ms;
  /** How often the active controller looks for expired sessions and unclean elections. */
  readonly sessionCheckEveryMs: Ms;
  /** Eligible leader replicas (KIP-966), on by default in KRaft. */
  readonly elr: boolean;
  /** metadata.max.idle.interval.ms (500): how often the active controller writes a NoOp record (0: never). */
  readonly metadataMaxIdleIntervalMs: Ms;
}

interface Session {
  readonly brokerEpoch: number;
  lastHeartbeatMs: Ms;
  /** The last metadata offset the broker said it applied (-1: not yet heard). */
  metadataOffset: number;
}

/** A record gathered for the batch being built (KraftController.#atomically). */
interface PendingRecord {
  readonly id: string;
  readonly record: MetadataRecord;
  readonly sizeBytes: number;
}

interface PendingWrite {
  /** Answer once the log is committed past this offset. */
  readonly offset: number;
  readonly respond: () => void;
  readonly fail: () => void;
}

export class KraftController implements Machine<ClusterMessage> {
  readonly raft: RaftNode;
  /** Committed records (and, while active, what this controller appended since). */
  image = new MetadataImage();
  readonly #context: NodeContext<ClusterMessage>;
  readonly #config: ControllerConfig;
  readonly #bugs: Bugs;
  readonly #sessions = new Map<BrokerId, Session>();
  /** Per broker in controlled shutdown: the last record that moved its leaderships away. */
  readonly #shutdownOffsets = new Map<BrokerId, number>();
  readonly #pending: PendingWrite[] = objectArray();
  /** The next log offset to replay into the image. */
  #replayedUpTo = 0;
  #active = false;
  #sessionTimer: TimerHandle | null = null;
  #noOpTimer: TimerHandle | null = null;
  #recordsAppended = 0;
  /** The records of the decision being made, appended as one batch when it is made. */
  #batch: PendingRecord[] | null = null;

  constructor(context: NodeContext<ClusterMessage>, config: ControllerConfig, bugs: Bugs) {
    this.#context = context;
    this.#config = config;
    this.#bugs = bugs;
    this.raft = new RaftNode(context, config.raft, bugs, {
      onHighWatermark: (highWatermark) => this.#onCommitted(highWatermark),
      onBecomeLeader: () => this.#activate(),
      onResign: () => this.#deactivate(),
    });
  }

  get isActive(): boolean {
    return this.#active;
  }

  /** The next metadata log offset to replay: the image holds everything before it. */
  get replayedUpTo(): number {
    return this.#replayedUpTo;
  }

  start(): void {
    this.raft.start();
  }

  onMessage(source: string, message: ClusterMessage): void {
    if (isRaftMessage(message)) {
      this.raft.handle(source, message);
      return;
    }
    if (message.kind.endsWith('-response')) return;
    this.#onRequest(source, message as ControlRequest);
  }

  onUnreachable(target: string, message: ClusterMessage): void {
    if (isRaftMessage(message)) this.raft.unreachable(target, message);
  }

  stop(): void {
    this.raft.shutdown();
    this.#context.setTimer(5, 'shutdown', () => this.#context.stopped());
  }

  // ---- activation ----------------------------------------------------------------------------

  #activate(): void {
    // Raft lost entries this controller had replayed as committed (only with a quorum bug on,
    // which the checkers report): rebuild from the log it now holds, so appends follow on.
    if (this.#replayedUpTo > this.raft.log.endOffset) {
      this.image = new MetadataImage();
      this.#replayedUpTo = 0;
    }
    // KAFKA-17333: replay everything in the log, committed or not, before acting.
    this.#replayTo(this.raft.log.endOffset);
    this.#active = true;
    const nowMs = this.#context.nowMs;
    this.#sessions.clear();
    // A new active controller gives every registered broker a fresh session.
    for (const broker of this.image.brokers.values()) {
      this.#sessions.set(broker.brokerId, {
        brokerEpoch: broker.brokerEpoch,
        lastHeartbeatMs: nowMs,
        metadataOffset: -1,
      });
    }
    this.#context.trace('controller.active', {
      epoch: this.raft.epoch,
      replayedUpTo: this.#replayedUpTo,
    });
    this.#scheduleSessionCheck();
    this.#scheduleNoOp();
  }

  #deactivate(): void {
    if (!this.#active) return;
    this.#active = false;
    if (this.#sessionTimer !== null) this.#context.cancelTimer(this.#sessionTimer);
    this.#sessionTimer = null;
    if (this.#noOpTimer !== null) this.#context.cancelTimer(this.#noOpTimer);
    this.#noOpTimer = null;
    this.#sessions.clear();
    for (const pending of this.#pending.splice(0)) pending.fail();
    // What this controller appended may never commit: rebuild from the committed records alone.
    this.image = new MetadataImage();
    this.#replayedUpTo = 0;
    this.#replayTo(this.raft.highWatermark);
    this.#context.trace('controller.inactive', {
      epoch: this.raft.epoch,
      replayedUpTo: this.#replayedUpTo,
    });
  }

  #onCommitted(highWatermark: number): void {
    if (!this.#active) this.#replayTo(highWatermark);
    while (this.#pending.length > 0 && (this.#pending[0] as PendingWrite).offset < highWatermark) {
      (this.#pending.shift() as PendingWrite).respond();
    }
  }

  #replayTo(endOffset: number): void {
    this.#replayedUpTo = replayLog(this.image, this.raft.log, this.#replayedUpTo, endOffset);
  }

  /**
   * Appends records as the active controller, applying each as it goes; returns the last offset.
   * Inside #atomically they join its batch; otherwise they are a batch of their own.
   */
  #append(records: readonly MetadataRecord[]): number {
    if (records.length === 0) return -1;
    const batch = this.#batch;
    if (batch === null) return this.#atomically(() => this.#append(records));
    let offset = -1;
    for (const record of records) {
      offset = this.#nextOffset();
      const id = `${this.#context.nodeId}-${this.raft.epoch}-${this.#recordsAppended++}`;
      batch.push({ id, record, sizeBytes: recordSizeBytes(record) });
      this.image.apply(record, offset);
      this.#replayedUpTo = offset + 1;
    }
    return offset;
  }

  /** The offset the next record appended will have (after the records gathered so far). */
  #nextOffset(): number {
    return this.raft.log.endOffset + (this.#batch?.length ?? 0);
  }

  /**
   * Runs `decide` and appends every record its #append calls wrote as one batch: one decision, one
   * atomic append, as Kafka's controller appends a ControllerResult, so that followers fetch and
   * brokers replay all of it or none (never a fence without the leaderships it moved). Each
   * #append still applies its records at once: later records are computed on the image the
   * earlier ones made.
   */
  #atomically<T>(decide: () => T): T {
    if (this.#batch !== null) return decide();
    const batch: PendingRecord[] = [];
    this.#batch = batch;
    const result = decide();
    this.#batch = null;
    if (batch.length > 0 && this.raft.appendBatch(batch) === null)
      throw new Error(`${this.#context.nodeId}: append while not the metadata leader`);
    return result;
  }

  /** Appends, then answers once committed (or at once when there was nothing to write). */
  #write(records: readonly MetadataRecord[], respond: () => void, fail: () => void): void {
    this.#afterCommit(this.#append(records), respond, fail);
  }

  /** Sends `response` once the log is committed past `offset`; NOT_CONTROLLER if leadership goes first. */
  #answerOnCommit(
    source: string,
    request: ControlRequest,
    offset: number,
    response: ControlResponse,
  ): void {
    this.#afterCommit(
      offset,
      () => this.#context.send(source, response),
      () => this.#reply(source, request, 'NOT_CONTROLLER', null),
    );
  }

  /**
   * Answers once the log is committed past `offset`. A request that wrote nothing (-1) was a read
   * of this controller's image, which may hold records not yet committed: as Kafka's
   * QuorumController completes such an operation only when the highest pending write commits, it
   * waits for the log's end (NOT_CONTROLLER if leadership goes first), so that no answer rests
   * on a decision a failover could drop. Only with nothing uncommitted is it answered at once.
   */
  #afterCommit(offset: number, respond: () => void, fail: () => void): void {
    const at = offset >= 0 ? offset : this.#nextOffset() - 1;
    if (at < this.raft.highWatermark) respond();
    else this.#pending.push({ offset: at, respond, fail });
  }

  // ---- requests ------------------------------------------------------------------------------

  #onRequest(source: string, request: ControlRequest): void {
    if (!this.#active) {
      this.#notController(source, request);
      return;
    }
    // One request, one decision: what it writes is appended as one batch.
    this.#atomically(() => this.#handleRequest(source, request));
  }

  #handleRequest(source: string, request: ControlRequest): void {
    switch (request.kind) {
      case 'broker.register':
        this.#onRegister(source, request);
        return;
      case 'broker.heartbeat':
        this.#onHeartbeat(source, request);
        return;
      case 'admin.create-topics':
        this.#onCreateTopics(source, request);
        return;
      case 'admin.delete-topics':
        this.#onDeleteTopics(source, request);
        return;
      case 'admin.create-partitions':
        this.#onCreatePartitions(source, request);
        return;
      case 'admin.unregister-broker':
        this.#onUnregister(source, request);
        return;
      case 'broker.alter-partition':
        this.#onAlterPartition(source, request);
        return;
    }
  }

  #notController(source: string, request: ControlRequest): void {
    const leader = this.raft.leaderId;
    const controllerId = leader === this.#context.nodeId ? null : leader;
    this.#reply(source, request, 'NOT_CONTROLLER', controllerId);
  }

  /** An error answer of the right shape for any request. */
  #reply(
    source: string,
    request: ControlRequest,
    error: ControlError,
    controllerId: string | null,
  ): void {
    const requestId = request.requestId;
    switch (request.kind) {
      case 'broker.register':
        this.#context.send(source, {
          kind: 'broker.register-response',
          requestId,
          error,
          brokerEpoch: -1,
          controllerId,
        });
        return;
      case 'broker.heartbeat':
        this.#context.send(source, {
          kind: 'broker.heartbeat-response',
          requestId,
          error,
          isCaughtUp: false,
          isFenced: true,
          shouldShutDown: false,
          controllerId,
        });
        return;
      case 'admin.create-topics':
        this.#context.send(source, {
          kind: 'admin.create-topics-response',
          requestId,
          error,
          results: [],
          controllerId,
        });
        return;
      case 'admin.delete-topics':
        this.#context.send(source, {
          kind: 'admin.delete-topics-response',
          requestId,
          error,
          results: [],
          controllerId,
        });
        return;
      case 'admin.create-partitions':
        this.#context.send(source, {
          kind: 'admin.create-partitions-response',
          requestId,
          error,
          results: [],
          controllerId,
        });
        return;
      case 'admin.unregister-broker':
        this.#context.send(source, {
          kind: 'admin.unregister-broker-response',
          requestId,
          error,
          controllerId,
        });
        return;
      case 'broker.alter-partition':
        this.#context.send(source, {
          kind: 'broker.alter-partition-response',
          requestId,
          error,
          state: null,
          controllerId,
        });
        return;
    }
  }

  #hasLiveSession(brokerId: BrokerId): boolean {
    const session = this.#sessions.get(brokerId);
    if (session === undefined) return false;
    const broker = this.image.broker(brokerId);
    if (broker === undefined || broker.brokerEpoch !== session.brokerEpoch || broker.fenced)
      return false;
    return this.#context.nowMs - session.lastHeartbeatMs <= this.#config.brokerSessionTimeoutMs;
  }

  #onRegister(source: string, request: BrokerRegistrationRequest): void {
    const existing = this.image.broker(request.brokerId);
    if (
      existing !== undefined &&
      existing.incarnationId !== request.incarnationId &&
      this.#hasLiveSession(request.brokerId)
    ) {
      this.#reply(source, request, 'DUPLICATE_BROKER_REGISTRATION', null);
      return;
    }
    // As Kafka's controller writes them: any fence of the old registration and the partition
    // changes that follow from it (leaderships moved away, and after an unclean shutdown the ELRs
    // left) come before the registration record. A broker starts its replicas once it has replayed
    // its registration (KraftBroker), so it never acts on an image where it still leads. All of it
    // is one batch (the request's); each group of records is computed on the image the previous
    // one produced: changes to one partition computed from the same image would not stack.
    if (existing !== undefined && !existing.fenced) {
      this.#append([
        { type: 'FenceBroker', brokerId: request.brokerId, brokerEpoch: existing.brokerEpoch },
      ]);
    }
    const elr = { elr: this.#config.elr };
    this.#append(recordsForBrokerUnavailable(this.image, request.brokerId, elr));
    if (request.previousBrokerEpoch < 0)
      this.#append(recordsForUncleanRestart(this.image, request.brokerId));
    // The broker epoch is the offset of the registration record.
    const brokerEpoch = this.#append([
      {
        type: 'RegisterBroker',
        brokerId: request.brokerId,
        incarnationId: request.incarnationId,
        brokerEpoch: this.#nextOffset(),
      },
    ]);
    this.#shutdownOffsets.delete(request.brokerId);
    this.#sessions.set(request.brokerId, {
      brokerEpoch,
      lastHeartbeatMs: this.#context.nowMs,
      metadataOffset: -1,
    });
    this.#context.trace('controller.register', {
      broker: request.brokerId,
      brokerEpoch,
      clean: request.previousBrokerEpoch >= 0,
    });
    const respond = () =>
      this.#context.send(source, {
        kind: 'broker.register-response',
        requestId: request.requestId,
        error: 'NONE',
        brokerEpoch,
        controllerId: null,
      });
    const fail = () => this.#reply(source, request, 'NOT_CONTROLLER', null);
    this.#afterCommit(brokerEpoch, respond, fail);
  }

  #onHeartbeat(source: string, request: BrokerHeartbeatRequest): void {
    const broker = this.image.broker(request.brokerId);
    if (broker === undefined || broker.brokerEpoch !== request.brokerEpoch) {
      this.#reply(source, request, 'STALE_BROKER_EPOCH', null);
      return;
    }
    this.#sessions.set(request.brokerId, {
      brokerEpoch: request.brokerEpoch,
      lastHeartbeatMs: this.#context.nowMs,
      metadataOffset: request.currentMetadataOffset,
    });
    const isCaughtUp = request.currentMetadataOffset >= broker.brokerEpoch;
    const { lastOffset, shouldShutDown } = request.wantShutDown
      ? this.#controlledShutdownStep(broker.brokerId, broker.brokerEpoch)
      : this.#maybeUnfence(
          broker.brokerId,
          broker.brokerEpoch,
          broker.fenced && !request.wantFence && isCaughtUp,
        );
    // A state change is answered once committed, as Kafka's controller does.
    const respond = () =>
      this.#context.send(source, {
        kind: 'broker.heartbeat-response',
        requestId: request.requestId,
        error: 'NONE',
        isCaughtUp,
        isFenced: this.image.broker(broker.brokerId)?.fenced ?? true,
        shouldShutDown,
        controllerId: null,
      });
    this.#afterCommit(lastOffset, respond, () =>
      this.#reply(source, request, 'NOT_CONTROLLER', null),
    );
  }

  /** Unfences a caught-up broker and elects it where it is now the best choice. */
  #maybeUnfence(
    brokerId: BrokerId,
    brokerEpoch: number,
    unfence: boolean,
  ): { lastOffset: number; shouldShutDown: boolean } {
    if (!unfence) return { lastOffset: -1, shouldShutDown: false };
    let lastOffset = this.#append([{ type: 'UnfenceBroker', brokerId, brokerEpoch }]);
    lastOffset = Math.max(
      lastOffset,
      this.#append(recordsForBrokerUsable(this.image, brokerId, { elr: this.#config.elr })),
    );
    return { lastOffset, shouldShutDown: false };
  }

  /** Moves leadership away from a broker shutting down; when it leads nothing, fences it and lets it go. */
  #controlledShutdownStep(
    brokerId: BrokerId,
    brokerEpoch: number,
  ): { lastOffset: number; shouldShutDown: boolean } {
    const broker = this.image.broker(brokerId);
    let lastOffset = -1;
    if (broker !== undefined && !broker.inControlledShutdown && !broker.fenced) {
      lastOffset = this.#append([{ type: 'BrokerInControlledShutdown', brokerId, brokerEpoch }]);
    }
    const moved = this.#append(
      recordsForBrokerUnavailable(this.image, brokerId, { elr: this.#config.elr }),
    );
    lastOffset = Math.max(lastOffset, moved);
    if (moved >= 0)
      this.#shutdownOffsets.set(
        brokerId,
        Math.max(moved, this.#shutdownOffsets.get(brokerId) ?? -1),
      );
    // Like Kafka's BrokerHeartbeatManager: it may go once it leads nothing and every other active
    // broker has applied the records that moved its leaderships (controlledShutdownOffset ≤
    // lowestActiveOffset), so the new leaders are already acting.
    const shouldShutDown =
      !this.image.allPartitions().some((partition) => partition.leader === brokerId) &&
      this.#lowestActiveOffset(brokerId) >= (this.#shutdownOffsets.get(brokerId) ?? -1);
    if (shouldShutDown && !(this.image.broker(brokerId)?.fenced ?? true)) {
      lastOffset = Math.max(
        lastOffset,
        this.#append([{ type: 'FenceBroker', brokerId, brokerEpoch }]),
      );
    }
    return { lastOffset, shouldShutDown };
  }

  /** The smallest metadata offset applied by the unfenced brokers other than `except`. */
  #lowestActiveOffset(except: BrokerId): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const broker of this.image.brokers.values()) {
      if (broker.brokerId === except || broker.fenced || broker.inControlledShutdown) continue;
      const session = this.#sessions.get(broker.brokerId);
      lowest = Math.min(
        lowest,
        session?.brokerEpoch === broker.brokerEpoch ? session.metadataOffset : -1,
      );
    }
    return lowest;
  }

  #onCreateTopics(source: string, request: CreateTopicsRequest): void {
    const results: CreateTopicResult[] = [];
    let lastOffset = -1;
    for (const spec of request.topics) {
      // Appended topic by topic, so that a name twice in one request is refused the second time.
      const topicId = interned(`${spec.name}-${this.#nextOffset()}`);
      const startIndex = this.#context.rng.int(0, 1_000_000);
      const created = createTopicRecords(this.image, spec, topicId, startIndex);
      if (created.error !== 'NONE') {
        results.push({
          name: spec.name,
          error: created.error,
          message: created.message,
          topicId: null,
        });
        continue;
      }
      lastOffset = this.#append(created.records);
      results.push({ name: spec.name, error: 'NONE', message: '', topicId });
    }
    this.#answerOnCommit(source, request, lastOffset, {
      kind: 'admin.create-topics-response',
      requestId: request.requestId,
      error: 'NONE',
      results,
      controllerId: null,
    });
  }

  #onDeleteTopics(source: string, request: DeleteTopicsRequest): void {
    const { records, results } = deleteTopicRecords(this.image, request.names);
    this.#answerOnCommit(source, request, this.#append(records), {
      kind: 'admin.delete-topics-response',
      requestId: request.requestId,
      error: 'NONE',
      results,
      controllerId: null,
    });
  }

  #onCreatePartitions(source: string, request: CreatePartitionsRequest): void {
    const results: CreatePartitionsResult[] = [];
    let lastOffset = -1;
    for (const spec of request.topics) {
      // Appended topic by topic, so that a topic twice in one request sees its first increase.
      const startIndex = assignmentStartIndex(this.image, spec.name);
      const created = createPartitionsRecords(this.image, spec, startIndex);
      if (created.error !== 'NONE') {
        results.push({ name: spec.name, error: created.error, message: created.message });
        continue;
      }
      lastOffset = this.#append(created.records);
      results.push({ name: spec.name, error: 'NONE', message: '' });
    }
    this.#answerOnCommit(source, request, lastOffset, {
      kind: 'admin.create-partitions-response',
      requestId: request.requestId,
      error: 'NONE',
      results,
      controllerId: null,
    });
  }

  #onUnregister(source: string, request: UnregisterBrokerRequest): void {
    const broker = this.image.broker(request.brokerId);
    if (broker === undefined) {
      this.#reply(source, request, 'BROKER_ID_NOT_REGISTERED', null);
      return;
    }
    const records: MetadataRecord[] = [
      ...recordsForBrokerUnregistered(this.image, request.brokerId, { elr: this.#config.elr }),
    ];
    records.push({
      type: 'UnregisterBroker',
      brokerId: broker.brokerId,
      brokerEpoch: broker.brokerEpoch,
    });
    this.#sessions.delete(request.brokerId);
    this.#answerOnCommit(source, request, this.#append(records), {
      kind: 'admin.unregister-broker-response',
      requestId: request.requestId,
      error: 'NONE',
      controllerId: null,
    });
  }

  #onAlterPartition(source: string, request: AlterPartitionRequest): void {
    const result = alterPartition(this.image, request, {
      elr: this.#config.elr,
      checkPartitionEpoch: true,
      checkBrokerEpoch: !this.#bugs.has('no-broker-epoch'),
    });
    if (result.error !== 'NONE') {
      // A refusal is the response's error, not an exception: Kafka's controller answers it as any
      // write with no records, after what is pending commits. Answered at once, an outgoing
      // controller could refuse a retry (INVALID_UPDATE_VERSION) on a change a failover then
      // drops, and the leader would wait for a change that never comes.
      const error = result.error;
      this.#afterCommit(
        -1,
        () => this.#reply(source, request, error, null),
        () => this.#reply(source, request, 'NOT_CONTROLLER', null),
      );
      return;
    }
    const respond = () =>
      this.#context.send(source, {
        kind: 'broker.alter-partition-response',
        requestId: request.requestId,
        error: 'NONE',
        state: result.state,
        controllerId: null,
      });
    this.#write([result.record], respond, () =>
      this.#reply(source, request, 'NOT_CONTROLLER', null),
    );
  }

  // ---- sessions ------------------------------------------------------------------------------

  #scheduleSessionCheck(): void {
    this.#sessionTimer = this.#context.setTimer(
      this.#config.sessionCheckEveryMs,
      'controller.session-check',
      () => {
        this.#sessionTimer = null;
        if (!this.#active) return;
        this.#fenceExpiredSessions();
        this.#append(recordsForUncleanElection(this.image));
        this.#scheduleSessionCheck();
      },
    );
  }

  /** KIP-835: a NoOp record every metadata.max.idle.interval.ms while active. */
  #scheduleNoOp(): void {
    const everyMs = this.#config.metadataMaxIdleIntervalMs;
    if (everyMs <= 0) return;
    this.#noOpTimer = this.#context.setTimer(everyMs, 'controller.no-op', () => {
      this.#noOpTimer = null;
      if (!this.#active) return;
      this.#append([{ type: 'NoOp' }]);
      this.#scheduleNoOp();
    });
  }

  #fenceExpiredSessions(): void {
    const nowMs = this.#context.nowMs;
    for (const broker of [...this.image.brokers.values()]) {
      if (broker.fenced) continue;
      const session = this.#sessions.get(broker.brokerId);
      const lastMs =
        session?.brokerEpoch === broker.brokerEpoch
          ? session.lastHeartbeatMs
          : Number.NEGATIVE_INFINITY;
      if (nowMs - lastMs <= this.#config.brokerSessionTimeoutMs) continue;
      this.#context.trace('controller.session-expired', {
        broker: broker.brokerId,
        brokerEpoch: broker.brokerEpoch,
      });
      // Each broker fenced is a decision of its own: the fence and the leaderships it moves.
      this.#atomically(() => {
        this.#append([
          { type: 'FenceBroker', brokerId: broker.brokerId, brokerEpoch: broker.brokerEpoch },
        ]);
        this.#append(
          recordsForBrokerUnavailable(this.image, broker.brokerId, { elr: this.#config.elr }),
        );
      });
    }
  }
}
