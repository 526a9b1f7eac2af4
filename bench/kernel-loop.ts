// The kernel delivering network messages between nodes with trivial handlers: every delivery
// sends one message on to the next node, so about `pending` messages stay in flight.

import type { Machine, NodeContext } from '../sim/kernel/node.ts';
import { World } from '../sim/kernel/world.ts';

interface Token {
  readonly kind: 'token';
  readonly hops: number;
}

class Relay implements Machine<Token> {
  constructor(
    readonly context: NodeContext<Token>,
    readonly next: string,
    readonly tokens: number,
  ) {}

  start(): void {
    for (let i = 0; i < this.tokens; i++) this.context.send(this.next, { kind: 'token', hops: 0 });
  }

  onMessage(_source: string, message: Token): void {
    this.context.send(this.next, { kind: 'token', hops: message.hops + 1 });
  }
}

/** Runs until `events` events have fired; returns the world's trace hash (to keep the work honest). */
export function runKernelLoop(
  events: number,
  nodes = 10,
  pending = 1_000,
): { fired: number; traceHash: string } {
  const world = new World<Token>({
    seed: 'bench',
    latency: { kind: 'uniform', minMs: 1, maxMs: 8 },
  });
  const ids = Array.from({ length: nodes }, (_, index) => `n${index}`);
  ids.forEach((id, index) => {
    const next = ids[(index + 1) % nodes] as string;
    world.addNode(id, (context) => new Relay(context, next, pending / nodes));
  });
  for (const id of ids) world.node(id).start();
  const fired = world.scheduler.runSteps(events);
  return { fired, traceHash: world.traceHash };
}
