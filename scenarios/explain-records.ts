// The story of a lost data-path record, for `kafkasim repro` and `run` (scenarios/explain.ts):
// produced (when, by whom, with which acks), appended where, committed (the first HW that covered
// it), acknowledged (with the ISR at that moment), then every replica that held it losing it
// (truncated, and why in words, or lost in a crash), the election that made the loss permanent,
// and the faults that enabled it; a line names the bug switch whose mechanism it shows. Records
// are named by their own ids, never by offset alone. Pure: data in, lines out.

import type { BugName } from '../sim/kafka/bugs.ts';
import type { HistoryEntry } from '../sim/kafka/clients/history.ts';
import {
  aboutPartition,
  bugLine,
  bugsOnLines,
  faultLines,
  lastEventBefore,
  lossyCrash,
  ms,
  num,
  type StoryEvent,
  str,
  truncates,
} from './explain-common.ts';
import type { ViolationReport } from './run.ts';

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
  reports: readonly ViolationReport[] = violations,
): { lines: string[]; shape: string } {
  const violation = violations[0] as ViolationReport;
  const offset = violation.offset as number;
  const topic = violation.topic ?? '';
  const partition = violation.partition ?? 0;
  const mine = events.filter((event) =>
    !event.kind.startsWith('fault.') && event.kind !== 'node.crash'
      ? aboutPartition(event, topic, partition) ||
        event.kind === 'node.start' ||
        event.kind === 'broker.registered' ||
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
  const covers = coveringReplicas(violations, reports);
  const kept = keptTruncations(mine, {
    offset,
    window,
    losses,
    covers,
    head,
    bugs,
    value: violation.value as string,
  });
  const lossTimes = losses.flatMap((loss) => (loss.atMs === null ? [] : [loss.atMs]));
  lines.push(...recordRows(losses, covers, kept));
  const election = permanentElection(mine, offset, sinceMs, losses);
  const join = election === null ? null : staleIsrJoin(mine, offset, head.appendedAtMs, election);
  if (join !== null) lines.push(`  ISR join   ${join.text}`);
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
    kept,
    join,
    commit: head.commit,
  });
  lines.push(...(bug === null ? bugsOnLines(bugs) : [bug]));
  // The faults that enabled the loss came before it was made permanent: once an election made it
  // so, what followed (the others truncating to the new leader) changed nothing, and the faults
  // after it (a heal's restarts) enabled nothing.
  const permanentMs = election?.atMs ?? Number.POSITIVE_INFINITY;
  const keptTimes = kept.map((each) => each.event.atMs).filter((atMs) => atMs <= permanentMs);
  const beforePermanent = lossTimes.filter((atMs) => atMs <= permanentMs);
  const decisiveMs = Math.max(election?.atMs ?? 0, ...beforePermanent, ...keptTimes, sinceMs);
  const involved = new Set([
    ...holders,
    ...covers.map((cover) => cover.node),
    ...(election === null ? [] : [election.node]),
  ]);
  const keyTimes = [
    ...beforePermanent,
    ...keptTimes,
    ...(join?.staleCrash ? [join.staleCrash.atMs] : []),
    ...(election === null ? [] : [election.atMs]),
  ];
  lines.push(
    ...faultLines(events, (head.appendedAtMs ?? sinceMs) - 15_000, decisiveMs, involved, keyTimes, {
      preferTouching: true,
    }),
  );
  const shape = [
    'record',
    ...losses.map((loss) => `${loss.holder}:${loss.atMs ?? loss.text}`),
    covers.map((cover) => cover.node).join(','),
    kept.map((each) => `${each.node}@${each.event.atMs}`).join(','),
    election === null ? '-' : `${election.node}@${election.atMs}`,
  ].join('|');
  return { lines, shape };
}

/** What the story knows of the commit: the leader and ISR then, and whether that ISR was below min ISR. */
interface Commit {
  readonly atMs: number;
  readonly leader: string;
  readonly isr: readonly string[];
  /** A NOT_ENOUGH_REPLICAS answer while that ISR stood: proof it was below min.insync.replicas. */
  readonly belowMinIsr: HistoryEntry | null;
}

/** Produced, appended, committed (with the ISR of that moment), acknowledged. */
function recordHead(
  violation: ViolationReport,
  events: readonly StoryEvent[],
  history: readonly HistoryEntry[],
): {
  lines: string[];
  appendedAtMs: number | null;
  appendedBy: Append | null;
  commit: Commit | null;
} {
  const value = violation.value as string;
  const offset = violation.offset as number;
  const invoke = history.find(
    (entry) => entry.f === 'send' && entry.type === 'invoke' && entry.value === value,
  );
  const ok = history.find(
    (entry) => entry.f === 'send' && entry.type === 'ok' && entry.value === value,
  );
  const acks = invoke?.acks ?? 'all';
  const lines = [
    invoke === undefined
      ? '  produced   (no send of it in the history)'
      : `  produced   at ${ms(invoke.atMs)} by ${invoke.process} with acks=${acks}`,
  ];
  const committedAtMs = violation.committedAtMs ?? Number.NaN;
  const append = recordAppend(events, offset, {
    sentAtMs: invoke?.atMs ?? 0,
    acks,
    ackedAtMs: ok?.atMs ?? null,
    untilMs: Number.isNaN(committedAtMs) ? violation.atMs : committedAtMs,
    holders: violation.holders === undefined ? null : new Set(Object.keys(violation.holders)),
  });
  let appendedBy: Append | null = null;
  if (append !== undefined) {
    const led = lastBefore(events, append.node, append.atMs, 'replica.leader');
    const epoch = leaderEpochAt(events, append.node, append.atMs);
    if (led !== null && epoch === num(led, 'leaderEpoch'))
      appendedBy = { node: append.node, leaderEpoch: epoch, startOffset: num(led, 'logEndOffset') };
    lines.push(
      `  appended   at ${ms(append.atMs)} by leader ${append.node}${epoch === null ? '' : ` (leader epoch ${epoch})`}${str(append, 'duplicate') === 'true' ? ' (a retried duplicate)' : ''}`,
    );
  }
  const commit = Number.isNaN(committedAtMs)
    ? null
    : commitAt(events, history, violation, committedAtMs);
  const committed = Number.isNaN(committedAtMs)
    ? '  committed  (time unknown)'
    : `  committed  at ${ms(committedAtMs)}: the first high watermark past offset ${offset}${commit === null ? '' : commitText(commit, events)}`;
  const acked = ackedLine(history, value, ok, acks, events);
  // In time order: an acks=1 or acks=0 write is acknowledged before it is committed.
  if (ok !== undefined && ok.atMs < committedAtMs) lines.push(acked, committed);
  else lines.push(committed, acked);
  return { lines, appendedAtMs: append?.atMs ?? null, appendedBy, commit };
}

/** Who appended the record as leader, in which leader epoch, and where that epoch starts in its log. */
interface Append {
  readonly node: string;
  readonly leaderEpoch: number;
  readonly startOffset: number;
}

/** `, leader b2, ISR [b2] (1 of 3 replicas), below min.insync.replicas: …`. */
function commitText(commit: Commit, events: readonly StoryEvent[]): string {
  const replicas = replicasOf(events);
  const size =
    replicas.length === 0 ? '' : ` (${commit.isr.length} of ${replicas.length} replicas)`;
  const below =
    commit.belowMinIsr === null
      ? ''
      : `: below min.insync.replicas (the leader refused ${commit.belowMinIsr.process}'s acks=all write with NOT_ENOUGH_REPLICAS at ${ms(commit.belowMinIsr.atMs)}, under that ISR), yet the high watermark moved`;
  return `, leader ${commit.leader} with ISR [${commit.isr.join(', ')}]${size}${below}`;
}

/**
 * The leader and ISR when the record was committed, and whether that ISR was below
 * min.insync.replicas: the trace does not carry the setting, but the history does when the leader
 * refused an acks=all write with NOT_ENOUGH_REPLICAS while that ISR stood.
 */
function commitAt(
  events: readonly StoryEvent[],
  history: readonly HistoryEntry[],
  violation: ViolationReport,
  committedAtMs: number,
): Commit | null {
  let found: StoryEvent | null = null;
  let next: StoryEvent | null = null;
  for (const event of events) {
    if (event.kind !== 'replica.isr-changed' && event.kind !== 'replica.leader') continue;
    if (event.atMs <= committedAtMs) found = event;
    else if (found !== null) {
      next = event;
      break;
    }
  }
  if (found === null) return null;
  const fromMs = found.atMs;
  const untilMs = next?.atMs ?? Number.POSITIVE_INFINITY;
  const refused = history.find(
    (entry) =>
      entry.f === 'send' &&
      entry.type === 'fail' &&
      entry.error === 'NOT_ENOUGH_REPLICAS' &&
      entry.topic === violation.topic &&
      entry.partition === violation.partition &&
      entry.atMs >= fromMs &&
      entry.atMs < untilMs,
  );
  return {
    atMs: committedAtMs,
    leader: found.node,
    isr: str(found, 'isr')
      .split(',')
      .filter((node) => node !== ''),
    belowMinIsr: refused ?? null,
  };
}

/** The partition's replicas: the brokers that led or followed it. */
function replicasOf(events: readonly StoryEvent[]): string[] {
  const nodes = new Set<string>();
  for (const event of events)
    if (event.kind === 'replica.leader' || event.kind === 'replica.follower') nodes.add(event.node);
  return [...nodes];
}

/** Acknowledged when, to whom, and with which ISR (acks=all); or never, in plain words. */
function ackedLine(
  history: readonly HistoryEntry[],
  value: string,
  ok: HistoryEntry | undefined,
  acks: string,
  events: readonly StoryEvent[],
): string {
  if (ok !== undefined) {
    const isr = isrAt(events, ok.atMs);
    const acked = `  acked      at ${ms(ok.atMs)} to ${ok.process} at offset ${ok.offset ?? '?'}, ISR then ${isr === null ? 'unknown' : `[${isr.members}] (${isr.source})`}`;
    // An acks=1 write waits for no ISR: say so, lest the ISR read as the replicas that had it.
    return acks === 'all'
      ? acked
      : `${acked}, though acks=${acks} waited for none of it: the leader's append alone acknowledged it`;
  }
  const end = history.find(
    (entry) =>
      entry.f === 'send' &&
      (entry.type === 'fail' || entry.type === 'info') &&
      entry.value === value,
  );
  const ended =
    end === undefined
      ? 'no OK reached its producer'
      : `${end.process} got no OK for it (its send ended at ${ms(end.atMs)}: ${end.error ?? end.type}${end.type === 'info' ? ', outcome unknown' : ''})`;
  return `  acked      never: ${ended}; still, it was committed, and a committed record must survive whatever its acks (a consumer may have read it)`;
}

/**
 * The record's own append, not just any append at its offset (another leader may have written
 * another record there): of the appends covering the offset after the record was sent, with its
 * acks, by a broker that held it there, the last before its acknowledgement or, never
 * acknowledged, the first before its commit.
 */
function recordAppend(
  events: readonly StoryEvent[],
  offset: number,
  record: {
    readonly sentAtMs: number;
    readonly acks: string;
    readonly ackedAtMs: number | null;
    readonly untilMs: number;
    /** The brokers that ever held the record at this offset (its appender among them), if known. */
    readonly holders: ReadonlySet<string> | null;
  },
): StoryEvent | undefined {
  const untilMs = record.ackedAtMs ?? record.untilMs;
  const appends = events.filter(
    (event) =>
      event.kind === 'replica.append' &&
      (record.holders === null || record.holders.has(event.node)) &&
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
  /** What it holds, named apart from the committed record: `p1-21 of leader epoch 1 on b2`. */
  readonly label: string;
  /** The committed copy's leader epoch, when the held record is another copy of its value. */
  readonly committedEpoch?: number;
  readonly text: string;
  readonly atMs: number;
}

/**
 * The replicas that hold another record at the offset: those whose high watermark covers another
 * record there (the story's own reports), then those another report at the same offset says hold
 * its record (a story of p2-27 names the leader that holds p1-72 there, as p1-72's report says).
 */
function coveringReplicas(
  violations: readonly ViolationReport[],
  reports: readonly ViolationReport[],
): Cover[] {
  const found = new Map<string, Cover>();
  for (const violation of violations) {
    const instead = violation.heldInstead;
    if (instead === undefined || found.has(instead.node)) continue;
    // The same value in another leader epoch: another copy of the write (a retry under another
    // leader), not the committed one.
    const copy =
      instead.epoch !== undefined && instead.value === violation.value
        ? ` of leader epoch ${instead.epoch}, another copy (the committed one is of leader epoch ${instead.committedEpoch})`
        : '';
    const sameValue = instead.epoch !== undefined && instead.value === violation.value;
    found.set(instead.node, {
      node: instead.node,
      held: instead.value,
      label: `${instead.value}${sameValue ? ` of leader epoch ${instead.epoch}` : ''} on ${instead.node}`,
      ...(sameValue && instead.committedEpoch !== undefined
        ? { committedEpoch: instead.committedEpoch }
        : {}),
      text: `${instead.value}${copy} there instead, below its high watermark ${instead.highWatermark} (the checker, at ${ms(violation.atMs)})`,
      atMs: violation.atMs,
    });
  }
  const mine = violations[0] as ViolationReport;
  const own = new Set(Object.keys(mine.holders ?? {}));
  for (const other of reports) {
    if (other.value === undefined || other.value === mine.value) continue;
    if (other.topic !== mine.topic || other.partition !== mine.partition) continue;
    if (other.offset !== mine.offset) continue;
    for (const [node, cause] of Object.entries(other.holders ?? {})) {
      if (cause !== 'holds it' || found.has(node) || own.has(node)) continue;
      found.set(node, {
        node,
        held: other.value,
        label: `${other.value} on ${node}`,
        text: `${other.value} there instead (the checker's report on ${other.value}, at ${ms(other.atMs)})`,
        atMs: other.atMs,
      });
    }
  }
  return [...found.values()];
}

/** The committed record, named apart from another copy of its value: `p1-21 of leader epoch 0`. */
function committedLabel(value: string, covers: readonly Cover[]): string {
  const epoch = covers.find((cover) => cover.committedEpoch !== undefined)?.committedEpoch;
  return epoch === undefined
    ? `${value}, committed first,`
    : `${value} of leader epoch ${epoch}, committed first,`;
}

/**
 * A truncation that cut a replica's log back yet kept its record at the offset, while it followed
 * a leader that holds another record there: the leader's answer should have removed it.
 */
interface Kept {
  readonly node: string;
  readonly event: StoryEvent;
  readonly leader: string;
  readonly text: string;
  /** Why it stopped where it did, when the story can tell (a line of its own). */
  readonly why: string;
}

function keptTruncations(
  events: readonly StoryEvent[],
  story: {
    readonly offset: number;
    readonly window: { readonly appendedAtMs: number; readonly noticedAtMs: number };
    readonly losses: readonly Loss[];
    readonly covers: readonly Cover[];
    readonly head: { readonly appendedBy: Append | null };
    readonly bugs: readonly BugName[];
    readonly value: string;
  },
): Kept[] {
  const { offset } = story;
  // What each replica holds at the offset, as the reports say: this record, or another.
  const held = new Map<string, string | null>();
  for (const loss of story.losses) if (loss.text === 'holds it') held.set(loss.holder, null);
  for (const cover of story.covers) held.set(cover.node, cover.held);
  const kept: Kept[] = [];
  for (const [node, value] of held) {
    const truncation = events.findLast(
      (event) =>
        event.node === node &&
        event.kind === 'replica.truncate' &&
        event.atMs >= story.window.appendedAtMs &&
        event.atMs <= story.window.noticedAtMs &&
        num(event, 'to') > offset,
    );
    if (truncation === undefined) continue;
    const follow = lastBefore(events, node, truncation.atMs, 'replica.follower');
    const leader = follow === null ? '-' : str(follow, 'leader');
    if (!held.has(leader) || held.get(leader) === value) continue;
    const other = held.get(leader) ?? `${story.value} (this record)`;
    const epoch = num(follow as StoryEvent, 'leaderEpoch');
    const why = story.bugs.includes('epoch-lookup-kip101')
      ? lookupAnswer(events, truncation, leader, value === null ? story.head.appendedBy : null)
      : '';
    kept.push({
      node,
      event: truncation,
      leader,
      text: `at ${ms(truncation.atMs)}, following leader ${leader} in leader epoch ${epoch}, it cut its log back only ${num(truncation, 'from')} → ${num(truncation, 'to')} (${str(truncation, 'reason')}), keeping offset ${offset}, where ${leader} holds ${other}`,
      why,
    });
  }
  return kept;
}

/**
 * Why the truncation stopped where it did, under --bug epoch-lookup-kip101 (the answer to the
 * epoch lookup is not traced): the follower's records from its leader epoch's start are of an
 * epoch the leader never had (the leader's log ran past that start when it followed that epoch and
 * it never truncated, so it never fetched them, or it never followed it); the bug's lookup answers
 * such an epoch with the start of the next larger epoch the leader knows, its own (its log end when
 * it took it); and a truncation removes whole batches.
 */
function lookupAnswer(
  events: readonly StoryEvent[],
  truncation: StoryEvent,
  leader: string,
  appendedBy: Append | null,
): string {
  if (appendedBy === null || appendedBy.node !== truncation.node) return '';
  const led = lastBefore(events, leader, truncation.atMs, 'replica.leader');
  if (led === null || !neverHad(events, leader, appendedBy, led.atMs)) return '';
  const answer = num(led, 'logEndOffset');
  const to = num(truncation, 'to');
  const batch = events.findLast(
    (event) =>
      event.node === truncation.node &&
      event.kind === 'replica.append' &&
      event.atMs < truncation.atMs &&
      num(event, 'baseOffset') === to,
  );
  const batchEnd = batch === undefined ? Number.NaN : to + num(batch, 'records') - 1;
  const cut =
    answer === to
      ? ''
      : answer > to && answer <= batchEnd
        ? `; a cut to ${answer} removes ${truncation.node}'s whole batch ${to}–${batchEnd}, hence ${to}`
        : '';
  const epoch = appendedBy.leaderEpoch;
  const node = truncation.node;
  return `why ${to}: ${node}'s records from offset ${appendedBy.startOffset} are of leader epoch ${epoch}, which ${leader} never had; asked where leader epoch ${epoch} ends, ${leader} answered with the start of the next leader epoch it knows, its own leader epoch ${num(led, 'leaderEpoch')}: offset ${answer} (the answer is not traced; this is what the bug's lookup gives); the right answer, the end of the last leader epoch both had, would have cut ${node} back to ${appendedBy.startOffset}${cut}`;
}

/** Whether `node` can never have had records of `appendedBy`'s leader epoch by `untilMs`. */
function neverHad(
  events: readonly StoryEvent[],
  node: string,
  appendedBy: Append,
  untilMs: number,
): boolean {
  const followed = events.find(
    (event) =>
      event.node === node &&
      event.kind === 'replica.follower' &&
      num(event, 'leaderEpoch') === appendedBy.leaderEpoch &&
      event.atMs <= untilMs,
  );
  if (followed === undefined)
    return !events.some(
      (event) =>
        event.node === node &&
        event.kind === 'replica.leader' &&
        num(event, 'leaderEpoch') === appendedBy.leaderEpoch,
    );
  if (!(num(followed, 'logEndOffset') > appendedBy.startOffset)) return false;
  return !events.some(
    (event) =>
      event.node === node &&
      event.kind === 'replica.truncate' &&
      event.atMs >= followed.atMs &&
      event.atMs <= untilMs,
  );
}

/**
 * A line per replica, in the order things happened (one that still holds it, or lost it without an
 * event, last): how it lost the record, or the truncation that kept it, then what it holds there
 * instead if a report says.
 */
function recordRows(
  losses: readonly Loss[],
  covers: readonly Cover[],
  kept: readonly Kept[],
): string[] {
  const keptOf = (node: string) => kept.find((each) => each.node === node);
  const rows: { node: string; text: string; why?: string; atMs: number | null }[] = losses.map(
    (loss) => {
      const cover = covers.find((each) => each.node === loss.holder);
      const keeps = keptOf(loss.holder);
      const text = keeps === undefined ? loss.text : `${loss.text}: ${keeps.text}`;
      return {
        node: loss.holder,
        text: cover === undefined ? text : `${text}, then held ${cover.text}`,
        why: keeps?.why ?? '',
        atMs: loss.atMs ?? keeps?.event.atMs ?? cover?.atMs ?? null,
      };
    },
  );
  for (const cover of covers)
    if (!losses.some((loss) => loss.holder === cover.node)) {
      const keeps = keptOf(cover.node);
      rows.push({
        node: cover.node,
        text: `holds ${cover.text}${keeps === undefined ? '' : `: ${keeps.text}`}`,
        why: keeps?.why ?? '',
        atMs: keeps?.event.atMs ?? cover.atMs,
      });
    }
  rows.sort((a, b) => (a.atMs ?? Number.POSITIVE_INFINITY) - (b.atMs ?? Number.POSITIVE_INFINITY));
  return rows.flatMap((row) => [
    `  ${row.node.padEnd(10)} ${row.text}`,
    ...(row.why === undefined || row.why === '' ? [] : [`  ${''.padEnd(10)} ${row.why}`]),
  ]);
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
        source: `${event.node} leading leader epoch ${num(event, 'leaderEpoch')} since ${ms(event.atMs)}`,
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
      const lost = num(event, 'lostWrites');
      return {
        holder,
        text: `lost it in a ${str(event, 'crash')} crash at ${ms(event.atMs)}${Number.isNaN(lost) ? '' : ` (${lost} writes to its disk it had not flushed, lost)`}`,
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
  return lastEventBefore(events, node, atMs, (event) => event.kind === kind);
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
      text: `at ${ms(event.atMs)} ${event.node} became leader in leader epoch ${num(event, 'leaderEpoch')} without it (log end ${num(event, 'logEndOffset')} ≤ offset ${offset}, ISR [${str(event, 'isr').replaceAll(',', ', ')}]): the others follow it and drop the record`,
      atMs: event.atMs,
      node: event.node,
      event,
    };
  }
  return null;
}

/** An ISR join that let a replica lacking the record into the ISR, which then elected it. */
interface IsrJoin {
  readonly text: string;
  readonly atMs: number;
  readonly leader: string;
  readonly joiner: string;
  /** The joiner's log end then, at most (its log end when elected; it truncated nothing between). */
  readonly joinerEndMax: number;
  /** Where the leader's leader epoch starts: KAFKA-7128 makes a joiner reach it. */
  readonly epochStart: number;
  /**
   * The joiner's crash between the fetch the leader judged it on and the join, if any: the join
   * rested on a fetch of an earlier incarnation (KIP-903 refuses those by broker epoch).
   */
  readonly staleCrash: StoryEvent | null;
}

/**
 * The last ISR join of the elected replica before its election, if it lacked the record then: its
 * log end when elected bounds its log end at the join (it truncated nothing between), and the
 * leader that took it in had the record below its leader epoch's start.
 */
function staleIsrJoin(
  events: readonly StoryEvent[],
  offset: number,
  appendedAtMs: number | null,
  election: { readonly node: string; readonly atMs: number; readonly event: StoryEvent },
): IsrJoin | null {
  const joiner = election.node;
  const expand = events.findLast(
    (event) =>
      event.kind === 'replica.isr-expand' &&
      event.atMs < election.atMs &&
      event.atMs >= (appendedAtMs ?? 0) &&
      str(event, 'joining').split(',').includes(joiner),
  );
  if (expand === undefined) return null;
  const leader = expand.node;
  const accepted = events.find(
    (event) =>
      event.kind === 'replica.isr-changed' &&
      event.node === leader &&
      event.atMs >= expand.atMs &&
      event.atMs <= election.atMs &&
      str(event, 'isr').split(',').includes(joiner),
  );
  const led = lastBefore(events, leader, expand.atMs, 'replica.leader');
  if (accepted === undefined || led === null) return null;
  const truncated = events.some(
    (event) =>
      event.node === joiner &&
      event.kind === 'replica.truncate' &&
      event.atMs >= expand.atMs &&
      event.atMs <= election.atMs,
  );
  const joinerEndMax = num(election.event, 'logEndOffset');
  const epochStart = num(led, 'logEndOffset');
  if (truncated || !(joinerEndMax <= offset)) return null;
  const took = `at ${ms(expand.atMs)} ${leader}, leader in leader epoch ${num(led, 'leaderEpoch')} (since ${ms(led.atMs)}; the leader epoch starts at offset ${epochStart}, its high watermark was ${num(led, 'highWatermark')} then), took ${joiner} into its ISR (ISR [${str(accepted, 'isr').replaceAll(',', ', ')}] at ${ms(accepted.atMs)})`;
  const fields = { atMs: expand.atMs, leader, joiner, joinerEndMax, epochStart };
  // The fetch the leader judged the joiner on (the trace names it for each joiner).
  const fetch = joinerFetch(expand, joiner);
  // The joiner's first event of `kind` after `fromMs`, up to the join.
  const joinerEvent = (kind: string, fromMs: number) =>
    events.find(
      (event) =>
        event.node === joiner &&
        event.kind === kind &&
        event.atMs > fromMs &&
        event.atMs <= expand.atMs,
    );
  const staleCrash = fetch === null ? undefined : joinerEvent('node.crash', fetch.atMs);
  if (fetch !== null && staleCrash !== undefined) {
    const restart = joinerEvent('node.start', staleCrash.atMs);
    const registered = joinerEvent('broker.registered', staleCrash.atMs);
    const restarted = [
      ...(restart === undefined ? [] : [`restarted at ${ms(restart.atMs)}`]),
      ...(registered === undefined
        ? []
        : [
            `registered again as broker epoch ${num(registered, 'brokerEpoch')} at ${ms(registered.atMs)}`,
          ]),
    ]
      .map((part) => `, ${part}`)
      .join('');
    const tookShort = `at ${ms(expand.atMs)} ${leader}, leader in leader epoch ${num(led, 'leaderEpoch')}, took ${joiner} into its ISR (ISR [${str(accepted, 'isr').replaceAll(',', ', ')}] at ${ms(accepted.atMs)})`;
    return {
      text: `${tookShort} on ${joiner}'s last fetch, at ${ms(fetch.atMs)} in broker epoch ${fetch.brokerEpoch} (log end ${fetch.logEndOffset}): a fetch of its previous incarnation, before its ${str(staleCrash, 'crash')} crash at ${ms(staleCrash.atMs)}${restarted}; its log ended at ${joinerEndMax} at most when it joined (its log end when elected; it truncated nothing between), without offset ${offset}`,
      ...fields,
      staleCrash,
    };
  }
  if (!(offset < epochStart)) return null;
  return {
    text: `${took} though ${joiner}'s log ended at ${joinerEndMax} at most (its log end when elected; it truncated nothing between): short of the leader epoch's start ${epochStart}, and without offset ${offset}`,
    ...fields,
    staleCrash: null,
  };
}

/** The fetch an ISR expansion judged `joiner` on: when, its broker epoch and log end; or null. */
function joinerFetch(
  expand: StoryEvent,
  joiner: string,
): { atMs: number; brokerEpoch: string; logEndOffset: string } | null {
  const index = str(expand, 'joining').split(',').indexOf(joiner);
  const atMs = Number(str(expand, 'fetchedAtMs').split(',')[index]);
  if (index < 0 || !Number.isFinite(atMs)) return null;
  return {
    atMs,
    brokerEpoch: str(expand, 'brokerEpochs').split(',')[index] ?? '?',
    logEndOffset: str(expand, 'logEndOffsets').split(',')[index] ?? '?',
  };
}

/**
 * The switch whose mechanism the story shows, if it was on: a truncation to a follower's own high
 * watermark (truncate-to-hw); the election of a replica that lost unflushed data in a crash, as
 * the last ISR member (no-elr) or back in the ISR (no-broker-epoch); the ISR join of a replica that
 * had not reached the leader epoch's start (isr-join-stale-hw); a commit under an ISR below
 * min.insync.replicas (hw-ignores-min-isr); a truncation that kept a record the leader does not
 * have, or else a replica whose high watermark covers another record at the offset
 * (epoch-lookup-kip101).
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
    readonly kept: readonly Kept[];
    readonly join: IsrJoin | null;
    readonly commit: Commit | null;
  },
): string | null {
  // The truncation that mattered: the one of the replica whose election made the loss permanent
  // (it led without the record), else the first.
  const toHighWatermarks = story.losses
    .filter(
      (loss) =>
        loss.event?.kind === 'replica.truncate' &&
        str(loss.event, 'reason') === 'become-follower-hw',
    )
    .sort((a, b) => (a.atMs ?? 0) - (b.atMs ?? 0));
  const toHighWatermark =
    toHighWatermarks.find((loss) => loss.holder === story.election?.node) ?? toHighWatermarks[0];
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
  const join = story.join;
  if (bugs.includes('no-broker-epoch') && join !== null && join.staleCrash !== null)
    return bugLine(
      'no-broker-epoch',
      `this ISR join (of ${join.joiner}, into ${join.leader}'s ISR at ${ms(join.atMs)}, on a fetch from before its ${str(join.staleCrash, 'crash')} crash at ${ms(join.staleCrash.atMs)})`,
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
  if (bugs.includes('isr-join-stale-hw') && join !== null && join.joinerEndMax < join.epochStart)
    return bugLine(
      'isr-join-stale-hw',
      `this ISR join (of ${join.joiner}, into ${join.leader}'s ISR at ${ms(join.atMs)}, before it reached the leader epoch's start ${join.epochStart})`,
    );
  const commit = story.commit;
  if (bugs.includes('hw-ignores-min-isr') && commit !== null && commit.belowMinIsr !== null)
    return bugLine(
      'hw-ignores-min-isr',
      `this commit (at ${ms(commit.atMs)}, by ${commit.leader} with the ISR [${commit.isr.join(', ')}], below min.insync.replicas)`,
    );
  const kept = story.kept[0];
  if (bugs.includes('epoch-lookup-kip101') && kept !== undefined)
    return bugLine(
      'epoch-lookup-kip101',
      `this truncation that kept a record its leader does not have (${kept.node}'s, at ${ms(kept.event.atMs)}, following ${kept.leader})`,
    );
  if (bugs.includes('epoch-lookup-kip101') && story.covered.length > 0)
    return bugLine(
      'epoch-lookup-kip101',
      `two records committed at one offset (${committedLabel(story.value, story.covered)} and ${[...new Set(story.covered.map((cover) => cover.label))].join(', ')})`,
    );
  return null;
}
