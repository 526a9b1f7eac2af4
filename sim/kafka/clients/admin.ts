// The admin client. Topic and broker changes go to the active controller, found by asking the
// controllers in turn (a non-active controller names the active one): createTopics, deleteTopics,
// createPartitions, unregisterBroker. describeTopics asks a broker for Metadata, as Kafka's
// Admin.describeTopics does, rotating over the bootstrap brokers when one does not answer.
// Mirrors the seed's Python example:
// `createTopics([{ name: 'test-topic', numPartitions: 1, replicationFactor: 3 }], done)`.

import type { Machine, NodeContext, TimerHandle } from '../../kernel/node.ts';
import type { Ms } from '../../kernel/time.ts';
import type {
  DataError,
  MetadataRequest,
  MetadataResponse,
  TopicMetadata,
} from '../broker/messages.ts';
import type {
  ControlError,
  ControlRequest,
  CreatePartitionsResponse,
  CreatePartitionsResult,
  CreatePartitionsSpec,
  CreateTopicResult,
  CreateTopicSpec,
  CreateTopicsResponse,
  DeleteTopicResult,
  DeleteTopicsResponse,
  UnregisterBrokerResponse,
} from '../controller/messages.ts';
import type { ClusterMessage } from '../messages.ts';
import { exponentialBackoffMs } from './backoff.ts';

export interface AdminConfig {
  readonly controllers: readonly string[];
  /** The brokers describeTopics asks (Kafka's bootstrap.servers); none: it fails at once. */
  readonly bootstrapBrokers?: readonly string[];
  readonly requestTimeoutMs: Ms;
  /** Most attempts per operation before it fails with the last error. */
  readonly attemptsMax: number;
  /** retry.backoff.ms: the first backoff, doubled after each failed attempt, ±20 % (KIP-580)... */
  readonly retryBackoffMs: Ms;
  /** ...up to retry.backoff.max.ms. */
  readonly retryBackoffMaxMs: Ms;
}

/** The error describeTopics gives when no broker answered: the last attempt's. */
export type DescribeTopicsError = 'NONE' | 'REQUEST_TIMED_OUT' | 'BROKER_NOT_AVAILABLE';

type AdminRequest = ControlRequest | MetadataRequest;

type ControllerResponse =
  | CreateTopicsResponse
  | DeleteTopicsResponse
  | CreatePartitionsResponse
  | UnregisterBrokerResponse;

type AdminResponse = ControllerResponse | MetadataResponse;

/** Why an attempt failed: no answer in time, a refused connection, or not the controller. */
type Failure = 'timeout' | 'refused' | 'not-controller';

interface Operation {
  readonly request: AdminRequest;
  /** Where the request goes: the active controller, or any broker. */
  readonly destination: 'controller' | 'broker';
  /** The answer arrived (a controller's NOT_CONTROLLER is retried, never passed here). */
  readonly answer: (response: AdminResponse) => void;
  /** Every attempt failed; `failure` says how the last one did. */
  readonly giveUp: (failure: Failure) => void;
  attempts: number;
  /** The request timeout while an attempt is out, the backoff between attempts. */
  timer: TimerHandle | null;
}

export class AdminClient implements Machine<ClusterMessage> {
  readonly #context: NodeContext<ClusterMessage>;
  readonly #config: AdminConfig;
  readonly #operations = new Map<number, Operation>();
  #requestIdNext = 0;
  #controllerHint: string | null = null;
  #controllerIndex = 0;
  /** The broker that answered last; dropped when it fails an attempt. */
  #brokerHint: string | null = null;
  #brokerIndex = 0;

  constructor(context: NodeContext<ClusterMessage>, config: AdminConfig) {
    this.#context = context;
    this.#config = config;
  }

  start(): void {}

  createTopics(
    topics: readonly CreateTopicSpec[],
    done: (error: ControlError, results: readonly CreateTopicResult[]) => void,
  ): void {
    this.#toController(
      { kind: 'admin.create-topics', requestId: this.#requestIdNext++, topics },
      (response) =>
        done(
          response.error,
          response.kind === 'admin.create-topics-response' ? response.results : [],
        ),
      () => done('NOT_CONTROLLER', []),
    );
  }

  /** Kafka's Admin.deleteTopics: one result per name, UNKNOWN_TOPIC_OR_PARTITION for unknown ones. */
  deleteTopics(
    names: readonly string[],
    done: (error: ControlError, results: readonly DeleteTopicResult[]) => void,
  ): void {
    this.#toController(
      { kind: 'admin.delete-topics', requestId: this.#requestIdNext++, names },
      (response) =>
        done(
          response.error,
          response.kind === 'admin.delete-topics-response' ? response.results : [],
        ),
      () => done('NOT_CONTROLLER', []),
    );
  }

  /**
   * Kafka's Admin.createPartitions (NewPartitions.increaseTo): raises each topic's partition count
   * to `totalCount`; the existing partitions stay as they are.
   */
  createPartitions(
    topics: readonly CreatePartitionsSpec[],
    done: (error: ControlError, results: readonly CreatePartitionsResult[]) => void,
  ): void {
    this.#toController(
      { kind: 'admin.create-partitions', requestId: this.#requestIdNext++, topics },
      (response) =>
        done(
          response.error,
          response.kind === 'admin.create-partitions-response' ? response.results : [],
        ),
      () => done('NOT_CONTROLLER', []),
    );
  }

  unregisterBroker(brokerId: string, done: (error: ControlError) => void): void {
    this.#toController(
      { kind: 'admin.unregister-broker', requestId: this.#requestIdNext++, brokerId },
      (response) => done(response.error),
      () => done('NOT_CONTROLLER'),
    );
  }

  /**
   * Kafka's Admin.describeTopics: a Metadata request for `names` to a bootstrap broker. One
   * description per name, in the order given, partitions by number; a name the broker does not
   * know is described with UNKNOWN_TOPIC_OR_PARTITION and no partitions.
   */
  describeTopics(
    names: readonly string[],
    done: (error: DescribeTopicsError, topics: readonly TopicMetadata[]) => void,
  ): void {
    const request: MetadataRequest = {
      kind: 'client.metadata',
      requestId: this.#requestIdNext++,
      topics: [...names],
    };
    this.#begin({
      request,
      destination: 'broker',
      answer: (response) => {
        if (response.kind === 'client.metadata-response')
          done('NONE', describedTopics(names, response));
      },
      giveUp: (failure) =>
        done(failure === 'timeout' ? 'REQUEST_TIMED_OUT' : 'BROKER_NOT_AVAILABLE', []),
      attempts: 0,
      timer: null,
    });
  }

  onMessage(source: string, message: ClusterMessage): void {
    switch (message.kind) {
      case 'admin.create-topics-response':
      case 'admin.delete-topics-response':
      case 'admin.create-partitions-response':
      case 'admin.unregister-broker-response':
        this.#onControllerResponse(source, message);
        return;
      case 'client.metadata-response':
        this.#onMetadataResponse(source, message);
        return;
      default:
        return;
    }
  }

  onUnreachable(target: string, message: ClusterMessage): void {
    if (!('requestId' in message)) return;
    const operation = this.#operations.get(message.requestId);
    if (operation !== undefined && operation.request === message)
      this.#retry(operation, target, 'refused');
  }

  #toController(
    request: ControlRequest,
    answer: (response: ControllerResponse) => void,
    giveUp: () => void,
  ): void {
    this.#begin({
      request,
      destination: 'controller',
      answer: (response) => {
        if (response.kind !== 'client.metadata-response') answer(response);
      },
      giveUp,
      attempts: 0,
      timer: null,
    });
  }

  #begin(operation: Operation): void {
    this.#operations.set(operation.request.requestId, operation);
    this.#attempt(operation);
  }

  #attempt(operation: Operation): void {
    const target = this.#target(operation.destination);
    if (target === null) {
      this.#operations.delete(operation.request.requestId);
      operation.giveUp('refused');
      return;
    }
    operation.attempts++;
    this.#context.send(target, operation.request, 128);
    operation.timer = this.#context.setTimer(
      this.#config.requestTimeoutMs,
      'admin.request-timeout',
      () => {
        operation.timer = null;
        this.#retry(operation, target, 'timeout');
      },
    );
  }

  /** The hinted node, else the next one in turn (null: there is none to ask). */
  #target(destination: Operation['destination']): string | null {
    if (destination === 'controller') {
      const controllers = this.#config.controllers;
      return (
        this.#controllerHint ?? controllers[this.#controllerIndex++ % controllers.length] ?? null
      );
    }
    const brokers = this.#config.bootstrapBrokers ?? [];
    return this.#brokerHint ?? brokers[this.#brokerIndex++ % brokers.length] ?? null;
  }

  #retry(operation: Operation, target: string, failure: Failure): void {
    if (operation.timer !== null) this.#context.cancelTimer(operation.timer);
    operation.timer = null;
    if (this.#controllerHint === target) this.#controllerHint = null;
    if (this.#brokerHint === target) this.#brokerHint = null;
    if (operation.attempts >= this.#config.attemptsMax) {
      this.#operations.delete(operation.request.requestId);
      operation.giveUp(failure);
      return;
    }
    // The same handle as the request timeout: an answer that comes in meanwhile cancels it.
    const backoffMs = exponentialBackoffMs(
      operation.attempts - 1,
      this.#config.retryBackoffMs,
      this.#config.retryBackoffMaxMs,
      this.#context.rng.next(),
    );
    operation.timer = this.#context.setTimer(backoffMs, 'admin.retry', () => {
      operation.timer = null;
      this.#attempt(operation);
    });
  }

  /** The operation `response` answers, if it is still open, with its timer (timeout or backoff) stopped. */
  #settle(response: AdminResponse): Operation | null {
    const operation = this.#operations.get(response.requestId);
    if (operation === undefined) return null;
    if (operation.timer !== null) this.#context.cancelTimer(operation.timer);
    operation.timer = null;
    return operation;
  }

  #onControllerResponse(source: string, response: ControllerResponse): void {
    const operation = this.#settle(response);
    if (operation === null) return;
    if (response.error === 'NOT_CONTROLLER') {
      this.#controllerHint = response.controllerId;
      this.#retry(operation, source, 'not-controller');
      return;
    }
    this.#operations.delete(response.requestId);
    this.#controllerHint = source;
    operation.answer(response);
  }

  #onMetadataResponse(source: string, response: MetadataResponse): void {
    const operation = this.#settle(response);
    if (operation === null) return;
    // A broker that is not serving yet (not registered and unfenced) sends the client elsewhere.
    if (response.topics.some((topic) => topic.error === 'BROKER_NOT_AVAILABLE')) {
      this.#retry(operation, source, 'refused');
      return;
    }
    this.#operations.delete(response.requestId);
    this.#brokerHint = source;
    operation.answer(response);
  }
}

/** One description per name asked for, in that order; what the broker left out is unknown. */
function describedTopics(
  names: readonly string[],
  response: MetadataResponse,
): readonly TopicMetadata[] {
  return names.map((name) => {
    const topic = response.topics.find((candidate) => candidate.name === name);
    if (topic === undefined) {
      const error: DataError = 'UNKNOWN_TOPIC_OR_PARTITION';
      return { name, topicId: null, error, partitions: [] };
    }
    const partitions = [...topic.partitions].sort((a, b) => a.partition - b.partition);
    return { ...topic, partitions };
  });
}
