// What the stories of a run's violations share (scenarios/explain.ts, explain-records.ts,
// explain-metadata.ts): the trace event as a story keeps it, a story as the summary sees it, the
// line naming the bug switch whose mechanism a story shows, reading an event's fields, and the
// faults that enabled what a story tells. Pure: data in, lines out.

import { BUG_SWITCHES, type BugName } from '../sim/kafka/bugs.ts';
import type { TraceValue } from '../sim/kernel/trace.ts';
import type { ViolationReport } from './run.ts';
import { faultText } from './timeline.ts';

/** A trace event as the story keeps it (no index, fields copied). */
export interface StoryEvent {
  readonly atMs: number;
  readonly node: string;
  readonly kind: string;
  readonly fields: Readonly<Record<string, TraceValue>>;
}

/** One story: the kept violations it tells, its lines, and how the summary names it. */
export interface Story {
  readonly id: string;
  readonly violations: readonly ViolationReport[];
  /** What the summary calls it: `p1-0`, `c2-3-2 at offset 46`, `two leaders in metadata epoch 2`. */
  readonly label: string;
  readonly lines: readonly string[];
  /** Stories of one shape happened the same way: the first is told for all. */
  readonly shape: string;
  /** How a story of the same shape as `told` is alike, for the summary. */
  readonly alike: (told: Story) => string;
}

/** `a, b, c`, or the first `shownMax` and how many more. */
export function listed(items: readonly string[], shownMax = 6): string {
  if (items.length <= shownMax) return items.join(', ');
  return `${items.slice(0, shownMax).join(', ')} and ${items.length - shownMax} more`;
}

// ---- bug switches ----------------------------------------------------------------------------

/** `  bug  <what> is what --bug <name> switches back on: <what the switch does> (<source>)`. */
export function bugLine(name: BugName, what: string): string {
  const bug = BUG_SWITCHES.find((each) => each.name === name);
  return `  bug        ${what} is what --bug ${name} switches back on: ${bug?.description ?? ''} (${bug?.source ?? ''})`;
}

/** When no line named the mechanism: each switch that was on, and what it does. */
export function bugsOnLines(bugs: readonly BugName[]): string[] {
  return bugs.map((name) => {
    const bug = BUG_SWITCHES.find((each) => each.name === name);
    return `  bug        --bug ${name} was on (${bug?.description ?? ''}; ${bug?.source ?? ''}); this story does not show where it acted`;
  });
}

// ---- helpers ---------------------------------------------------------------------------------

/** Whether `event` is a truncation (of `kind`) that removed `offset`. */
export function truncates(event: StoryEvent, kind: string, offset: number): boolean {
  return event.kind === kind && num(event, 'to') <= offset && offset < num(event, 'from');
}

/** A crash that can have lost unflushed data (a kill loses none; nor a crash that lost 0 records). */
export function lossyCrash(event: StoryEvent): boolean {
  return (
    event.kind === 'node.crash' && str(event, 'crash') !== 'kill' && num(event, 'lostWrites') !== 0
  );
}

/** The last event of `node` at or before `atMs` that `matches` (events are in time order). */
export function lastEventBefore(
  events: readonly StoryEvent[],
  node: string,
  atMs: number,
  matches: (event: StoryEvent) => boolean,
): StoryEvent | null {
  let found: StoryEvent | null = null;
  for (const event of events) {
    if (event.atMs > atMs) break;
    if (event.node === node && matches(event)) found = event;
  }
  return found;
}

/**
 * Whether `event` is about partition `partition` of topic `topic`: trace keys are
 * `topicId-partition`, and a topic id is the topic's name and a number (`orders-7-0`).
 */
export function aboutPartition(event: StoryEvent, topic: string, partition: number): boolean {
  const match = PARTITION_KEY.exec(str(event, 'partition'));
  return match !== null && match[1] === topic && Number(match[2]) === partition;
}

const PARTITION_KEY = /^(.*)-\d+-(\d+)$/;

export function num(event: StoryEvent, field: string): number {
  const value = event.fields[field];
  return typeof value === 'number' ? value : Number.NaN;
}

export function str(event: StoryEvent, field: string): string {
  const value = event.fields[field];
  return value === undefined || value === null ? '' : String(value);
}

export function ms(atMs: number): string {
  return `${atMs} ms`;
}

// ---- the faults behind a story ---------------------------------------------------------------

/**
 * The role step a fault came from, if it waited for its role: ` (the step waiting for
 * @voted-controller from 8960 ms)`. The step's event comes just before the fault's own, at the
 * same time.
 */
function stepOf(events: readonly StoryEvent[], fault: StoryEvent): string {
  const index = events.indexOf(fault);
  for (let before = index - 1; before >= 0; before--) {
    const event = events[before] as StoryEvent;
    if (event.atMs !== fault.atMs) return '';
    if (event.kind !== 'fault.step') continue;
    const roles = str(event, 'roles')
      .split(',')
      .map((pair) => pair.split('=')[0])
      .join(', ');
    // Only a step that waited for its moment: the others fired at their time on the node named.
    const sinceMs = num(event, 'sinceMs');
    return sinceMs < fault.atMs ? ` (the step waiting for ${roles} from ${ms(sinceMs)})` : '';
  }
  return '';
}

const FAULTS_SHOWN_MAX = 6;
/** A schedule of at most this many faults (a shrunk one: five bounces) is shown whole. */
const FAULTS_ALL_SHOWN_MAX = 10;

/**
 * The faults that enabled the loss: a small schedule's every fault before `untilMs` (which of them
 * mattered is the reader's to judge, or shrink's); else those in the window naming an involved
 * node, else the last few, and how many are not shown.
 * With `preferTouching`, of those, the ones that touched the involved replicas themselves (a crash,
 * restart or isolation of one, a partition or clog between two) when there are any, over those that
 * only cut one off from a controller.
 */
export function faultLines(
  events: readonly StoryEvent[],
  fromMs: number,
  untilMs: number,
  involved: ReadonlySet<string>,
  keyTimes: readonly number[],
  options: {
    readonly preferTouching?: boolean;
    /** The line when no fault is shown (default: the bug alone did it). */
    readonly noFault?: string;
  } = {},
): string[] {
  const faults = events.filter(
    (event) =>
      event.kind.startsWith('fault.') &&
      event.atMs <= untilMs &&
      ![
        'fault.heal',
        'fault.unslow',
        'fault.release-all',
        'fault.resume',
        'fault.skip',
        'fault.step',
      ].includes(event.kind),
  );
  const named = faults.filter(
    (event) =>
      event.atMs >= fromMs &&
      Object.values(event.fields).some(
        (field) =>
          typeof field === 'string' &&
          [...involved].some((node) => new RegExp(`\\b${node}\\b`).test(field)),
      ),
  );
  const touching = options.preferTouching
    ? named.filter((event) => touches(event, involved, activeController(events, event.atMs)))
    : [];
  // A schedule this small (a shrunk one) is shown whole: which of its faults mattered is for the
  // reader, not for a guess by name.
  const pool =
    faults.length <= FAULTS_ALL_SHOWN_MAX
      ? faults
      : touching.length > 0
        ? touching
        : named.length > 0
          ? named
          : faults;
  // The faults at the moments of loss first, then the most recent others, shown in time order.
  const key = pool.filter((event) => keyTimes.includes(event.atMs));
  const others = pool.filter((event) => !keyTimes.includes(event.atMs));
  const shownMax = faults.length <= FAULTS_ALL_SHOWN_MAX ? FAULTS_ALL_SHOWN_MAX : FAULTS_SHOWN_MAX;
  const kept = new Set([...key, ...others.slice(-Math.max(0, shownMax - key.length))]);
  const chosen = pool.filter((event) => kept.has(event));
  if (chosen.length === 0) return [options.noFault ?? '  enabled by no fault (the bug alone)'];
  const lines = chosen.map(
    (event, index) =>
      `  ${(index === 0 ? 'enabled by' : '').padEnd(10)} ${ms(event.atMs)} ${faultText(event.kind, event.fields)}${stepOf(events, event)}`,
  );
  const left = faults.length - chosen.length;
  if (left > 0)
    lines.push(
      `  ${''.padEnd(10)} (${left} other fault${left === 1 ? '' : 's'} before it not shown: the timeline lists every one, and kafkasim shrink keeps only those the failure needs)`,
    );
  return lines;
}

/** The metadata leader (the active controller) at `atMs`: the last to become leader by then. */
function activeController(events: readonly StoryEvent[], atMs: number): string | null {
  let found: string | null = null;
  for (const event of events) {
    if (event.atMs > atMs) break;
    if (event.kind === 'raft.role' && str(event, 'role') === 'leader') found = event.node;
  }
  return found;
}

/**
 * Whether a fault touched the involved nodes themselves: aimed at one of them alone (a crash,
 * restart, isolation, pause or slowdown), or with involved nodes on two of its sides (a partition's
 * groups, a clog's source and target), or an involved node on one and the active controller on
 * another (it can fence the node, or keep its ISR change from landing).
 */
function touches(
  event: StoryEvent,
  involved: ReadonlySet<string>,
  controller: string | null,
): boolean {
  const nodesOf = (field: string) =>
    str(event, field)
      .split(',')
      .map((node) => node.trim())
      .filter((node) => involved.has(node));
  const sides =
    event.fields['groups'] !== undefined
      ? str(event, 'groups').split('|')
      : event.fields['sources'] !== undefined
        ? [str(event, 'sources'), str(event, 'targets')]
        : event.fields['source'] !== undefined
          ? [str(event, 'source'), str(event, 'target')]
          : null;
  if (sides === null) return nodesOf('target').length > 0;
  const nodesOfSide = (side: string) => side.split(',').map((node) => node.trim());
  const withInvolved = sides.filter((side) => nodesOfSide(side).some((node) => involved.has(node)));
  // An involved node on one side and the active controller on another: it can fence the node.
  const withController = sides.filter(
    (side) => !withInvolved.includes(side) && nodesOfSide(side).includes(controller ?? ''),
  );
  return withInvolved.length >= 2 || (withInvolved.length === 1 && withController.length > 0);
}
