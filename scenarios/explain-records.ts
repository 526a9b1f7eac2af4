// The story of a lost data-path record, for `kafkasim repro` and `run` (scenarios/explain.ts):
// produced (when, by whom, with which acks), appended where, committed (the first HW that covered
// it), acknowledged (with the ISR at that moment), then every replica that held it losing it
// (truncated, and why in words, or lost in a crash), the election that made the loss permanent,
// and the faults that enabled it; a line names the bug switch whose mechanism it shows. Records
// are named by their own ids, never by offset alone. Pure: data in, lines out.

import type { BugName } from '../sim/kafka/bugs.ts';
import type { HistoryEntry } from '../sim/kafka/clients/history.ts';
import {
  bugLine,
  bugsOnLines,
  faultLines,
  lossyCrash,
  ms,
  num,
  type StoryEvent,
  str,
  truncates,
} from './explain-common.ts';
import type { ViolationReport } from './run.ts';

/** Is this event about the violation's partition? (Trace keys are `topicId-partition`, topic ids `name-N`.) */
function aboutPartition(event: StoryEvent, topic: string, partition: number): boolean {
  const key = str(event, 'partition');
  return key.startsWith(`${topic}-`) && key.endsWith(`-${partition}`);
}

/**
 * Why a replica truncated, in words, with the trace's reason code in brackets:
 * `become-follower-hw` exists only under --bug truncate-to-hw (Kafka before KIP-101).
 */
function truncationReason(event: StoryEvent): string {
  const reason = str(event, 'reason');
  switch (reason) {
    case 'become-follower-hw':
      return 'cut back to its own high watermark on becoming a follower, without asking the leader (become-follower-hw)';
    case 'diverging-epoch':
      return "cut back to where its log diverges from the leader's, as the leader's answer to its fetch said (diverging-epoch)";
    case 'out-of-range':
      return "cut back to the leader's log end, which was before its fetch offset (out-of-range)";
    default:
      return `reason ${reason}`;
  }
}

// ---- a lost record ---------------------------------------------------------------------------

/** What became of one replica that held the record. */
interface Loss {
  readonly holder: string;
  readonly text: string;
  /** When it lost it (null: it still holds it, or no event says when). */
  readonly atMs: number | null;
  readonly event: StoryEvent | null;
}

/**
 * One lost record's story, told from the first of its violations (the others name the same record:
 * their messages add the replicas that hold another record at its offset), and its shape: the
 * replicas, the events that lost it and the election, which the stories of records lost the same
 * way share.
 */
export function explainLoss(
  violations: readonly ViolationReport[],
  events: readonly StoryEvent[],
  history: readonly HistoryEntry[],
  bugs: readonly BugName[],
): { lines: string[]; shape: string } {
  const violation = violations[0] as ViolationReport;
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
  const invariants = [...new Set(violations.map((each) => each.invariant))].join(', ');
  const lines = [
    `${violation.value} at ${topic}-${partition} offset ${offset}: ${invariants} (noticed at ${ms(violation.atMs)})`,
  ];
  const head = recordHead(violation, mine, history);
  lines.push(...head.lines);
  const committedAtMs = violation.committedAtMs ?? Number.NaN;
  const sinceMs = Number.isNaN(committedAtMs) ? (head.appendedAtMs ?? 0) : committedAtMs;
  const causes = new Map(Object.entries(violation.holders ?? {}));
  const holders = violation.nodes ?? [...causes.keys()];
  const window = { appendedAtMs: head.appendedAtMs ?? 0, noticedAtMs: violation.atMs };
  const losses = holders.map((holder) => lossOf(mine, holder, offset, window, causes.get(holder)));
  const covers = coveringReplicas(violations);
  const lossTimes = losses.flatMap((loss) => (loss.atMs === null ? [] : [loss.atMs]));
  lines.push(...recordRows(losses, covers));
  const election = permanentElection(mine, offset, sinceMs, losses);
  if (election !== null) lines.push(`  permanent  ${election.text}`);
  else if (lossTimes.length === losses.length && lossTimes.length > 0)
    lines.push(
      `  permanent  at ${ms(Math.max(...lossTimes))}, when the last replica that held it lost it (no leader after the commit ever had it back)`,
    );
  const bug = recordBugLine(bugs, {
    events: mine,
    losses,
    election,
    value: violation.value as string,
    covered: covers,
  });
  lines.push(...(bug === null ? bugsOnLines(bugs) : [bug]));
  const decisiveMs = Math.max(election?.atMs ?? 0, ...lossTimes, sinceMs);
  const involved = new Set([...holders, ...(election === null ? [] : [election.node])]);
  const keyTimes = [...lossTimes, ...(election === null ? [] : [election.atMs])];
  lines.push(
    ...faultLines(events, (head.appendedAtMs ?? sinceMs) - 15_000, decisiveMs, involved, keyTimes),
  );
  const shape = [
    'record',
    ...losses.map((loss) => `${loss.holder}:${loss.atMs ?? loss.text}`),
    covers.map((cover) => cover.node).join(','),
    election === null ? '-' : `${election.node}@${election.atMs}`,
  ].join('|');
  return { lines, shape };
}

/** Produced, appended, committed, acknowledged. */
function recordHead(
  violation: ViolationReport,
  events: readonly StoryEvent[],
  history: readonly HistoryEntry[],
): { lines: string[]; appendedAtMs: number | null } {
  const value = violation.value as string;
  const offset = violation.offset as number;
  const invoke = history.find(
    (entry) => entry.f === 'send' && entry.type === 'invoke' && entry.value === value,
  );
  const ok = history.find(
    (entry) => entry.f === 'send' && entry.type === 'ok' && entry.value === value,
  );
  const lines = [
    invoke === undefined
      ? '  produced   (no send of it in the history)'
      : `  produced   at ${ms(invoke.atMs)} by ${invoke.process} with acks=${invoke.acks ?? 'all'}`,
  ];
  const committedAtMs = violation.committedAtMs ?? Number.NaN;
  const append = recordAppend(events, offset, {
    sentAtMs: invoke?.atMs ?? 0,
    acks: invoke?.acks ?? 'all',
    ackedAtMs: ok?.atMs ?? null,
    untilMs: Number.isNaN(committedAtMs) ? violation.atMs : committedAtMs,
  });
  if (append !== undefined) {
    const epoch = leaderEpochAt(events, append.node, append.atMs);
    lines.push(
      `  appended   at ${ms(append.atMs)} by leader ${append.node}${epoch === null ? '' : ` (leader epoch ${epoch})`}${str(append, 'duplicate') === 'true' ? ' (a retried duplicate)' : ''}`,
    );
  }
  lines.push(
    Number.isNaN(committedAtMs)
      ? '  committed  (time unknown)'
      : `  committed  at ${ms(committedAtMs)}: the first high watermark past offset ${offset}`,
  );
  if (ok !== undefined) {
    const isr = isrAt(events, ok.atMs);
    lines.push(
      `  acked      at ${ms(ok.atMs)} to ${ok.process} at offset ${ok.offset ?? '?'}, ISR then ${isr === null ? 'unknown' : `[${isr.members}] (${isr.source})`}`,
    );
  } else
    lines.push('  acked      never (a record a consumer could read, or another replica covered)');
  return { lines, appendedAtMs: append?.atMs ?? null };
}

/**
 * The record's own append, not just any append at its offset (another leader may have written
 * another record there): of the appends covering the offset after the record was sent, with its
 * acks, the last before its acknowledgement or, never acknowledged, the first before its commit.
 */
function recordAppend(
  events: readonly StoryEvent[],
  offset: number,
  record: {
    readonly sentAtMs: number;
    readonly acks: string;
    readonly ackedAtMs: number | null;
    readonly untilMs: number;
  },
): StoryEvent | undefined {
  const untilMs = record.ackedAtMs ?? record.untilMs;
  const appends = events.filter(
    (event) =>
      event.kind === 'replica.append' &&
      event.atMs >= record.sentAtMs &&
      event.atMs <= untilMs &&
      num(event, 'baseOffset') <= offset &&
      offset < num(event, 'baseOffset') + num(event, 'records') &&
      (event.fields['acks'] === undefined || str(event, 'acks') === record.acks),
  );
  return record.ackedAtMs === null ? appends[0] : appends[appends.length - 1];
}

/** A replica whose high watermark covers another record at the record's offset. */
interface Cover {
  readonly node: string;
  readonly held: string;
  readonly text: string;
  readonly atMs: number;
}

/** The replicas whose high watermark covers another record at the offset: they hold that one instead. */
function coveringReplicas(violations: readonly ViolationReport[]): Cover[] {
  const found = new Map<string, Cover>();
  for (const violation of violations) {
    const instead = violation.heldInstead;
    if (instead === undefined || found.has(instead.node)) continue;
    found.set(instead.node, {
      node: instead.node,
      held: instead.value,
      text: `${instead.value} there instead, below its high watermark ${instead.highWatermark} (the checker, at ${ms(violation.atMs)})`,
      atMs: violation.atMs,
    });
  }
  return [...found.values()];
}

/**
 * A line per replica, in the order things happened (one that still holds it, or lost it without an
 * event, last): how it lost the record, then what it holds there instead if a report says.
 */
function recordRows(losses: readonly Loss[], covers: readonly Cover[]): string[] {
  const rows: { node: string; text: string; atMs: number | null }[] = losses.map((loss) => {
    const cover = covers.find((each) => each.node === loss.holder);
    return {
      node: loss.holder,
      text: cover === undefined ? loss.text : `${loss.text}, then held ${cover.text}`,
      atMs: loss.atMs ?? cover?.atMs ?? null,
    };
  });
  for (const cover of covers)
    if (!losses.some((loss) => loss.holder === cover.node))
      rows.push({ ...cover, text: `holds ${cover.text}` });
  rows.sort((a, b) => (a.atMs ?? Number.POSITIVE_INFINITY) - (b.atMs ?? Number.POSITIVE_INFINITY));
  return rows.map((row) => `  ${row.node.padEnd(10)} ${row.text}`);
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

/**
 * What became of a replica that held the record: still holds it (the checker says so), or the
 * truncation that removed it, or the crash.
 */
function lossOf(
  events: readonly StoryEvent[],
  holder: string,
  offset: number,
  window: { readonly appendedAtMs: number; readonly noticedAtMs: number },
  cause: string | undefined,
): Loss {
  if (cause === 'never had it') return { holder, text: cause, atMs: null, event: null };
  // A replica that held it when the checker noticed can lose it only later, and only by a truncation.
  const holds = cause === 'holds it';
  const afterMs = holds ? window.noticedAtMs : window.appendedAtMs;
  for (const event of events) {
    if (event.node !== holder || event.atMs < afterMs) continue;
    if (truncates(event, 'replica.truncate', offset)) {
      const follow = lastBefore(events, holder, event.atMs, 'replica.follower');
      const named = follow === null ? '-' : str(follow, 'leader');
      const leader =
        follow === null
          ? ', following its leader'
          : named === '-'
            ? ` as a follower in leader epoch ${num(follow, 'leaderEpoch')}, with no leader yet`
            : `, following leader ${named} in leader epoch ${num(follow, 'leaderEpoch')}`;
      return {
        holder,
        text: `truncated it at ${ms(event.atMs)}${leader}: its log ${num(event, 'from')} → ${num(event, 'to')}, ${truncationReason(event)}`,
        atMs: event.atMs,
        event,
      };
    }
    if (
      !holds &&
      event.kind === 'node.crash' &&
      (cause === 'restart' || (cause === 'lossy-crash' && lossyCrash(event)))
    ) {
      const lost = num(event, 'lostRecords');
      return {
        holder,
        text: `lost it in a ${str(event, 'crash')} crash at ${ms(event.atMs)}${Number.isNaN(lost) ? '' : ` (${lost} unflushed records lost)`}`,
        atMs: event.atMs,
        event,
      };
    }
  }
  if (holds) return { holder, text: 'holds it', atMs: null, event: null };
  return {
    holder,
    text: cause === undefined ? 'lost it (no event found)' : `lost it: ${cause}`,
    atMs: null,
    event: null,
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
  losses: readonly Loss[],
): { text: string; atMs: number; node: string; event: StoryEvent } | null {
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
      event,
    };
  }
  return null;
}

/**
 * The switch whose mechanism the story shows, if it was on: a truncation to a follower's own high
 * watermark (truncate-to-hw); the election of a replica that lost unflushed data in a crash, as
 * the last ISR member (no-elr) or back in the ISR (no-broker-epoch); a replica
 * whose high watermark covers another record at the offset (epoch-lookup-kip101).
 */
function recordBugLine(
  bugs: readonly BugName[],
  story: {
    readonly events: readonly StoryEvent[];
    readonly losses: readonly Loss[];
    readonly election: {
      readonly node: string;
      readonly atMs: number;
      readonly event: StoryEvent;
    } | null;
    readonly value: string;
    readonly covered: readonly Cover[];
  },
): string | null {
  const toHighWatermark = story.losses.find(
    (loss) =>
      loss.event?.kind === 'replica.truncate' && str(loss.event, 'reason') === 'become-follower-hw',
  );
  if (bugs.includes('truncate-to-hw') && toHighWatermark !== undefined)
    return bugLine(
      'truncate-to-hw',
      `this truncation (${toHighWatermark.holder}'s, at ${ms(toHighWatermark.atMs ?? 0)})`,
    );
  // The elected replica's last crash that lost unflushed data, before its election.
  const election = story.election;
  const crash =
    election === null
      ? undefined
      : story.events.findLast(
          (event) =>
            event.node === election.node && lossyCrash(event) && event.atMs <= election.atMs,
        );
  if (election !== null && crash !== undefined) {
    const lost = `its ${str(crash, 'crash')} crash at ${ms(crash.atMs)} lost unflushed records`;
    if (bugs.includes('no-elr') && str(election.event, 'isr') === election.node)
      return bugLine(
        'no-elr',
        `this election (of ${election.node}, the last ISR member, after ${lost})`,
      );
    if (bugs.includes('no-broker-epoch'))
      return bugLine(
        'no-broker-epoch',
        `this election (of ${election.node}, in the ISR though ${lost})`,
      );
  }
  if (bugs.includes('epoch-lookup-kip101') && story.covered.length > 0)
    return bugLine(
      'epoch-lookup-kip101',
      `two records committed at one offset (${[story.value, ...new Set(story.covered.map((cover) => cover.held))].join(' and ')})`,
    );
  return null;
}
