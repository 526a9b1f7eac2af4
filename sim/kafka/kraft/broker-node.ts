// A broker's control plane in KRaft mode: an observer of the metadata quorum that replays the
// committed records into its own image, registers with the active controller (a fresh incarnation
// id per start; the registration record's offset is its broker epoch), heartbeats, is fenced and
// unfenced, and shuts down through a controlled shutdown (it leaves every leadership first).
// Its data plane, the partitions it stores, is the ReplicaManager: it starts once the broker has
// registered and replayed the metadata up to its own registration, and follows every metadata
// change after that.

import type { Machine, NodeContext, TimerHandle } from '../../kernel/node.ts';
import type { Ms } from '../../kernel/time.ts';
import { isDataMessage } from '../broker/messages.ts';
import {
  DEFAULT_REPLICA_CONFIG,
  type ReplicaConfig,
  ReplicaManager,
} from '../broker/replica-manager.ts';
import type { Bugs } from '../bugs.ts';
import type {
  BrokerHeartbeatResponse,
  BrokerRegistrationResponse,
  ControlRequest,
  ControlResponse,
} from '../controller/messages.ts';
import { MetadataImage, replayLog } from '../controller/metadata-image.ts';
import { type ClusterMessage, isRaftMessage } from '../messages.ts';
import { type RaftConfig, RaftNode } from '../raft/raft-node.ts';

export interface BrokerConfig {
  readonly raft: RaftConfig;
  /** broker.heartbeat.interval.ms (2000) */
  readonly heartbeatIntervalMs: Ms;
  /** How long a control request may go unanswered before it is sent again. */
  readonly requestTimeoutMs: Ms;
  /** Wait before registering again after DUPLICATE_BROKER_REGISTRATION or an error. */
  readonly registrationBackoffMs: Ms;
  readonly replica: ReplicaConfig;
}

export const DEFAULT_BROKER_CONFIG: Omit<BrokerConfig, 'raft'> = {
  heartbeatIntervalMs: 2_000,
  requestTimeoutMs: 2_000,
  registrationBackoffMs: 1_000,
  replica: DEFAULT_REPLICA_CONFIG,
};

export type BrokerState =
  | 'registering'
  | 'fenced'
  | 'running'
  | 'pending-controlled-shutdown'
  | 'stopped';

/**
 * Each incarnation numbers its requests from incarnation × this: its control requests from there,
 * its data plane's from half way (replica-manager.ts). Small enough that the ids stay small
 * integers for V8 (below 2^30) up to incarnation 107: a larger number is a heap object of its own,
 * allocated anew for every request and every answer that carries it.
 */
export const INCARNATION_REQUEST_IDS = 10_000_000;

/** On disk: written by a clean shutdown, read and removed by the next start (KIP-966). */
export const CLEAN_SHUTDOWN_FILE = 'clean-shutdown';

interface Outstanding {
  readonly request: ControlRequest;
  readonly timer: TimerHandle;
}

export class KraftBroker implements Machine<ClusterMessage> {
  readonly raft: RaftNode;
  /** The committed metadata, replayed in order. */
  readonly image = new MetadataImage();
  /** The partitions this broker stores. */
  readonly replicaManager: ReplicaManager;
  readonly #context: NodeContext<ClusterMessage>;
  readonly #config: BrokerConfig;
  readonly incarnationId: string;
  readonly #previousBrokerEpoch: number;
  #state: BrokerState = 'registering';
  #brokerEpoch: number | null = null;
  #replayedUpTo = 0;
  /** Request ids are unique across incarnations: an answer to a previous one is never taken for ours. */
  #requestIdNext: number;
  #outstanding: Outstanding | null = null;
  #controllerHint: string | null = null;
  #voterIndex = 0;
  #heartbeatTimer: TimerHandle | null = null;

  constructor(context: NodeContext<ClusterMessage>, config: BrokerConfig, bugs: Bugs) {
    this.#context = context;
    this.#config = config;
    this.#requestIdNext = context.incarnation * INCARNATION_REQUEST_IDS;
    this.raft = new RaftNode(context, config.raft, bugs, {
      onHighWatermark: (highWatermark) => this.#replayTo(highWatermark),
    });
    this.replicaManager = new ReplicaManager(context, config.replica, bugs, {
      image: () => this.image,
      brokerEpoch: () => this.#brokerEpoch,
      controller: () => this.#target(),
    });
    this.incarnationId = `${context.nodeId}-${context.incarnation}-${context.rng.int(0, 0xffffff).toString(16)}`;
    const marker = context.disk.checkpoint<{ brokerEpoch: number }>(CLEAN_SHUTDOWN_FILE);
    this.#previousBrokerEpoch = marker.read()?.brokerEpoch ?? -1;
  }

  get state(): BrokerState {
    return this.#state;
  }

  get brokerEpoch(): number | null {
    return this.#brokerEpoch;
  }

  /** The last metadata offset applied (-1: none). */
  get metadataOffset(): number {
    return this.#replayedUpTo - 1;
  }

  start(): void {
    // The marker speaks for one start only: a crash after this one is unclean again.
    this.#context.disk.delete(CLEAN_SHUTDOWN_FILE);
    this.raft.start();
    this.#register();
  }

  onMessage(source: string, message: ClusterMessage): void {
    // The three frequent kinds first, each straight to its handler: `kind` is read once (a broker
    // receives messages of many shapes, so each read is a megamorphic load) and compared by
    // reference, where isDataMessage read it up to three times and called startsWith, and the
    // replica manager's switch read it again.
    switch (message.kind) {
      case 'fetch':
        this.replicaManager.onFetch(source, message);
        return;
      case 'fetch-response':
        this.replicaManager.onFetchResponse(source, message);
        return;
      case 'client.produce':
        this.replicaManager.onProduce(source, message);
        return;
    }
    if (isDataMessage(message)) {
      this.replicaManager.handle(source, message);
      return;
    }
    if (isRaftMessage(message)) {
      this.raft.handle(source, message);
      return;
    }
    if (message.kind === 'broker.alter-partition-response') {
      this.replicaManager.onAlterPartitionResponse(message);
      return;
    }
    if (message.kind === 'broker.register-response') this.#onRegisterResponse(source, message);
    else if (message.kind === 'broker.heartbeat-response')
      this.#onHeartbeatResponse(source, message);
  }

  onUnreachable(target: string, message: ClusterMessage): void {
    if (isRaftMessage(message)) {
      this.raft.unreachable(target, message);
      return;
    }
    if (isDataMessage(message) || message.kind === 'broker.alter-partition') {
      this.replicaManager.unreachable(target, message);
      return;
    }
    if (this.#outstanding?.request === message) this.#retryElsewhere(target);
  }

  /** Controlled shutdown: ask the controller, go when it says so (the host kills us if it never does). */
  stop(): void {
    if (this.#brokerEpoch === null) {
      this.#finishStop();
      return;
    }
    this.#state = 'pending-controlled-shutdown';
    this.#context.trace('broker.controlled-shutdown', { brokerEpoch: this.#brokerEpoch });
    this.#sendHeartbeat();
  }

  // ---- registration and heartbeats -----------------------------------------------------------

  #register(): void {
    this.#state = 'registering';
    this.#send({
      kind: 'broker.register',
      requestId: this.#requestIdNext++,
      brokerId: this.#context.nodeId,
      incarnationId: this.incarnationId,
      previousBrokerEpoch: this.#previousBrokerEpoch,
    });
  }

  #onRegisterResponse(source: string, response: BrokerRegistrationResponse): void {
    if (!this.#isAnswer(response)) return;
    this.#clearOutstanding();
    if (response.error === 'NONE') {
      this.#brokerEpoch = response.brokerEpoch;
      this.#controllerHint = source;
      this.#state = 'fenced';
      this.#context.trace('broker.registered', {
        brokerEpoch: response.brokerEpoch,
        controller: source,
      });
      this.#sendHeartbeat();
      this.#maybeStartReplicas();
      return;
    }
    this.#context.trace('broker.register-failed', { error: response.error });
    this.#controllerHint = response.controllerId;
    const delayMs =
      response.error === 'NOT_CONTROLLER' && response.controllerId !== null
        ? 0
        : this.#config.registrationBackoffMs;
    this.#context.setTimer(delayMs, 'broker.register-retry', () => {
      if (this.#state === 'registering' && this.#outstanding === null) this.#register();
    });
  }

  #sendHeartbeat(): void {
    if (this.#brokerEpoch === null || this.#outstanding !== null) return;
    this.#send({
      kind: 'broker.heartbeat',
      requestId: this.#requestIdNext++,
      brokerId: this.#context.nodeId,
      brokerEpoch: this.#brokerEpoch,
      currentMetadataOffset: this.metadataOffset,
      wantFence: false,
      wantShutDown: this.#state === 'pending-controlled-shutdown',
    });
  }

  #scheduleHeartbeat(delayMs: Ms): void {
    if (this.#heartbeatTimer !== null) this.#context.cancelTimer(this.#heartbeatTimer);
    this.#heartbeatTimer = this.#context.setTimer(delayMs, 'broker.heartbeat', () => {
      this.#heartbeatTimer = null;
      this.#sendHeartbeat();
    });
  }

  #onHeartbeatResponse(source: string, response: BrokerHeartbeatResponse): void {
    if (!this.#isAnswer(response)) return;
    this.#clearOutstanding();
    if (response.error === 'STALE_BROKER_EPOCH') {
      // The controller no longer knows this registration: register again, same incarnation.
      this.#context.trace('broker.stale-epoch', { brokerEpoch: this.#brokerEpoch });
      this.#brokerEpoch = null;
      this.#register();
      return;
    }
    if (response.error !== 'NONE') {
      this.#controllerHint = response.controllerId;
      this.#scheduleHeartbeat(this.#config.registrationBackoffMs / 10);
      return;
    }
    this.#controllerHint = source;
    if (this.#state === 'pending-controlled-shutdown') {
      if (response.shouldShutDown) {
        this.#finishStop();
        return;
      }
      this.#scheduleHeartbeat(this.#config.heartbeatIntervalMs / 4);
      return;
    }
    const state: BrokerState = response.isFenced ? 'fenced' : 'running';
    if (state !== this.#state)
      this.#context.trace('broker.state', { state, brokerEpoch: this.#brokerEpoch });
    this.#state = state;
    this.#scheduleHeartbeat(this.#config.heartbeatIntervalMs);
  }

  #finishStop(): void {
    this.replicaManager.shutdown();
    if (this.#brokerEpoch !== null) {
      this.#context.disk
        .checkpoint<{ brokerEpoch: number }>(CLEAN_SHUTDOWN_FILE)
        .writeDurably({ brokerEpoch: this.#brokerEpoch });
    }
    this.#state = 'stopped';
    this.#context.stopped();
  }

  // ---- requests to the active controller -----------------------------------------------------

  #target(): string {
    const known = this.#controllerHint ?? this.raft.leaderId;
    if (known !== null) return known;
    const voters = this.#config.raft.voters;
    return voters[this.#voterIndex++ % voters.length] as string;
  }

  #send(request: ControlRequest): void {
    const target = this.#target();
    this.#context.send(target, request, 64);
    const timer = this.#context.setTimer(
      this.#config.requestTimeoutMs,
      'broker.request-timeout',
      () => {
        if (this.#outstanding?.request === request) this.#retryElsewhere(target);
      },
    );
    this.#outstanding = { request, timer };
  }

  /** No answer (or a refused connection): forget the hint and send the request again, shortly. */
  #retryElsewhere(target: string): void {
    const outstanding = this.#outstanding;
    if (outstanding === null) return;
    this.#clearOutstanding();
    if (this.#controllerHint === target) this.#controllerHint = null;
    if (this.raft.leaderId === target) this.#voterIndex++;
    // Like Kafka's reconnect backoff: a refused connection is not retried in the same instant.
    this.#context.setTimer(this.#config.registrationBackoffMs / 10, 'broker.request-retry', () => {
      if (this.#outstanding !== null || this.#state === 'stopped') return;
      if (outstanding.request.kind === 'broker.register') this.#register();
      else this.#sendHeartbeat();
    });
  }

  /** The answer to the request outstanding now: the same id and the matching kind. */
  #isAnswer(response: ControlResponse): boolean {
    const request = this.#outstanding?.request;
    return (
      request !== undefined &&
      request.requestId === response.requestId &&
      response.kind === `${request.kind}-response`
    );
  }

  #clearOutstanding(): void {
    if (this.#outstanding !== null) this.#context.cancelTimer(this.#outstanding.timer);
    this.#outstanding = null;
  }

  #replayTo(highWatermark: number): void {
    const before = this.#replayedUpTo;
    this.#replayedUpTo = replayLog(this.image, this.raft.log, this.#replayedUpTo, highWatermark);
    if (this.#replayedUpTo === before) return;
    this.#maybeStartReplicas();
    this.replicaManager.applyMetadata();
  }

  /** The data plane starts once the metadata includes this incarnation's registration. */
  #maybeStartReplicas(): void {
    if (this.#brokerEpoch !== null && this.metadataOffset >= this.#brokerEpoch)
      this.replicaManager.start();
  }
}
