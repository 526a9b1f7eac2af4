// The admin client: creates topics and removes brokers through the active controller, finding it
// by asking the controllers in turn (a non-active controller names the active one). Mirrors the
// seed's Python example: `createTopics([{ name: 'test-topic', numPartitions: 1, replicationFactor: 3 }])`.

import type { Machine, NodeContext, TimerHandle } from '../../kernel/node.ts';
import type { Ms } from '../../kernel/time.ts';
import type {
  ControlError,
  ControlRequest,
  CreateTopicResult,
  CreateTopicSpec,
  CreateTopicsResponse,
  UnregisterBrokerResponse,
} from '../controller/messages.ts';
import type { ClusterMessage } from '../messages.ts';

export interface AdminConfig {
  readonly controllers: readonly string[];
  readonly requestTimeoutMs: Ms;
  /** Most attempts per operation before it fails with the last error. */
  readonly attemptsMax: number;
  readonly retryBackoffMs: Ms;
}

interface Operation {
  readonly request: ControlRequest;
  readonly done: (error: ControlError, results: readonly CreateTopicResult[]) => void;
  attempts: number;
  timer: TimerHandle | null;
}

export class AdminClient implements Machine<ClusterMessage> {
  readonly #context: NodeContext<ClusterMessage>;
  readonly #config: AdminConfig;
  readonly #operations = new Map<number, Operation>();
  #requestIdNext = 0;
  #controllerHint: string | null = null;
  #controllerIndex = 0;

  constructor(context: NodeContext<ClusterMessage>, config: AdminConfig) {
    this.#context = context;
    this.#config = config;
  }

  start(): void {}

  createTopics(
    topics: readonly CreateTopicSpec[],
    done: (error: ControlError, results: readonly CreateTopicResult[]) => void,
  ): void {
    this.#begin({ kind: 'admin.create-topics', requestId: this.#requestIdNext++, topics }, done);
  }

  unregisterBroker(brokerId: string, done: (error: ControlError) => void): void {
    this.#begin(
      { kind: 'admin.unregister-broker', requestId: this.#requestIdNext++, brokerId },
      (error) => done(error),
    );
  }

  onMessage(source: string, message: ClusterMessage): void {
    if (
      message.kind === 'admin.create-topics-response' ||
      message.kind === 'admin.unregister-broker-response'
    ) {
      this.#onResponse(source, message);
    }
  }

  onUnreachable(target: string, message: ClusterMessage): void {
    if (!('requestId' in message)) return;
    const operation = this.#operations.get(message.requestId);
    if (operation !== undefined && operation.request === message)
      this.#retry(operation, target, 'NOT_CONTROLLER');
  }

  #begin(request: ControlRequest, done: Operation['done']): void {
    const operation: Operation = { request, done, attempts: 0, timer: null };
    this.#operations.set(request.requestId, operation);
    this.#attempt(operation);
  }

  #attempt(operation: Operation): void {
    operation.attempts++;
    const target =
      this.#controllerHint ??
      (this.#config.controllers[
        this.#controllerIndex++ % this.#config.controllers.length
      ] as string);
    this.#context.send(target, operation.request, 128);
    operation.timer = this.#context.setTimer(
      this.#config.requestTimeoutMs,
      'admin.request-timeout',
      () => {
        operation.timer = null;
        this.#retry(operation, target, 'NOT_CONTROLLER');
      },
    );
  }

  #retry(operation: Operation, target: string, error: ControlError): void {
    if (operation.timer !== null) this.#context.cancelTimer(operation.timer);
    operation.timer = null;
    if (this.#controllerHint === target) this.#controllerHint = null;
    if (operation.attempts >= this.#config.attemptsMax) {
      this.#operations.delete(operation.request.requestId);
      operation.done(error, []);
      return;
    }
    this.#context.setTimer(this.#config.retryBackoffMs, 'admin.retry', () =>
      this.#attempt(operation),
    );
  }

  #onResponse(source: string, response: CreateTopicsResponse | UnregisterBrokerResponse): void {
    const operation = this.#operations.get(response.requestId);
    if (operation === undefined) return;
    if (response.error === 'NOT_CONTROLLER') {
      this.#controllerHint = response.controllerId;
      this.#retry(operation, source, response.error);
      return;
    }
    if (operation.timer !== null) this.#context.cancelTimer(operation.timer);
    this.#operations.delete(response.requestId);
    this.#controllerHint = source;
    operation.done(
      response.error,
      response.kind === 'admin.create-topics-response' ? response.results : [],
    );
  }
}
