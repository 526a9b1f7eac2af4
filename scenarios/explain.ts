// The story of a lost record, for `kafkasim repro`: from a run's trace events and history, how a
// record that broke acked-write-durable, committed-read-stable or committed-prefix-agrees came to
// be lost. Produced (when, by whom, with which acks), appended where, committed (the first HW that
// covered it), acknowledged (with the ISR at that moment), then every replica that held it losing
// it: truncated, and why (the reason and the leader epoch it followed), or lost in a crash; the
// election that made the loss permanent (a leader that lacked it); and the faults that enabled it.
// Pure: data in, lines out. The events come from a bounded collector (`StoryEvents`).

import type { HistoryEntry } from '../sim/kafka/clients/history.ts';
import type { TraceEvent, TraceValue } from '../sim/kernel/trace.ts';
import type { ViolationReport } from './run.ts';

/** The invariants whose violations name a lost record. */
export const RECORD_LOSS_INVARIANTS = [
  'acked-write-durable',
  'committed-read-stable',
  'committed-prefix-agrees',
] as const;

/** The trace event kinds a story reads (everything else is left out of the collector). */
const STORY_KINDS = new Set([
  'replica.append',
  'replica.truncate',
  'replica.leader',
  'replica.follower',
  'replica.isr-changed',
  'node.crash',
  'node.start',
  'controller.session-expired',
  'raft.role',
  'raft.voted',
  'raft.truncate',
  'raft.resign',
]);

/** A trace event as the story keeps it (no index, fields copied). */
export interface StoryEvent {
  readonly atMs: number;
  readonly node: string;
  readonly kind: string;
  readonly fields: Readonly<Record<string, TraceValue>>;
}

/** Collects the events a story needs, up to `eventsMax`; past it, counts what it dropped. */
export class StoryEvents {
  readonly events: StoryEvent[] = [];
  readonly eventsMax: number;
  dropped = 0;

  constructor(eventsMax = 200_000) {
    this.eventsMax = eventsMax;
  }

  /** The trace sink: keep the event if the story reads its kind and the bound allows. */
  readonly sink = (event: TraceEvent): void => {
    if (!STORY_KINDS.has(event.kind) && !event.kind.startsWith('fault.')) return;
    if (this.events.length >= this.eventsMax) {
      this.dropped++;
      return;
    }
    this.events.push({
      atMs: event.atMs,
      node: event.node,
      kind: event.kind,
      fields: { ...(event.fields ?? {}) },
    });
  };
}

export interface ExplainInput {
  readonly violations: readonly ViolationReport[];
  readonly events: readonly StoryEvent[];
  readonly history: readonly HistoryEntry[];
  /** Events the collector dropped past its bound (the story may then be incomplete). */
  readonly droppedEvents?: number;
  /** Stories told at most (one per lost record); the rest are counted. */
  readonly storiesMax?: number;
}

/**
 * One story per lost record named by a record-loss violation, per committed metadata entry lost
 * (raft-log-matching) and per metadata epoch with two leaders (raft-election-safety), as lines
 * (no colour).
 */
export function explainViolations(input: ExplainInput): string[] {
  const storiesMax = input.storiesMax ?? 3;
  const seen = new Set<string>();
  const stories: (() => string[])[] = [];
  for (const violation of input.violations) {
    const story = storyOf(violation, input);
    if (story === null || seen.has(story.id)) continue;
    seen.add(story.id);
    stories.push(story.tell);
  }
  if (stories.length === 0) return [];
  const lines: string[] = [];
  for (const tell of stories.slice(0, storiesMax)) {
    if (lines.length > 0) lines.push('');
    lines.push(...tell());
  }
  if (stories.length > storiesMax)
    lines.push(
      '',
      `… and ${stories.length - storiesMax} more lost record(s) or broken election(s), each the same way or alike`,
    );
  if ((input.droppedEvents ?? 0) > 0)
    lines.push(
      `(the story collector kept its first ${input.events.length} events and dropped ${input.droppedEvents}: later events may be missing)`,
    );
  return lines;
}

/** The story a violation has, with an id shared by the violations that tell the same one. */
function storyOf(
  violation: ViolationReport,
  input: ExplainInput,
): { id: string; tell: () => string[] } | null {
  const { value, offset } = violation;
  if ((RECORD_LOSS_INVARIANTS as readonly string[]).includes(violation.invariant)) {
    if (value === undefined || offset === undefined) return null;
    return {
      id: `${violation.topic}-${violation.partition}|${offset}|${value}`,
      tell: () => explainLoss(violation, input.events, input.history),
    };
  }
  if (violation.invariant === 'raft-log-matching') {
    if (value === undefined || offset === undefined) return null;
    return {
      id: `metadata|${offset}|${value}`,
      tell: () => explainMetadataLoss(violation, input.events),
    };
  }
  if (violation.invariant === 'metadata-staleness-bounded') {
    const stale = staleLeaders(input.events, violation.atMs);
    if (stale.length === 0) return null;
    return {
      id: `stale|${stale.map((leader) => `${leader.node}@${num(leader, 'epoch')}`).join(',')}`,
      tell: () => explainStaleMetadata(violation, input.events),
    };
  }
  if (violation.invariant === 'raft-election-safety' && violation.nodes?.length === 2) {
    if (violation.epoch === undefined) return null;
    return {
      id: `election|${violation.epoch}`,
      tell: () => explainTwoLeaders(violation, input.events),
    };
  }
  return null;
}

/** Whether `event` is a truncation (of `kind`) that removed `offset`. */
function truncates(event: StoryEvent, kind: string, offset: number): boolean {
  return event.kind === kind && num(event, 'to') <= offset && offset < num(event, 'from');
}

function num(event: StoryEvent, field: string): number {
  const value = event.fields[field];
  return typeof value === 'number' ? value : Number.NaN;
}

function str(event: StoryEvent, field: string): string {
  const value = event.fields[field];
  return value === undefined || value === null ? '' : String(value);
}

/** Is this event about the violation's partition? (Trace keys are `topicId-partition`, topic ids `name-N`.) */
function aboutPartition(event: StoryEvent, topic: string, partition: number): boolean {
  const key = str(event, 'partition');
  return key.startsWith(`${topic}-`) && key.endsWith(`-${partition}`);
}

/** How each holder lost it, from the checker's message: `(b1: truncation, b2: lossy-crash)`. */
function ms(atMs: number): string {
  return `${atMs} ms`;
}

/** One lost record's story. */
export function explainLoss(
  violation: ViolationReport,
  events: readonly StoryEvent[],
  history: readonly HistoryEntry[],
): string[] {
  const value = violation.value as string;
  const offset = violation.offset as number;
  const topic = violation.topic ?? '';
  const partition = violation.partition ?? 0;
  const mine = events.filter((event) =>
    !event.kind.startsWith('fault.') && event.kind !== 'node.crash'
      ? aboutPartition(event, topic, partition) ||
        event.kind === 'node.start' ||
        event.kind === 'controller.session-expired'
      : true,
  );
  const lines = [
    `${value} at ${topic}-${partition} offset ${offset}: ${violation.invariant} (noticed at ${ms(violation.atMs)})`,
  ];
  const invoke = history.find(
    (entry) => entry.f === 'send' && entry.type === 'invoke' && entry.value === value,
  );
  const ok = history.find(
    (entry) => entry.f === 'send' && entry.type === 'ok' && entry.value === value,
  );
  lines.push(
    invoke === undefined
      ? '  produced   (no send of it in the history)'
      : `  produced   at ${ms(invoke.atMs)} by ${invoke.process} with acks=${invoke.acks ?? 'all'}`,
  );
  const untilMs = ok?.atMs ?? violation.atMs;
  const appends = mine.filter(
    (event) =>
      event.kind === 'replica.append' &&
      event.atMs <= untilMs &&
      num(event, 'baseOffset') <= offset &&
      offset < num(event, 'baseOffset') + num(event, 'records'),
  );
  const append = appends[appends.length - 1];
  if (append !== undefined) {
    const epoch = leaderEpochAt(mine, append.node, append.atMs);
    lines.push(
      `  appended   at ${ms(append.atMs)} by leader ${append.node}${epoch === null ? '' : ` (leader epoch ${epoch})`}${str(append, 'duplicate') === 'true' ? ' (a retried duplicate)' : ''}`,
    );
  }
  const committedAtMs = violation.committedAtMs ?? Number.NaN;
  lines.push(
    Number.isNaN(committedAtMs)
      ? '  committed  (time unknown)'
      : `  committed  at ${ms(committedAtMs)}: the first high watermark past offset ${offset}`,
  );
  if (ok !== undefined) {
    const isr = isrAt(mine, ok.atMs);
    lines.push(
      `  acked      at ${ms(ok.atMs)} to ${ok.process} at offset ${ok.offset ?? '?'}, ISR then ${isr === null ? 'unknown' : `[${isr.members}] (${isr.source})`}`,
    );
  } else
    lines.push('  acked      never (a record a consumer could read, or another replica covered)');
  const sinceMs = Number.isNaN(committedAtMs) ? (append?.atMs ?? 0) : committedAtMs;
  const causes = new Map(Object.entries(violation.holders ?? {}));
  const holders = violation.nodes ?? [...causes.keys()];
  const losses = holders.map((holder) => ({
    holder,
    ...lossOf(mine, holder, offset, append?.atMs ?? 0, causes.get(holder)),
  }));
  const lossTimes = losses.flatMap((loss) => (loss.atMs === null ? [] : [loss.atMs]));
  // In the order they happened (a loss without an event last).
  const ordered = losses.toSorted(
    (a, b) => (a.atMs ?? Number.POSITIVE_INFINITY) - (b.atMs ?? Number.POSITIVE_INFINITY),
  );
  for (const loss of ordered) lines.push(`  ${loss.holder.padEnd(10)} ${loss.text}`);
  const election = permanentElection(mine, offset, sinceMs, losses);
  if (election !== null) lines.push(`  permanent  ${election.text}`);
  else if (lossTimes.length === losses.length && lossTimes.length > 0)
    lines.push(
      `  permanent  at ${ms(Math.max(...lossTimes))}, when the last replica that held it lost it (no leader after the commit ever had it back)`,
    );
  const decisiveMs = Math.max(election?.atMs ?? 0, ...lossTimes, sinceMs);
  const involved = new Set([...holders, ...(election === null ? [] : [election.node])]);
  const keyTimes = [...lossTimes, ...(election === null ? [] : [election.atMs])];
  lines.push(
    ...faultLines(events, (append?.atMs ?? sinceMs) - 15_000, decisiveMs, involved, keyTimes),
  );
  return lines;
}

/** The leader epoch `node` led or followed at `atMs`. */
function leaderEpochAt(events: readonly StoryEvent[], node: string, atMs: number): number | null {
  let epoch: number | null = null;
  for (const event of events) {
    if (event.atMs > atMs) break;
    if (
      event.node === node &&
      (event.kind === 'replica.leader' || event.kind === 'replica.follower')
    )
      epoch = num(event, 'leaderEpoch');
  }
  return epoch;
}

/** The ISR the leader last announced at or before `atMs` (an ISR change or a leader start). */
function isrAt(
  events: readonly StoryEvent[],
  atMs: number,
): { members: string; source: string } | null {
  let found: { members: string; source: string } | null = null;
  for (const event of events) {
    if (event.atMs > atMs) break;
    if (event.kind === 'replica.isr-changed')
      found = {
        members: str(event, 'isr').replaceAll(',', ', '),
        source: `${event.node}'s ISR change at ${ms(event.atMs)}`,
      };
    if (event.kind === 'replica.leader')
      found = {
        members: str(event, 'isr').replaceAll(',', ', '),
        source: `${event.node} leading epoch ${num(event, 'leaderEpoch')} since ${ms(event.atMs)}`,
      };
  }
  return found;
}

/** How `holder` lost the record: the truncation that removed it, or the crash. */
function lossOf(
  events: readonly StoryEvent[],
  holder: string,
  offset: number,
  afterMs: number,
  cause: string | undefined,
): { text: string; atMs: number | null } {
  for (const event of events) {
    if (event.node !== holder || event.atMs < afterMs) continue;
    if (truncates(event, 'replica.truncate', offset)) {
      const follow = lastBefore(events, holder, event.atMs, 'replica.follower');
      const named = follow === null ? '-' : str(follow, 'leader');
      const leader =
        follow === null
          ? 'its leader'
          : `${named === '-' ? 'no leader yet' : `leader ${named}`} in leader epoch ${num(follow, 'leaderEpoch')}`;
      return {
        text: `truncated it at ${ms(event.atMs)}, following ${leader}: reason ${str(event, 'reason')} (log ${num(event, 'from')} → ${num(event, 'to')})`,
        atMs: event.atMs,
      };
    }
    const lossy = str(event, 'crash') !== 'kill';
    if (
      event.kind === 'node.crash' &&
      (cause === 'restart' || (cause === 'lossy-crash' && lossy))
    ) {
      const lost = num(event, 'lostRecords');
      return {
        text: `lost it in a ${str(event, 'crash')} crash at ${ms(event.atMs)}${Number.isNaN(lost) ? '' : ` (${lost} unflushed records lost)`}`,
        atMs: event.atMs,
      };
    }
  }
  return {
    text: cause === undefined ? 'lost it (no event found)' : `lost it: ${cause}`,
    atMs: null,
  };
}

function lastBefore(
  events: readonly StoryEvent[],
  node: string,
  atMs: number,
  kind: string,
): StoryEvent | null {
  let found: StoryEvent | null = null;
  for (const event of events) {
    if (event.atMs > atMs) break;
    if (event.node === node && event.kind === kind) found = event;
  }
  return found;
}

/**
 * The election that made the loss permanent: the first leader after the commit whose log lacked
 * the record (its log ended at or before the offset, or it had already lost it).
 */
function permanentElection(
  events: readonly StoryEvent[],
  offset: number,
  sinceMs: number,
  losses: readonly { readonly holder: string; readonly atMs: number | null }[],
): { text: string; atMs: number; node: string } | null {
  for (const event of events) {
    if (event.kind !== 'replica.leader' || event.atMs < sinceMs) continue;
    const short = num(event, 'logEndOffset') <= offset;
    const lostAtMs = losses.find((loss) => loss.holder === event.node)?.atMs ?? null;
    const lostBefore = lostAtMs !== null && lostAtMs <= event.atMs;
    if (!short && !lostBefore) continue;
    return {
      text: `at ${ms(event.atMs)} ${event.node} became leader of epoch ${num(event, 'leaderEpoch')} without it (log end ${num(event, 'logEndOffset')} ≤ offset ${offset}, ISR [${str(event, 'isr').replaceAll(',', ', ')}]): the others follow it and drop the record`,
      atMs: event.atMs,
      node: event.node,
    };
  }
  return null;
}

const FAULTS_SHOWN_MAX = 6;

/** The faults that enabled the loss: those in the window naming an involved node, else the last few. */
function faultLines(
  events: readonly StoryEvent[],
  fromMs: number,
  untilMs: number,
  involved: ReadonlySet<string>,
  keyTimes: readonly number[],
): string[] {
  const faults = events.filter(
    (event) =>
      event.kind.startsWith('fault.') &&
      event.atMs <= untilMs &&
      !['fault.heal', 'fault.unslow', 'fault.release-all'].includes(event.kind),
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
  const pool = named.length > 0 ? named : faults;
  // The faults at the moments of loss first, then the most recent others, shown in time order.
  const key = pool.filter((event) => keyTimes.includes(event.atMs));
  const others = pool.filter((event) => !keyTimes.includes(event.atMs));
  const kept = new Set([...key, ...others.slice(-Math.max(0, FAULTS_SHOWN_MAX - key.length))]);
  const chosen = pool.filter((event) => kept.has(event));
  if (chosen.length === 0) return ['  enabled by no fault (the bug alone)'];
  return chosen.map(
    (event, index) =>
      `  ${(index === 0 ? 'enabled by' : '').padEnd(10)} ${ms(event.atMs)} ${event.kind.slice('fault.'.length)} ${Object.entries(
        event.fields,
      )
        .map(([key, field]) => `${key}=${String(field)}`)
        .join(' ')}`,
  );
}

// ---- the metadata quorum ---------------------------------------------------------------------

/** The voters: the nodes whose Raft node ever did more than observe. */
function votersIn(events: readonly StoryEvent[]): string[] {
  const voters = new Set<string>();
  for (const event of events) {
    if (event.kind === 'raft.voted') voters.add(event.node);
    if (event.kind === 'raft.role' && str(event, 'role') !== 'observer') voters.add(event.node);
  }
  // By id, c2 before c10.
  return [...voters].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
}

/** Who voted for `candidate` in `epoch`, with when. */
function votesFor(events: readonly StoryEvent[], candidate: string, epoch: number): string {
  const votes = events.filter(
    (event) =>
      event.kind === 'raft.voted' &&
      str(event, 'candidate') === candidate &&
      num(event, 'epoch') === epoch,
  );
  return votes.length === 0
    ? 'its own vote alone'
    : votes.map((vote) => `${vote.node} (${ms(vote.atMs)})`).join(', ');
}

/** The event of `node` becoming the metadata leader of `epoch` (of any epoch: null). */
function becameLeader(
  events: readonly StoryEvent[],
  node: string,
  epoch: number | null,
): StoryEvent | undefined {
  return events.find(
    (event) =>
      event.kind === 'raft.role' &&
      event.node === node &&
      str(event, 'role') === 'leader' &&
      (epoch === null || num(event, 'epoch') === epoch),
  );
}

/** The event of `node` last becoming a follower at or before `atMs`. */
function followedEvent(
  events: readonly StoryEvent[],
  node: string,
  atMs: number,
): StoryEvent | null {
  let found: StoryEvent | null = null;
  for (const event of events) {
    if (event.atMs > atMs) break;
    if (event.node === node && event.kind === 'raft.role' && str(event, 'role') === 'follower')
      found = event;
  }
  return found;
}

/** The leader `node` last followed at or before `atMs`: `c3 in epoch 7`. */
function followedAt(events: readonly StoryEvent[], node: string, atMs: number): string {
  const found = followedEvent(events, node, atMs);
  return found === null ? 'its leader' : `${str(found, 'leader')} in epoch ${num(found, 'epoch')}`;
}

/** The metadata leader of the highest epoch elected at or before `atMs` (it may have lost it since). */
function leaderAt(events: readonly StoryEvent[], atMs: number): StoryEvent | null {
  let found: StoryEvent | null = null;
  for (const event of events) {
    if (event.atMs > atMs) break;
    if (
      event.kind === 'raft.role' &&
      str(event, 'role') === 'leader' &&
      (found === null || num(event, 'epoch') > num(found, 'epoch'))
    )
      found = event;
  }
  return found;
}

/**
 * A committed metadata entry lost: who appended it (the entry id names the leader and its epoch),
 * when it was committed, how each voter lost it (a truncation following which leader, or a crash),
 * the election that made the loss permanent (a leader whose log ended before it), with its votes,
 * and the faults that enabled it.
 */
export function explainMetadataLoss(
  violation: ViolationReport,
  events: readonly StoryEvent[],
): string[] {
  const id = violation.value as string;
  const offset = violation.offset as number;
  const lines = [
    `${id} at metadata offset ${offset}: ${violation.invariant} (noticed at ${ms(violation.atMs)})`,
  ];
  const [, appender, epochText] = /^(.+)-(\d+)-\d+$/.exec(id) ?? [];
  const leaderChange = /^leader-change:(.+)$/.exec(id)?.[1];
  const by = appender ?? leaderChange;
  const epoch = epochText === undefined ? (violation.epoch ?? null) : Number(epochText);
  const since = by === undefined ? undefined : becameLeader(events, by, epoch);
  lines.push(
    by === undefined
      ? '  appended   (by whom unknown)'
      : `  appended   by ${by}${epoch === null ? '' : `, leader of epoch ${epoch}`}${since === undefined ? '' : ` since ${ms(since.atMs)}`}${leaderChange === undefined ? '' : ' (its leader-change entry)'}`,
  );
  const committedAtMs = violation.committedAtMs ?? Number.NaN;
  const committer = Number.isNaN(committedAtMs) ? null : leaderAt(events, committedAtMs);
  lines.push(
    Number.isNaN(committedAtMs)
      ? '  committed  (time unknown)'
      : `  committed  at ${ms(committedAtMs)}: the quorum's high watermark passed offset ${offset}${committer === null ? '' : ` (the leader then: ${committer.node} in epoch ${num(committer, 'epoch')})`}`,
  );
  const sinceMs = Number.isNaN(committedAtMs) ? (since?.atMs ?? 0) : committedAtMs;
  const holders = new Set(violation.nodes ?? []);
  const lossTimes: number[] = [];
  const involved = new Set<string>(holders);
  const voterLines: { atMs: number; text: string }[] = [];
  for (const voter of votersIn(events)) {
    if (holders.has(voter)) {
      voterLines.push({ atMs: Number.POSITIVE_INFINITY, text: `  ${voter.padEnd(10)} holds it` });
      continue;
    }
    const lost = events.find(
      (event) =>
        event.node === voter &&
        event.atMs >= sinceMs &&
        event.atMs <= violation.atMs &&
        (truncates(event, 'raft.truncate', offset) ||
          (event.kind === 'node.crash' && str(event, 'crash') !== 'kill')),
    );
    if (lost === undefined) {
      voterLines.push({
        atMs: Number.POSITIVE_INFINITY,
        text: `  ${voter.padEnd(10)} never had it (or lost it before the commit)`,
      });
      continue;
    }
    involved.add(voter);
    lossTimes.push(lost.atMs);
    voterLines.push({
      atMs: lost.atMs,
      text:
        lost.kind === 'raft.truncate'
          ? `  ${voter.padEnd(10)} truncated it at ${ms(lost.atMs)}, following ${followedAt(events, voter, lost.atMs)}: its log ${num(lost, 'from')} → ${num(lost, 'to')} (diverging from epoch ${num(lost, 'epoch')})`
          : `  ${voter.padEnd(10)} may have lost it in a ${str(lost, 'crash')} crash at ${ms(lost.atMs)} (its unflushed log)`,
    });
  }
  voterLines.sort((a, b) => a.atMs - b.atMs);
  lines.push(...voterLines.map((line) => line.text));
  // The leader the first truncation followed; else the first leader whose log ended before it.
  const firstTruncation = events.find(
    (event) =>
      truncates(event, 'raft.truncate', offset) &&
      event.atMs >= sinceMs &&
      event.atMs <= violation.atMs &&
      !holders.has(event.node),
  );
  const followed =
    firstTruncation === undefined
      ? null
      : followedEvent(events, firstTruncation.node, firstTruncation.atMs);
  const election =
    (followed === null
      ? undefined
      : becameLeader(events, str(followed, 'leader'), num(followed, 'epoch'))) ??
    events.find(
      (event) =>
        event.kind === 'raft.role' &&
        str(event, 'role') === 'leader' &&
        event.atMs >= sinceMs &&
        num(event, 'epochStartOffset') <= offset,
    );
  if (election !== undefined) {
    const electedEpoch = num(election, 'epoch');
    involved.add(election.node);
    // Votes for it from voters whose own log was more up to date (Raft §5.4.1 refuses those).
    const behind = events
      .filter(
        (event) =>
          event.kind === 'raft.voted' &&
          str(event, 'candidate') === election.node &&
          num(event, 'epoch') === electedEpoch &&
          (num(event, 'candidateLastEpoch') < num(event, 'lastEpoch') ||
            (num(event, 'candidateLastEpoch') === num(event, 'lastEpoch') &&
              num(event, 'candidateEndOffset') < num(event, 'endOffset'))),
      )
      .map(
        (event) =>
          `${event.node} (its log: last epoch ${num(event, 'lastEpoch')}, end ${num(event, 'endOffset')}; the candidate's: ${num(event, 'candidateLastEpoch')}, ${num(event, 'candidateEndOffset')})`,
      );
    lines.push(
      `  permanent  at ${ms(election.atMs)} ${election.node} became leader of epoch ${electedEpoch} without it (its log ended at ${num(election, 'epochStartOffset')}), voted for by ${votesFor(events, election.node, electedEpoch)}: every voter that follows it drops the entry`,
    );
    if (behind.length > 0)
      lines.push(
        `             votes for a log less up to date than the voter's own, which Raft refuses (§5.4.1): ${behind.join('; ')}`,
      );
    else if (
      num(election, 'epochStartOffset') > offset &&
      epoch !== null &&
      committer !== null &&
      num(committer, 'epoch') > epoch
    )
      lines.push(
        `             rightful votes (no voter's log was more up to date): the fault is the commit, by the leader of epoch ${num(committer, 'epoch')} counting replicas of an entry of epoch ${epoch}; Raft commits an older epoch's entries only with one of the leader's own epoch after them (§5.4.2)`,
      );
  }
  const decisiveMs = Math.max(election?.atMs ?? 0, ...lossTimes, sinceMs);
  const keyTimes = [...lossTimes, ...(election === undefined ? [] : [election.atMs])];
  lines.push(...faultLines(events, sinceMs - 15_000, decisiveMs, involved, keyTimes));
  return lines;
}

/**
 * Two leaders in one metadata epoch: each with the votes it had, the voter that granted two votes
 * in that epoch and what happened to it between them (a crash that lost an unflushed vote), and
 * the faults that enabled it.
 */
export function explainTwoLeaders(
  violation: ViolationReport,
  events: readonly StoryEvent[],
): string[] {
  const epoch = violation.epoch as number;
  const lines = [
    `two leaders in metadata epoch ${epoch}: ${violation.invariant} (noticed at ${ms(violation.atMs)})`,
  ];
  const leaders = (violation.nodes ?? []).map((node) => ({
    node,
    event: becameLeader(events, node, epoch),
  }));
  for (const { node, event } of leaders)
    lines.push(
      `  ${node.padEnd(10)} became leader${event === undefined ? '' : ` at ${ms(event.atMs)}`}, voted for by ${votesFor(events, node, epoch)}`,
    );
  const involved = new Set(violation.nodes ?? []);
  const keyTimes: number[] = [];
  const votes = events.filter(
    (event) => event.kind === 'raft.voted' && num(event, 'epoch') === epoch,
  );
  for (const voter of new Set(votes.map((vote) => vote.node))) {
    const mine = votes.filter((vote) => vote.node === voter);
    const candidates = new Set(mine.map((vote) => str(vote, 'candidate')));
    if (candidates.size < 2) continue;
    const [first, second] = mine as [StoryEvent, StoryEvent];
    const crash = events.find(
      (event) =>
        event.kind === 'node.crash' &&
        event.node === voter &&
        event.atMs >= first.atMs &&
        event.atMs <= second.atMs,
    );
    involved.add(voter);
    if (crash !== undefined) keyTimes.push(crash.atMs);
    lines.push(
      `  ${voter.padEnd(10)} voted twice in epoch ${epoch}: for ${str(first, 'candidate')} at ${ms(first.atMs)}, then${crash === undefined ? '' : `, after a ${str(crash, 'crash')} crash at ${ms(crash.atMs)} that lost what it had not flushed,`} for ${str(second, 'candidate')} at ${ms(second.atMs)}`,
    );
  }
  const fromMs = Math.min(...leaders.map(({ event }) => event?.atMs ?? violation.atMs));
  lines.push(...faultLines(events, fromMs - 15_000, violation.atMs, involved, keyTimes));
  return lines;
}

/**
 * Leaders still leading at `atMs` (no resignation, role change or crash since their election)
 * while a later epoch has a leader too: the stale ones, oldest first.
 */
function staleLeaders(events: readonly StoryEvent[], atMs: number): StoryEvent[] {
  const leading = new Map<string, StoryEvent>();
  for (const event of events) {
    if (event.atMs > atMs) break;
    if (event.kind === 'raft.role') {
      if (str(event, 'role') === 'leader') leading.set(event.node, event);
      else leading.delete(event.node);
    }
    if (event.kind === 'raft.resign' || event.kind === 'node.crash') leading.delete(event.node);
  }
  const leaders = [...leading.values()].sort((a, b) => num(a, 'epoch') - num(b, 'epoch'));
  const latest = leaders.length === 0 ? 0 : num(leaders[leaders.length - 1] as StoryEvent, 'epoch');
  return leaders.filter((leader) => num(leader, 'epoch') < latest);
}

/**
 * Brokers behind on the metadata while a leader the voters have left behind still leads: which
 * leader, since when, which leader replaced it, and the rule it broke (check-quorum).
 */
export function explainStaleMetadata(
  violation: ViolationReport,
  events: readonly StoryEvent[],
): string[] {
  const leaders = staleLeaders(events, violation.atMs);
  const current = events
    .filter((event) => event.atMs <= violation.atMs)
    .findLast((event) => event.kind === 'raft.role' && str(event, 'role') === 'leader');
  const lines = [
    `${violation.nodes?.[0] ?? 'a broker'} behind on the metadata: ${violation.invariant} (noticed at ${ms(violation.atMs)})`,
  ];
  for (const leader of leaders)
    lines.push(
      `  stale      ${leader.node} has led epoch ${num(leader, 'epoch')} since ${ms(leader.atMs)} and never resigned${current === undefined || current.node === leader.node ? '' : `, though ${current.node} leads epoch ${num(current, 'epoch')} since ${ms(current.atMs)}`}`,
    );
  lines.push(
    '  why        a leader that a majority of voters no longer fetches from must resign within 1.5 × the fetch timeout (check-quorum, KAFKA-15489); until it does, brokers that still reach it fetch its log, which no longer grows',
  );
  const involved = new Set(leaders.map((leader) => leader.node));
  const fromMs = Math.min(...leaders.map((leader) => leader.atMs));
  lines.push(...faultLines(events, fromMs, violation.atMs, involved, []));
  return lines;
}
