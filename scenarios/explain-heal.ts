// The stories of what healing did not bring back, for `kafkasim repro` and `run`
// (scenarios/explain.ts). A partition left without a leader, or a broker not back in service
// (leader-elected-after-heal): who could lead it as the metadata ends (KIP-966's ISR, ELR and last
// known leader), who led it before, and what became of each replica (crashes, restarts, fencing,
// controlled shutdown, removal and what the controller answered it), then the faults. A partition
// not fully replicated (acked-fully-replicated): which replicas are behind, its leaders, its last
// ISR changes, and what became of each replica. The controller's own decisions are records of the
// metadata log, not trace events: the timeline tells each one, with its reason. Pure: data in,
// lines out.

import type { LeaderlessPartition } from '../properties/violation.ts';
import type { BugName } from '../sim/kafka/bugs.ts';
import {
  aboutPartition,
  bugsOnLines,
  faultLines,
  ms,
  num,
  type Story,
  type StoryEvent,
  str,
} from './explain-common.ts';
import { byId } from './explain-metadata.ts';
import type { ViolationReport } from './run.ts';

/** The trace event kinds these stories read (the collector keeps them). */
export const HEAL_STORY_KINDS: readonly string[] = [
  'replica.isr-shrink',
  'replica.isr-change-failed',
  'node.stopping',
  'node.stopped',
  'node.decommission',
  'broker.registered',
  'broker.state',
  'broker.controlled-shutdown',
  'operation.remove-broker',
  'operation.remove-broker-retry',
  'operation.remove-broker-answered',
];

/** A replica's life events shown at most (its last ones). */
const LIFE_SHOWN_MAX = 8;
/** Leaders shown at most (the last ones). */
const LEADERS_SHOWN_MAX = 4;
/** ISR changes and proposals shown at most (the last ones). */
const ISR_SHOWN_MAX = 6;

/** The broker a `broker … is not registered, unfenced and running after healing` report names. */
function brokerOf(violation: ViolationReport): string | null {
  const match = /^broker (\S+) is not registered/.exec(violation.message);
  return match === null ? null : (match[1] as string);
}

/**
 * The story a leader-elected-after-heal or acked-fully-replicated report belongs to, or null (the
 * quorum's own reports, a report naming no partition).
 */
export function healStoryKey(violation: ViolationReport): { id: string } | null {
  if (violation.invariant === 'acked-fully-replicated') {
    if (violation.topic === undefined || violation.partition === undefined) return null;
    // Both its reports (an ISR short of the replicas, a replica short of the HW) tell one story.
    return { id: `replicated|${violation.topic}-${violation.partition}` };
  }
  const leaderless = violation.leaderless;
  if (leaderless !== undefined && violation.topic !== undefined) {
    // Partitions left offline the same way (the same replicas, the same ones that could lead) are
    // one shape; each is its own story.
    return { id: `offline|${violation.topic}-${violation.partition}` };
  }
  const broker = brokerOf(violation);
  return broker === null ? null : { id: `out-of-service|${broker}` };
}

export function healStory(
  id: string,
  violations: readonly ViolationReport[],
  events: readonly StoryEvent[],
  bugs: readonly BugName[],
): Story {
  const violation = violations[0] as ViolationReport;
  if (violation.invariant === 'acked-fully-replicated')
    return underReplicatedStory(id, violations, events, bugs);
  const leaderless = violation.leaderless;
  if (leaderless === undefined || violation.topic === undefined)
    return outOfServiceStory(id, violations, events, bugs);
  return leaderlessStory(id, violations, leaderless, events, bugs);
}

/** A partition without a leader after healing: who could lead it, and why none does. */
function leaderlessStory(
  id: string,
  violations: readonly ViolationReport[],
  leaderless: LeaderlessPartition,
  events: readonly StoryEvent[],
  bugs: readonly BugName[],
): Story {
  const violation = violations[0] as ViolationReport;
  const topic = violation.topic as string;
  const name = `${topic}-${violation.partition}`;
  const electable = electableOf(leaderless);
  const lines = [
    `${name} has no leader after healing: ${violation.invariant} (noticed at ${ms(violation.atMs)})`,
    `${label('at the end')}replicas [${leaderless.replicas.join(', ')}], ISR [${leaderless.isr.join(', ')}], ELR [${leaderless.elr.join(', ')}]${leaderless.lastKnownElr.length > 0 ? `, last known leader ${leaderless.lastKnownElr.join(', ')}` : ''}`,
    ...leaderLines(events, topic, violation.partition ?? -1, violation.atMs),
    whyLine(leaderless, electable, events, violation.atMs),
  ];
  // Those that could lead first, then the others, each with what became of it.
  const replicas = [
    ...electable,
    ...leaderless.replicas.filter((broker) => !electable.includes(broker)),
  ];
  for (const broker of replicas) lines.push(lifeLine(broker, events, violation.atMs));
  lines.push(...bugsOnLines(bugs));
  lines.push(...faultsOf(events, violation.atMs, leaderless.replicas));
  return {
    id,
    violations,
    label: name,
    lines,
    // The same replicas, and the same ones that could lead: left offline the same way.
    shape: `offline|${leaderless.replicas.join(',')}|${electable.join(',')}|${leaderless.uncleanLeaderElection}`,
    alike: (told) =>
      `left without a leader the same way as ${told.label}: the same replicas, and the same ones that could lead`,
  };
}

/** A partition some replica of which is behind after healing: which, and what became of each. */
function underReplicatedStory(
  id: string,
  violations: readonly ViolationReport[],
  events: readonly StoryEvent[],
  bugs: readonly BugName[],
): Story {
  const violation = violations[0] as ViolationReport;
  const topic = violation.topic as string;
  const partition = violation.partition as number;
  const name = `${topic}-${partition}`;
  const behind = [...new Set(violations.flatMap((each) => each.nodes ?? []))];
  const replicas = replicasOf(events, topic, partition, violation.atMs);
  const lines = [
    `${name} is not fully replicated after healing: ${violation.invariant} (noticed at ${ms(violation.atMs)})`,
    ...violations.map(
      (each, index) =>
        `${label(index === 0 ? 'at the end' : '')}${each.message.replace(/^[^:]*: /, '')}`,
    ),
    ...leaderLines(events, topic, partition, violation.atMs),
    isrLine(events, topic, partition, violation.atMs),
  ];
  // Those behind first, then the others.
  for (const broker of [...behind, ...replicas.filter((each) => !behind.includes(each))])
    lines.push(lifeLine(broker, events, violation.atMs));
  lines.push(...bugsOnLines(bugs));
  lines.push(...faultsOf(events, violation.atMs, [...new Set([...behind, ...replicas])]));
  return {
    id,
    violations,
    label: name,
    lines,
    shape: `replicated|${byId(behind).join(',')}|${byId(replicas).join(',')}`,
    alike: (told) =>
      `not fully replicated the same way as ${told.label}: the same replicas, the same ones behind`,
  };
}

/** The brokers that held the partition as leader or follower in the run, in the order they did. */
function replicasOf(
  events: readonly StoryEvent[],
  topic: string,
  partition: number,
  untilMs: number,
): string[] {
  const replicas: string[] = [];
  for (const event of events) {
    if (event.atMs > untilMs) break;
    if (
      (event.kind === 'replica.leader' || event.kind === 'replica.follower') &&
      !replicas.includes(event.node) &&
      aboutPartition(event, topic, partition)
    )
      replicas.push(event.node);
  }
  return replicas;
}

/** The partition's last ISR changes and proposals, as its leaders traced them. */
function isrLine(
  events: readonly StoryEvent[],
  topic: string,
  partition: number,
  untilMs: number,
): string {
  const told: string[] = [];
  for (const event of events) {
    if (event.atMs > untilMs) break;
    if (!aboutPartition(event, topic, partition)) continue;
    const text = isrText(event);
    if (text !== null) told.push(`${ms(event.atMs)} ${event.node}: ${text}`);
  }
  if (told.length === 0) return `${label('ISR')}no change in the run`;
  const shown = told.slice(-ISR_SHOWN_MAX);
  const earlier = told.length - shown.length;
  return `${label('ISR')}${earlier > 0 ? `(${earlier} earlier not shown) ` : ''}${shown.join('; ')}`;
}

function isrText(event: StoryEvent): string | null {
  switch (event.kind) {
    case 'replica.isr-changed':
      return `ISR now [${str(event, 'isr').split(',').join(', ')}]`;
    case 'replica.isr-shrink':
      return `${str(event, 'lagging')} lagging, shrink proposed`;
    case 'replica.isr-expand':
      return `${str(event, 'joining')} caught up, expand proposed`;
    case 'replica.isr-change-failed':
      return `ISR change refused (${str(event, 'error')})`;
    default:
      return null;
  }
}

/** A broker not registered, unfenced and running after healing: what became of it. */
function outOfServiceStory(
  id: string,
  violations: readonly ViolationReport[],
  events: readonly StoryEvent[],
  bugs: readonly BugName[],
): Story {
  const violation = violations[0] as ViolationReport;
  const broker = brokerOf(violation) ?? '?';
  // The active controller's word: the report's own (`… after healing (fenced)`).
  const word = /\(([^)]*)\)$/.exec(violation.message)?.[1] ?? 'not in service';
  const lines = [
    `${broker} is not back in service after healing: ${violation.invariant} (noticed at ${ms(violation.atMs)})`,
    `${label('at the end')}${word} in the active controller's metadata; the broker: ${statusAt(broker, events, violation.atMs)}`,
    lifeLine(broker, events, violation.atMs),
    ...bugsOnLines(bugs),
    ...faultsOf(events, violation.atMs, [broker]),
  ];
  return {
    id,
    violations,
    label: broker,
    lines,
    shape: id,
    alike: (told) => `the same way as ${told.label}`,
  };
}

/** The faults before `atMs`, those naming `nodes` first (no fault: no bug to blame either). */
function faultsOf(events: readonly StoryEvent[], atMs: number, nodes: readonly string[]): string[] {
  return faultLines(events, 0, atMs, new Set(nodes), [], {
    noFault: `${label('enabled by')}no fault`,
  });
}

/** The replicas Kafka could elect (unclean election off): ISR and ELR, or the last known leader. */
function electableOf(leaderless: LeaderlessPartition): readonly string[] {
  return leaderless.isr.length + leaderless.elr.length > 0
    ? [...leaderless.isr, ...leaderless.elr]
    : leaderless.lastKnownElr;
}

/** Who led the partition, as the brokers took it up (replica.leader), the last few. */
function leaderLines(
  events: readonly StoryEvent[],
  topic: string,
  partition: number,
  untilMs: number,
): string[] {
  const took = events.filter(
    (event) =>
      event.kind === 'replica.leader' &&
      event.atMs <= untilMs &&
      aboutPartition(event, topic, partition),
  );
  if (took.length === 0) return [`${label('leaders')}no broker took up its leadership in the run`];
  const shown = took.slice(-LEADERS_SHOWN_MAX).map((event) => {
    const until = leadershipEnd(events, event, took, untilMs);
    return `${event.node} in leader epoch ${num(event, 'leaderEpoch')} from ${ms(event.atMs)}${until}`;
  });
  const earlier = took.length - shown.length;
  return [
    `${label('leaders')}${shown.join('; ')}${earlier > 0 ? ` (${earlier} earlier not shown)` : ''}`,
  ];
}

/** How a broker's leadership of the partition ended: the next leader, or its own crash or stop. */
function leadershipEnd(
  events: readonly StoryEvent[],
  took: StoryEvent,
  leaders: readonly StoryEvent[],
  untilMs: number,
): string {
  const next = leaders.find((event) => event.atMs > took.atMs);
  const endMs = next?.atMs ?? untilMs;
  const end = events.find(
    (event) =>
      event.node === took.node &&
      event.atMs >= took.atMs &&
      event.atMs <= endMs &&
      (event.kind === 'node.crash' || event.kind === 'node.stopped'),
  );
  if (end !== undefined)
    return ` until ${ms(end.atMs)} (${end.kind === 'node.crash' ? `it crashed: ${str(end, 'crash')}` : 'it stopped'})`;
  return next === undefined ? '' : ` until ${ms(next.atMs)}`;
}

/** Why none of the replicas that could lead does. */
function whyLine(
  leaderless: LeaderlessPartition,
  electable: readonly string[],
  events: readonly StoryEvent[],
  atMs: number,
): string {
  const rule = leaderless.uncleanLeaderElection
    ? 'unclean leader election is on, yet no replica is registered, unfenced and running'
    : 'unclean leader election is off: the controller elects only an ISR member, with the ISR empty an ELR member (KIP-966), with both empty the last known leader, and only a broker registered, unfenced and running';
  if (electable.length === 0) return `${label('why')}${rule}; no replica is left that it may elect`;
  const states = electable.map((broker) => `${broker} ${statusAt(broker, events, atMs)}`);
  return `${label('why')}${rule}; ${electable.length === 1 ? 'the only one it may elect:' : 'those it may elect:'} ${states.join('; ')}`;
}

/** A story line's head: its label in a column of its own, as the other stories'. */
function label(name: string): string {
  return `  ${name.padEnd(10)} `;
}

/**
 * A broker's state at `atMs` as its events tell it: down since when, or up and the last word on
 * its fencing (a controller fencing it, or its own heartbeat answers; with two metadata leaders,
 * the broker's word and the active controller's may differ), and a removal asked.
 */
function statusAt(broker: string, events: readonly StoryEvent[], atMs: number): string {
  let up = true;
  let upSinceMs = 0;
  let downSinceMs = 0;
  let fencing: string | null = null;
  let removal: StoryEvent | null = null;
  for (const event of events) {
    if (event.atMs > atMs) break;
    if (event.node === broker) {
      if (event.kind === 'node.crash' || event.kind === 'node.stopped') {
        up = false;
        downSinceMs = event.atMs;
      } else if (event.kind === 'node.start') {
        up = true;
        upSinceMs = event.atMs;
        fencing = null;
      } else if (event.kind === 'broker.state')
        fencing = `${str(event, 'state') === 'running' ? 'unfenced' : 'fenced'} at ${ms(event.atMs)} (its heartbeat answer)`;
    } else if (event.kind === 'controller.session-expired' && str(event, 'broker') === broker) {
      fencing = `fenced at ${ms(event.atMs)} (by ${event.node}: its session expired)`;
    } else if (event.kind === 'operation.remove-broker' && str(event, 'broker') === broker) {
      removal = event;
    }
  }
  const removed = removal === null ? '' : ` (its removal asked at ${ms(removal.atMs)})`;
  if (!up) return `down since ${ms(downSinceMs)}${removed}`;
  const since = upSinceMs > 0 ? `up since ${ms(upSinceMs)}` : 'up';
  return `${since}, ${fencing ?? 'not yet unfenced'}${removed}`;
}

/** What became of a broker, its last events in words. */
function lifeLine(broker: string, events: readonly StoryEvent[], atMs: number): string {
  const told: string[] = [];
  for (const event of events) {
    if (event.atMs > atMs) break;
    const text = lifeText(broker, event);
    if (text !== null) told.push(`${ms(event.atMs)} ${text}`);
  }
  const shown = told.slice(-LIFE_SHOWN_MAX);
  const earlier = told.length - shown.length;
  const head = label(broker);
  if (shown.length === 0) return `${head}nothing happened to it: up and unfenced from the start`;
  return `${head}${earlier > 0 ? `(${earlier} earlier not shown) ` : ''}${shown.join('; ')}`;
}

/** One event of `broker`'s life in words, or null when it is not one. */
function lifeText(broker: string, event: StoryEvent): string | null {
  if (event.node === broker) {
    switch (event.kind) {
      case 'node.crash': {
        const lost = num(event, 'lostWrites');
        return `crashed (${str(event, 'crash')}${lost > 0 ? `, ${lost} unflushed writes lost` : ''})`;
      }
      case 'node.start':
        return str(event, 'after') === 'never-started' ? null : 'restarted';
      case 'broker.controlled-shutdown':
        return 'asked for a controlled shutdown';
      case 'node.stopped':
        return 'stopped';
      case 'broker.registered':
        return `registered (broker epoch ${num(event, 'brokerEpoch')})`;
      case 'broker.state':
        return str(event, 'state') === 'running' ? 'unfenced' : 'fenced';
      default:
        return null;
    }
  }
  if (event.kind === 'controller.session-expired' && str(event, 'broker') === broker)
    return `fenced by ${event.node}: no heartbeat within the session timeout`;
  if (event.kind === 'operation.remove-broker' && str(event, 'broker') === broker)
    return 'its removal asked (a controlled shutdown, then its unregistration)';
  if (event.kind === 'operation.remove-broker-retry' && str(event, 'broker') === broker)
    return `its unregistration failed (${str(event, 'error')}), asked again`;
  if (event.kind === 'operation.remove-broker-answered' && str(event, 'broker') === broker)
    return str(event, 'error') === 'NONE'
      ? 'unregistered'
      : `the controller answered the unregistration ${str(event, 'error')}, and the admin stopped asking`;
  return null;
}
