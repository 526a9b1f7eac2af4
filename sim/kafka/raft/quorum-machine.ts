// A node that runs only the metadata quorum: the harness for the Raft layer on its own. A voter
// that leads appends a metadata record every `appendEveryMs` (a stand-in for the controller's
// records, each with a unique id); observers replicate and apply the committed log.

import type { Machine, NodeContext } from '../../kernel/node.ts';
import type { Ms } from '../../kernel/time.ts';
import type { Bugs } from '../bugs.ts';
import type { RaftMessage } from './messages.ts';
import { type RaftConfig, RaftNode } from './raft-node.ts';

export interface QuorumMachineOptions {
  readonly raft: RaftConfig;
  readonly bugs: Bugs;
  /** How often a leader appends a record; 0: never. */
  readonly appendEveryMs: Ms;
}

export class QuorumMachine implements Machine<RaftMessage> {
  readonly raft: RaftNode;
  readonly #context: NodeContext<RaftMessage>;
  readonly #options: QuorumMachineOptions;
  #recordsAppended = 0;
  /** Committed entries this node has applied (replayed), in order. */
  appliedOffset = 0;

  constructor(context: NodeContext<RaftMessage>, options: QuorumMachineOptions) {
    this.#context = context;
    this.#options = options;
    this.raft = new RaftNode(context, options.raft, options.bugs, {
      onHighWatermark: (highWatermark) => {
        this.appliedOffset = highWatermark;
      },
    });
  }

  start(): void {
    this.raft.start();
    if (this.raft.isVoter && this.#options.appendEveryMs > 0) this.#scheduleAppend();
  }

  onMessage(source: string, message: RaftMessage): void {
    this.raft.handle(source, message);
  }

  onUnreachable(target: string, message: RaftMessage): void {
    this.raft.unreachable(target, message);
  }

  stop(): void {
    this.raft.shutdown();
    this.#context.setTimer(5, 'shutdown', () => this.#context.stopped());
  }

  #scheduleAppend(): void {
    this.#context.setTimer(this.#options.appendEveryMs, 'append', () => {
      if (this.raft.isLeader) {
        const id = `${this.#context.nodeId}-${this.#context.incarnation}-${this.#recordsAppended++}`;
        this.raft.appendRecord(id, { kind: 'test-record', id }, 100);
      }
      this.#scheduleAppend();
    });
  }
}
