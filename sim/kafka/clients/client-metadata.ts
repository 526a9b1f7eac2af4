// What the producer and the consumer share: their view of the cluster's metadata (Kafka's client
// Metadata and its updater), learnt by asking one broker at a time, and the validation of their
// configuration. Metadata requests go round robin to the bootstrap brokers and the brokers a
// previous answer named, so that neither a dead broker nor one with a stale image holds the client
// back for long. Updates happen when the client asks (throttled by retryBackoffMs) and at least every
// metadataMaxAgeMs while it wants any topic. As in Kafka since KIP-320, a partition's metadata never goes back to
// an older leader epoch: a lagging broker's answer cannot undo what a fresher one said.

import type { NodeContext, TimerHandle } from '../../kernel/node.ts';
import type { Ms } from '../../kernel/time.ts';
import type {
  DataError,
  MetadataRequest,
  MetadataResponse,
  PartitionMetadata,
} from '../broker/messages.ts';
import type { BrokerId, TopicId } from '../controller/records.ts';
import type { ClusterMessage } from '../messages.ts';

/** An invalid client configuration: the CLI reports it as bad input (exit code 2). */
export class ClientConfigError extends Error {
  override name = 'ClientConfigError';
}

/** A non-negative integer of milliseconds, or a ClientConfigError naming the setting. */
export function requireMs(name: string, value: number): Ms {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new ClientConfigError(`${name} must be a non-negative integer of ms (got ${value})`);
  return value;
}

/** An integer of at least `minimum`, or a ClientConfigError naming the setting. */
export function requireInteger(name: string, value: number, minimum: number): number {
  if (!Number.isSafeInteger(value) || value < minimum)
    throw new ClientConfigError(`${name} must be an integer ≥ ${minimum} (got ${value})`);
  return value;
}

export function requireBrokers(name: string, brokers: readonly BrokerId[]): readonly BrokerId[] {
  if (brokers.length === 0) throw new ClientConfigError(`${name} must name at least one broker`);
  return brokers;
}

export interface ClientMetadataConfig {
  readonly bootstrapBrokers: readonly BrokerId[];
  readonly requestTimeoutMs: Ms;
  readonly retryBackoffMs: Ms;
  readonly metadataMaxAgeMs: Ms;
  /** Trace kinds start with it: `producer.metadata`, `consumer.metadata`. */
  readonly traceName: string;
}

export interface KnownTopic {
  readonly name: string;
  readonly topicId: TopicId | null;
  /** Indexed by partition number. */
  readonly partitions: readonly PartitionMetadata[];
}

interface MetadataInFlight {
  readonly requestId: number;
  readonly target: BrokerId;
  readonly timer: TimerHandle;
}

export class ClientMetadata {
  readonly #context: NodeContext<ClusterMessage>;
  readonly #config: ClientMetadataConfig;
  readonly #allocateRequestId: () => number;
  readonly #onUpdate: () => void;
  /** Topics the client asks about, in the order it first wanted them. */
  readonly #wanted = new Set<string>();
  readonly #topics = new Map<string, KnownTopic>();
  readonly #topicErrors = new Map<string, DataError>();
  readonly #topicNames = new Map<TopicId, string>();
  /**
   * The last topic looked up and what #topics had for it (undefined too), until an answer changes
   * #topics: a producer looks its topic up for every record, and every drain and pump for every
   * partition, nearly always the same one as just before.
   */
  #lastName: string | null = null;
  #lastTopic: KnownTopic | undefined = undefined;
  /**
   * A topic wanted and known already: wantTopic of it again has nothing to do (#wanted and #topics
   * only ever grow).
   */
  #wantedKnown: string | null = null;
  #brokers: readonly BrokerId[] = [];
  #candidateIndex = 0;
  #inFlight: MetadataInFlight | null = null;
  /** An update was asked for while a request was in flight: send another after it. */
  #updateAgain = false;
  #lastAttemptMs: Ms | null = null;
  #backoffTimer: TimerHandle | null = null;
  #ageTimer: TimerHandle | null = null;
  #closed = false;
  /** Successful updates so far. */
  updates = 0;

  constructor(
    context: NodeContext<ClusterMessage>,
    config: ClientMetadataConfig,
    allocateRequestId: () => number,
    onUpdate: () => void,
  ) {
    this.#context = context;
    this.#config = config;
    this.#allocateRequestId = allocateRequestId;
    this.#onUpdate = onUpdate;
  }

  /** Bootstrap brokers first, then the other brokers the last answer named. */
  get candidates(): readonly BrokerId[] {
    const extra = this.#brokers.filter((id) => !this.#config.bootstrapBrokers.includes(id));
    return [...this.#config.bootstrapBrokers, ...extra];
  }

  topic(name: string): KnownTopic | undefined {
    if (name === this.#lastName) return this.#lastTopic;
    const topic = this.#topics.get(name);
    this.#lastName = name;
    this.#lastTopic = topic;
    return topic;
  }

  /** The error the last answer gave for a topic it did not describe (null: none). */
  topicError(name: string): DataError | null {
    return this.#topicErrors.get(name) ?? null;
  }

  topicName(topicId: TopicId): string | undefined {
    return this.#topicNames.get(topicId);
  }

  partition(topic: string, partition: number): PartitionMetadata | undefined {
    return this.topic(topic)?.partitions[partition];
  }

  /** want([topic]), without the array: a producer calls it for every record. */
  wantTopic(topic: string): void {
    if (topic === this.#wantedKnown) return;
    this.#wanted.add(topic);
    if (!this.#topics.has(topic)) this.requestUpdate();
    else this.#wantedKnown = topic;
  }

  /** Asks for these topics from now on; an update follows if one of them is not known yet. */
  want(topics: readonly string[]): void {
    for (const topic of topics) this.#wanted.add(topic);
    if (topics.some((topic) => !this.#topics.has(topic))) this.requestUpdate();
  }

  /** Asks for a metadata update: at once, or once retryBackoffMs has passed since the last attempt. */
  requestUpdate(): void {
    if (this.#closed || this.#wanted.size === 0) return;
    if (this.#inFlight !== null) {
      this.#updateAgain = true;
      return;
    }
    if (this.#backoffTimer !== null) return;
    const nowMs = this.#context.nowMs;
    const readyAtMs =
      this.#lastAttemptMs === null ? nowMs : this.#lastAttemptMs + this.#config.retryBackoffMs;
    if (readyAtMs <= nowMs) {
      this.#send();
      return;
    }
    this.#backoffTimer = this.#context.setTimer(
      readyAtMs - nowMs,
      `${this.#config.traceName}.metadata-backoff`,
      () => {
        this.#backoffTimer = null;
        this.#send();
      },
    );
  }

  /** Stops all metadata traffic (the client closed). */
  close(): void {
    this.#closed = true;
    for (const timer of [this.#backoffTimer, this.#ageTimer, this.#inFlight?.timer ?? null])
      if (timer !== null) this.#context.cancelTimer(timer);
    this.#backoffTimer = null;
    this.#ageTimer = null;
    this.#inFlight = null;
  }

  /** Handles a metadata response; false when it answers no request in flight (a late one). */
  onResponse(source: BrokerId, response: MetadataResponse): boolean {
    const inFlight = this.#inFlight;
    if (inFlight === null || inFlight.requestId !== response.requestId) return false;
    this.#context.cancelTimer(inFlight.timer);
    this.#inFlight = null;
    this.#apply(response);
    this.updates++;
    const missing = [...this.#wanted].filter((topic) => !this.#topics.has(topic));
    this.#context.trace(`${this.#config.traceName}.metadata`, {
      source,
      brokers: response.brokers.length,
      topics: this.#topics.size,
      missing: missing.length,
    });
    this.#armAgeTimer();
    if (this.#updateAgain) {
      this.#updateAgain = false;
      this.requestUpdate();
    }
    this.#onUpdate();
    return true;
  }

  /** Handles a refused metadata request; false when it was not ours (or no longer in flight). */
  onUnreachable(target: BrokerId, request: MetadataRequest): boolean {
    const inFlight = this.#inFlight;
    if (inFlight === null || inFlight.requestId !== request.requestId) return false;
    this.#context.cancelTimer(inFlight.timer);
    this.#failed(target, 'refused');
    return true;
  }

  #send(): void {
    if (this.#closed || this.#wanted.size === 0) return;
    const candidates = this.candidates;
    // Round robin: one broker with a stale image cannot keep the client stale.
    const target = candidates[this.#candidateIndex++ % candidates.length] as BrokerId;
    const requestId = this.#allocateRequestId();
    const request: MetadataRequest = {
      kind: 'client.metadata',
      requestId,
      topics: [...this.#wanted],
    };
    this.#lastAttemptMs = this.#context.nowMs;
    this.#context.send(target, request, 64 + 32 * this.#wanted.size);
    const timer = this.#context.setTimer(
      this.#config.requestTimeoutMs,
      `${this.#config.traceName}.metadata-timeout`,
      () => {
        if (this.#inFlight?.requestId === requestId) this.#failed(target, 'timeout');
      },
    );
    this.#inFlight = { requestId, target, timer };
  }

  #failed(target: BrokerId, reason: string): void {
    this.#inFlight = null;
    this.#updateAgain = false;
    this.#context.trace(`${this.#config.traceName}.metadata-failed`, { target, reason });
    this.requestUpdate();
  }

  #apply(response: MetadataResponse): void {
    // The answer may change any topic: the next lookup asks #topics again.
    this.#lastName = null;
    this.#lastTopic = undefined;
    if (response.brokers.length > 0) this.#brokers = [...response.brokers];
    for (const topic of response.topics) {
      if (topic.error !== 'NONE') {
        this.#topicErrors.set(topic.name, topic.error);
        continue;
      }
      this.#topicErrors.delete(topic.name);
      const known = this.#topics.get(topic.name);
      const sameTopic = known !== undefined && known.topicId === topic.topicId;
      const byIndex = new Map<number, PartitionMetadata>();
      for (const partition of topic.partitions) byIndex.set(partition.partition, partition);
      const count = Math.max(byIndex.size, sameTopic ? known.partitions.length : 0);
      const partitions: PartitionMetadata[] = [];
      for (let index = 0; index < count; index++) {
        const fresh = byIndex.get(index);
        const old = sameTopic ? known.partitions[index] : undefined;
        // Never go back to an older leader epoch (KIP-320); keep what we knew of a missing one.
        const chosen =
          old !== undefined && (fresh === undefined || fresh.leaderEpoch < old.leaderEpoch)
            ? old
            : fresh;
        if (chosen === undefined) break;
        partitions.push(chosen);
      }
      // A topic without its partitions yet (created, not all applied) is not known yet either.
      if (count === 0 || partitions.length < count) continue;
      this.#topics.set(topic.name, { name: topic.name, topicId: topic.topicId, partitions });
      if (topic.topicId !== null) this.#topicNames.set(topic.topicId, topic.name);
    }
  }

  #armAgeTimer(): void {
    if (this.#ageTimer !== null) this.#context.cancelTimer(this.#ageTimer);
    this.#ageTimer = this.#context.setTimer(
      this.#config.metadataMaxAgeMs,
      `${this.#config.traceName}.metadata-max-age`,
      () => {
        this.#ageTimer = null;
        this.requestUpdate();
      },
    );
  }
}
