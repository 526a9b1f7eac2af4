// The metadata quorum's stories, for `kafkasim repro` and `run` (scenarios/explain.ts): a
// committed entry lost or contradicted (who appended it, when and by which leader it was
// committed, what each node holds at its offset, the election that made a loss permanent and the
// Raft rule it broke), two leaders in one epoch (the votes each had, the voter that voted twice),
// and brokers behind a leader that never resigned (check-quorum); each with the faults that
// enabled it and a line naming the bug switch whose mechanism it shows. Entries are named by their
// own ids, never by offset and epoch alone: two leaders in one epoch write two different entries
// at one offset. Pure: data in, lines out.

import type { BugName } from '../sim/kafka/bugs.ts';
import {
  bugLine,
  bugsOnLines,
  faultLines,
  lastEventBefore,
  listed,
  lossyCrash,
  ms,
  num,
  type Story,
  type StoryEvent,
  str,
  truncates,
} from './explain-common.ts';
import type { ViolationReport } from './run.ts';

// ---- the metadata quorum ---------------------------------------------------------------------

/** The voters: the nodes whose Raft node ever did more than observe. */
function votersIn(events: readonly StoryEvent[]): string[] {
  const voters = new Set<string>();
  for (const event of events) {
    if (event.kind === 'raft.voted') voters.add(event.node);
    if (event.kind === 'raft.role' && str(event, 'role') !== 'observer') voters.add(event.node);
  }
  return byId(voters);
}

/** By id, c2 before c10. */
export function byId(nodes: Iterable<string>): string[] {
  return [...nodes].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
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
  return lastEventBefore(
    events,
    node,
    atMs,
    (event) => event.kind === 'raft.role' && str(event, 'role') === 'follower',
  );
}

/** The leader `node` last followed at or before `atMs`: `c3 in epoch 7`. */
function followedAt(events: readonly StoryEvent[], node: string, atMs: number): string {
  const found = followedEvent(events, node, atMs);
  return found === null ? 'its leader' : `${str(found, 'leader')} in epoch ${num(found, 'epoch')}`;
}

/** The metadata leaders leading at `atMs`: elected, and since then no other role, resignation or crash. */
function leadingAt(events: readonly StoryEvent[], atMs: number): StoryEvent[] {
  const leading = new Map<string, StoryEvent>();
  for (const event of events) {
    if (event.atMs > atMs) break;
    if (event.kind === 'raft.role') {
      if (str(event, 'role') === 'leader') leading.set(event.node, event);
      else leading.delete(event.node);
    }
    if (event.kind === 'raft.resign' || event.kind === 'node.crash') leading.delete(event.node);
  }
  return [...leading.values()];
}

/** The epochs that had two leaders, elected at or before `atMs` (raft-election-safety broken). */
function epochsWithTwoLeaders(events: readonly StoryEvent[], atMs: number): Set<number> {
  const leaderOf = new Map<number, string>();
  const twice = new Set<number>();
  for (const event of events) {
    if (event.atMs > atMs) break;
    if (event.kind !== 'raft.role' || str(event, 'role') !== 'leader') continue;
    const epoch = num(event, 'epoch');
    const known = leaderOf.get(epoch);
    if (known === undefined) leaderOf.set(epoch, event.node);
    else if (known !== event.node) twice.add(epoch);
  }
  return twice;
}

/** A voter that voted for two candidates in one epoch, and the crash between its votes if any. */
interface DoubleVote {
  readonly voter: string;
  readonly first: StoryEvent;
  readonly second: StoryEvent;
  readonly crash: StoryEvent | undefined;
}

function doubleVotes(events: readonly StoryEvent[], epoch: number): DoubleVote[] {
  const votes = events.filter(
    (event) => event.kind === 'raft.voted' && num(event, 'epoch') === epoch,
  );
  const found: DoubleVote[] = [];
  for (const voter of new Set(votes.map((vote) => vote.node))) {
    const mine = votes.filter((vote) => vote.node === voter);
    const first = mine[0] as StoryEvent;
    const second = mine.find((vote) => str(vote, 'candidate') !== str(first, 'candidate'));
    if (second === undefined) continue;
    const crash = events.find(
      (event) =>
        event.kind === 'node.crash' &&
        event.node === voter &&
        event.atMs >= first.atMs &&
        event.atMs <= second.atMs,
    );
    found.push({ voter, first, second, crash });
  }
  return found;
}

// ---- a committed entry lost or contradicted --------------------------------------------------

/**
 * A raft-log-matching report, read (properties/raft-checker.ts). Its fields name the committed
 * entry, and either what one node holds there instead (`heldInstead`: c1 holds leader-change:c1
 * where leader-change:c3 was committed) or, for an entry no longer on a majority, the voters that
 * still hold it (`holders`).
 */
type MetadataReport =
  | {
      readonly kind: 'differs';
      readonly atMs: number;
      readonly node: string;
      readonly heldId: string;
      readonly sameEpoch: boolean;
      readonly committedEpoch: number;
    }
  | { readonly kind: 'lost'; readonly atMs: number; readonly holders: readonly string[] }
  | {
      readonly kind: 'unknown';
      readonly atMs: number;
      readonly nodes: readonly string[];
      readonly message: string;
    };

function metadataReportOf(violation: ViolationReport): MetadataReport {
  const instead = violation.heldInstead;
  if (instead !== undefined) {
    return {
      kind: 'differs',
      atMs: violation.atMs,
      node: instead.node,
      heldId: instead.value,
      sameEpoch: instead.epoch === instead.committedEpoch,
      committedEpoch: instead.committedEpoch ?? violation.epoch ?? -1,
    };
  }
  if (violation.holders !== undefined)
    return { kind: 'lost', atMs: violation.atMs, holders: Object.keys(violation.holders) };
  return {
    kind: 'unknown',
    atMs: violation.atMs,
    nodes: violation.nodes ?? [],
    message: violation.message,
  };
}

/**
 * A metadata entry, by its id: `leader-change:c3`, the entry a new leader appends first (at its
 * epoch start offset), naming itself; `c2-3-2`, a record appended by controller c2 as leader of
 * epoch 3, its record number 2 (from 0) since its process started.
 */
interface MetadataEntry {
  readonly id: string;
  readonly offset: number;
  readonly appender: string | null;
  readonly epoch: number | null;
  /** A record's number among those its controller appended since it started (null: a leader change). */
  readonly recordNumber: number | null;
}

function metadataEntryOf(
  id: string,
  offset: number,
  events: readonly StoryEvent[],
  hint: { readonly epoch: number | null; readonly untilMs: number },
): MetadataEntry {
  const record = /^(.+)-(\d+)-(\d+)$/.exec(id);
  if (record !== null) {
    const [, appender = '?', epoch, number] = record;
    return { id, offset, appender, epoch: Number(epoch), recordNumber: Number(number) };
  }
  const leader = /^leader-change:(.+)$/.exec(id)?.[1];
  if (leader === undefined)
    return { id, offset, appender: null, epoch: hint.epoch, recordNumber: null };
  const elected = events.findLast(
    (event) =>
      event.kind === 'raft.role' &&
      event.node === leader &&
      event.atMs <= hint.untilMs &&
      str(event, 'role') === 'leader' &&
      num(event, 'epochStartOffset') === offset,
  );
  const epoch = elected === undefined ? hint.epoch : num(elected, 'epoch');
  return { id, offset, appender: leader, epoch, recordNumber: null };
}

/** When a node is known to have held the entry, and how it is known. */
interface Holding {
  readonly atMs: number;
  readonly how: string;
}

/** What a metadata story knows, shared by its lines. */
interface MetadataStory {
  readonly events: readonly StoryEvent[];
  readonly entry: MetadataEntry;
  /** When the entry was committed (NaN: unknown). */
  readonly committedAtMs: number;
  /** The last report's time: what the story says a node holds, it holds then. */
  readonly noticedAtMs: number;
  readonly reports: readonly MetadataReport[];
  readonly voters: readonly string[];
  /** The other leaders of the entry's epoch, each with its own entries at the same offsets. */
  readonly rivals: readonly StoryEvent[];
  readonly holdings: ReadonlyMap<string, readonly Holding[]>;
  /** The voters that held it at the commit by count alone (empty when the count does not decide). */
  readonly majority: readonly string[];
}

/**
 * A committed metadata entry lost or contradicted: who appended it (its id names the leader and
 * the epoch), when it was committed and by which leader, a rival leader of the same epoch if there
 * was one, what each voter (and each broker a report names) holds at its offset, the election that
 * made a loss permanent with its votes and the rule it broke, and the faults that enabled it.
 */
export function explainMetadataLoss(
  violations: readonly ViolationReport[],
  events: readonly StoryEvent[],
  bugs: readonly BugName[],
): string[] {
  const violation = violations[0] as ViolationReport;
  const offset = violation.offset as number;
  const reports = violations.map(metadataReportOf);
  const committedAtMs = violation.committedAtMs ?? Number.NaN;
  const noticedAtMs = Math.max(...violations.map((each) => each.atMs));
  const differs = reports.find((report) => report.kind === 'differs');
  const entry = metadataEntryOf(violation.value as string, offset, events, {
    epoch: differs?.committedEpoch ?? violation.epoch ?? null,
    untilMs: Number.isNaN(committedAtMs) ? noticedAtMs : committedAtMs,
  });
  const since =
    entry.appender === null ? undefined : becameLeader(events, entry.appender, entry.epoch);
  const committer = committerOf(events, entry, committedAtMs);
  const rivals = [
    ...new Map(
      events
        .filter(
          (event) =>
            event.kind === 'raft.role' &&
            str(event, 'role') === 'leader' &&
            num(event, 'epoch') === entry.epoch &&
            event.node !== entry.appender,
        )
        .map((event) => [event.node, event]),
    ).values(),
  ];
  const story = withHoldings(
    { events, entry, committedAtMs, noticedAtMs, reports, rivals, voters: votersIn(events) },
    since,
    committer.leader,
  );
  const lines = [
    `${entry.id} at metadata offset ${offset}: ${violation.invariant} (noticed at ${ms(violation.atMs)})`,
    appendedLine(entry, since),
    committedLine(story, committer.text),
    ...rivals.map((rival) => rivalLine(story, rival)),
  ];
  // The voters in the order things happened to them (holding it, or unknown, last), then brokers.
  const rank = (node: string) => (story.voters.includes(node) ? 0 : 1);
  const rows = metadataNodes(story).map((node) => metadataRow(story, node));
  rows.sort((a, b) => rank(a.node) - rank(b.node) || a.atMs - b.atMs);
  lines.push(...rows.map((row) => `  ${row.node.padEnd(10)} ${row.text}`));
  const losses = rows.flatMap((row) => (row.lost === null ? [] : [row.lost]));
  const lostReported = reports.some((report) => report.kind === 'lost');
  const election =
    losses.length > 0 || lostReported ? metadataElection(story, committer.leader, losses) : null;
  lines.push(...(election?.lines ?? []));
  const bug = metadataBugLine(bugs, story, election?.rule ?? null);
  lines.push(...(bug === null ? bugsOnLines(bugs) : [bug]));
  const sinceMs = Number.isNaN(committedAtMs) ? (since?.atMs ?? 0) : committedAtMs;
  const lossTimes = losses.map((loss) => loss.atMs);
  const decisiveMs = Math.max(election?.atMs ?? 0, ...lossTimes, sinceMs);
  const keyTimes = [...lossTimes, ...(election === null ? [] : [election.atMs])];
  const involved = new Set([
    ...rows.filter((row) => row.lost !== null).map((row) => row.node),
    ...reports.flatMap((report) => (report.kind === 'lost' ? report.holders : [])),
    ...(election === null ? [] : [election.node]),
  ]);
  lines.push(...faultLines(events, sinceMs - 15_000, decisiveMs, involved, keyTimes));
  return lines;
}

/**
 * The leader that committed the entry: of the leaders leading at the commit, the one of the
 * highest epoch; of two leaders in that epoch, the entry's own appender when the entry is of that
 * epoch (a leader's log holds only its own entries of its epoch); else it is not known which.
 */
function committerOf(
  events: readonly StoryEvent[],
  entry: MetadataEntry,
  committedAtMs: number,
): { leader: StoryEvent | null; text: string } {
  if (Number.isNaN(committedAtMs)) return { leader: null, text: '' };
  const leading = leadingAt(events, committedAtMs);
  if (leading.length === 0) return { leader: null, text: '' };
  const epoch = Math.max(...leading.map((leader) => num(leader, 'epoch')));
  const highest = leading.filter((leader) => num(leader, 'epoch') === epoch);
  const own = highest.find((leader) => leader.node === entry.appender && entry.epoch === epoch);
  const leader = highest.length === 1 ? (highest[0] as StoryEvent) : (own ?? null);
  if (leader !== null)
    return { leader, text: ` (the leader then: ${leader.node} in epoch ${epoch})` };
  return {
    leader: null,
    text: ` (the leaders then: ${highest.map((each) => each.node).join(' and ')}, all of epoch ${epoch})`,
  };
}

/**
 * Who is known to have held the entry, and when: its appender (since its election), the leader
 * that committed it, the holders a report names, and the majority at the commit when only one
 * majority can have held it.
 */
function withHoldings(
  base: Omit<MetadataStory, 'holdings' | 'majority'>,
  since: StoryEvent | undefined,
  committer: StoryEvent | null,
): MetadataStory {
  const holdings = new Map<string, Holding[]>();
  const add = (node: string, holding: Holding) =>
    holdings.set(node, [...(holdings.get(node) ?? []), holding]);
  const committedAtMs = base.committedAtMs;
  if (base.entry.appender !== null)
    add(base.entry.appender, {
      atMs: since?.atMs ?? (Number.isNaN(committedAtMs) ? base.noticedAtMs : committedAtMs),
      how: 'appended it',
    });
  if (committer !== null)
    add(committer.node, { atMs: committedAtMs, how: 'committed it as the leader' });
  for (const report of base.reports)
    if (report.kind === 'lost')
      for (const node of report.holders)
        add(node, { atMs: report.atMs, how: `the checker found it there at ${ms(report.atMs)}` });
  const majority = heldByTheMajority({ ...base, holdings, majority: [] });
  for (const node of majority)
    if (!(holdings.get(node) ?? []).some((holding) => holding.atMs <= committedAtMs))
      add(node, { atMs: committedAtMs, how: '' });
  for (const list of holdings.values()) list.sort((a, b) => a.atMs - b.atMs);
  return { ...base, holdings, majority };
}

/**
 * The voters that held the entry at its commit, when the count decides it: a commit needs a
 * majority, so when exactly a majority of voters can have held it then, each of them did. Sound
 * only while every epoch so far had one leader (with two, a leader can count a follower holding
 * the other leader's entry); a voter cannot have held it when a report shows it without it (or
 * with another entry there) and no truncation or crash since the commit could have removed it.
 */
function heldByTheMajority(story: MetadataStory): string[] {
  const committedAtMs = story.committedAtMs;
  if (Number.isNaN(committedAtMs)) return [];
  if (epochsWithTwoLeaders(story.events, committedAtMs).size > 0) return [];
  const possible = story.voters.filter((voter) => !withoutItSinceTheCommit(story, voter));
  return possible.length === Math.floor(story.voters.length / 2) + 1 ? possible : [];
}

/** A report shows `node` without the entry, and nothing since the commit could have removed it. */
function withoutItSinceTheCommit(story: MetadataStory, node: string): boolean {
  const fromMs = Number.isNaN(story.committedAtMs) ? 0 : story.committedAtMs;
  return story.reports.some((report) => {
    const without =
      (report.kind === 'lost' && !report.holders.includes(node)) ||
      (report.kind === 'differs' && report.node === node);
    return (
      without &&
      !(story.holdings.get(node) ?? []).some((holding) => holding.atMs <= report.atMs) &&
      metadataLossOf(story.events, node, story.entry.offset, fromMs, report.atMs) === undefined
    );
  });
}

/** The first event in [fromMs, untilMs] that may have removed `node`'s entry at `offset`. */
function metadataLossOf(
  events: readonly StoryEvent[],
  node: string,
  offset: number,
  fromMs: number,
  untilMs: number,
): StoryEvent | undefined {
  return events.find(
    (event) =>
      event.node === node &&
      event.atMs >= fromMs &&
      event.atMs <= untilMs &&
      (truncates(event, 'raft.truncate', offset) || lossyCrash(event)),
  );
}

function appendedLine(entry: MetadataEntry, since: StoryEvent | undefined): string {
  if (entry.appender === null) return '  appended   (by whom unknown)';
  const epoch = entry.epoch === null ? 'its epoch' : `epoch ${entry.epoch}`;
  if (entry.recordNumber === null)
    return `  appended   by ${entry.appender} on becoming leader of ${epoch}${since === undefined ? '' : ` at ${ms(since.atMs)}`} (${entry.id}: the entry a new leader appends first, naming itself)`;
  return `  appended   by ${entry.appender}, leader of ${epoch}${since === undefined ? '' : ` since ${ms(since.atMs)}`} (${entry.id}: the ${ordinal(entry.recordNumber + 1)} record ${entry.appender} appended since its process started, in ${epoch})`;
}

function committedLine(story: MetadataStory, committer: string): string {
  if (Number.isNaN(story.committedAtMs)) return '  committed  (time unknown)';
  const majority =
    story.majority.length === 0
      ? ''
      : `; a majority of the voters held it then: ${listed(story.majority)} (${story.majority.length} of ${story.voters.length})`;
  return `  committed  at ${ms(story.committedAtMs)}: the quorum's high watermark passed offset ${story.entry.offset}${committer}${majority}`;
}

/** Another leader of the entry's epoch, and its own entry at the offset when known. */
function rivalLine(story: MetadataStory, rival: StoryEvent): string {
  const { entry } = story;
  const reported = story.reports.find(
    (report) =>
      report.kind === 'differs' && report.heldId.startsWith(`${rival.node}-${entry.epoch}-`),
  );
  const held =
    num(rival, 'epochStartOffset') === entry.offset
      ? `leader-change:${rival.node}`
      : reported?.kind === 'differs'
        ? reported.heldId
        : null;
  return `  rival      ${rival.node} also led epoch ${entry.epoch}, since ${ms(rival.atMs)} (two leaders in one epoch: raft-election-safety)${held === null ? '' : `, and appended ${held} at this offset`}: offset ${entry.offset} of epoch ${entry.epoch} names two different entries`;
}

/** The voters, then the other nodes a report names (brokers, which observe the metadata). */
function metadataNodes(story: MetadataStory): string[] {
  const named = new Set<string>();
  for (const report of story.reports) {
    if (report.kind === 'differs') named.add(report.node);
    if (report.kind === 'lost') for (const node of report.holders) named.add(node);
    if (report.kind === 'unknown') for (const node of report.nodes) named.add(node);
  }
  for (const voter of story.voters) named.delete(voter);
  return [...story.voters, ...byId(named)];
}

/** What `node` holds at the entry's offset, or how it lost it, as far as the trace and reports show. */
function metadataRow(
  story: MetadataStory,
  node: string,
): { node: string; atMs: number; text: string; lost: StoryEvent | null } {
  const { events, entry } = story;
  const holdings = story.holdings.get(node) ?? [];
  const holding = holdings[holdings.length - 1];
  const differs = story.reports.find(
    (report): report is Extract<MetadataReport, { kind: 'differs' }> =>
      report.kind === 'differs' && report.node === node,
  );
  const commitMs = Number.isNaN(story.committedAtMs) ? 0 : story.committedAtMs;
  const row = (atMs: number, text: string, lost: StoryEvent | null = null) => ({
    node,
    atMs,
    text,
    lost,
  });
  if (holding !== undefined && (differs === undefined || holding.atMs >= differs.atMs)) {
    const lost = metadataLossOf(events, node, entry.offset, holding.atMs, story.noticedAtMs);
    if (lost !== undefined) return row(lost.atMs, metadataLossText(story, lost, 'it'), lost);
    // How it is known: what it did with the entry, else the checker's report.
    const hows = [...new Set(holdings.map((each) => each.how).filter((how) => how !== ''))];
    const did = hows.filter((how) => !how.startsWith('the checker'));
    return row(
      Number.POSITIVE_INFINITY,
      `holds it${hows.length === 0 ? '' : ` (${(did.length > 0 ? did : hows).join(', ')})`}`,
    );
  }
  if (differs !== undefined) {
    const lost = metadataLossOf(
      events,
      node,
      entry.offset,
      holding?.atMs ?? commitMs,
      differs.atMs,
    );
    const what = holding === undefined ? `its entry at offset ${entry.offset}` : 'it';
    const before = lost === undefined ? '' : `${metadataLossText(story, lost, what)}, then `;
    const epoch = differs.sameEpoch
      ? 'of the same epoch'
      : 'of another epoch, below its high watermark';
    return row(
      differs.atMs,
      `${before}holds ${differs.heldId} there instead, ${epoch} (reported at ${ms(differs.atMs)})`,
      lost ?? null,
    );
  }
  if (withoutItSinceTheCommit(story, node)) {
    // A leader's first entry is its own leader-change entry at its epoch's start: if that is this
    // offset, that is what it held here instead.
    const own = events.findLast(
      (event) =>
        event.node === node &&
        event.kind === 'raft.role' &&
        str(event, 'role') === 'leader' &&
        event.atMs <= story.noticedAtMs &&
        num(event, 'epochStartOffset') === entry.offset &&
        num(event, 'epoch') !== entry.epoch,
    );
    return row(
      Number.POSITIVE_INFINITY,
      own === undefined
        ? 'never had it (or lost it before the commit)'
        : `never had it: it appended its own leader-change:${node} at this offset on becoming leader of epoch ${num(own, 'epoch')} at ${ms(own.atMs)}`,
    );
  }
  const lost = metadataLossOf(events, node, entry.offset, commitMs, story.noticedAtMs);
  if (lost !== undefined)
    return row(
      lost.atMs,
      metadataLossText(story, lost, `its entry at offset ${entry.offset}`),
      lost,
    );
  return row(Number.POSITIVE_INFINITY, unknownHolding(story, node));
}

/** A truncation past the offset, or a crash that may have lost it; `what` is `it` when it held the entry. */
function metadataLossText(story: MetadataStory, lost: StoryEvent, what: string): string {
  if (lost.kind === 'raft.truncate')
    return `truncated ${what} at ${ms(lost.atMs)}, following ${followedAt(story.events, lost.node, lost.atMs)}: its log ${num(lost, 'from')} → ${num(lost, 'to')}, cut back to where it diverges from the leader's log, which the leader's answer to its fetch put after epoch ${num(lost, 'epoch')} (diverging-epoch)`;
  return `may have lost ${what} in a ${str(lost, 'crash')} crash at ${ms(lost.atMs)} (it loses what it had not flushed)`;
}

/** A node no report names: with two leaders in the entry's epoch, whose entries it may hold. */
function unknownHolding(story: MetadataStory, node: string): string {
  const { entry } = story;
  const named = story.reports.find(
    (report) => report.kind === 'unknown' && report.nodes.includes(node),
  );
  if (named?.kind === 'unknown')
    return `named by the checker at ${ms(named.atMs)}: ${named.message}`;
  const follows = story.events.filter(
    (event) =>
      event.node === node &&
      event.kind === 'raft.role' &&
      str(event, 'role') === 'follower' &&
      num(event, 'epoch') === entry.epoch &&
      event.atMs <= story.noticedAtMs,
  );
  if (story.rivals.length === 0 || follows.length === 0)
    return `no report kept names it; what it holds at offset ${entry.offset}, the trace does not say`;
  const followed = follows
    .map((event) => `${str(event, 'leader')} (${ms(event.atMs)})`)
    .join(', then ');
  return `no report kept names it; in epoch ${entry.epoch} it followed ${followed}: which leader's entry it holds at offset ${entry.offset}, the trace does not say`;
}

/**
 * The election that made a lost entry permanent: the leader the first truncation of it followed,
 * else the first leader after the commit whose log ended before it; with its votes, and the rule
 * broken: votes for a log less up to date than the voter's own (§5.4.1), or, with rightful votes,
 * the commit of an older epoch's entry by counting replicas (§5.4.2).
 */
function metadataElection(
  story: MetadataStory,
  committer: StoryEvent | null,
  losses: readonly StoryEvent[],
): { lines: string[]; atMs: number; node: string; rule: '5.4.1' | '5.4.2' | null } | null {
  const { events, entry } = story;
  const sinceMs = Number.isNaN(story.committedAtMs) ? 0 : story.committedAtMs;
  const firstTruncation = losses
    .filter((loss) => loss.kind === 'raft.truncate')
    .sort((a, b) => a.atMs - b.atMs)[0];
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
        num(event, 'epochStartOffset') <= entry.offset,
    );
  if (election === undefined) return null;
  const electedEpoch = num(election, 'epoch');
  const lines = [
    `  permanent  at ${ms(election.atMs)} ${election.node} became leader of epoch ${electedEpoch} without it (its log ended at ${num(election, 'epochStartOffset')}), voted for by ${votesFor(events, election.node, electedEpoch)}: every voter that follows it drops the entry`,
  ];
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
  let rule: '5.4.1' | '5.4.2' | null = null;
  if (behind.length > 0) {
    rule = '5.4.1';
    lines.push(
      `             votes for a log less up to date than the voter's own, which Raft refuses (§5.4.1): ${behind.join('; ')}`,
    );
  } else if (
    num(election, 'epochStartOffset') > entry.offset &&
    entry.epoch !== null &&
    committer !== null &&
    num(committer, 'epoch') > entry.epoch
  ) {
    rule = '5.4.2';
    // The votes, each voter's log against the candidate's: none more up to date (§5.4.1 held).
    const votes = events
      .filter(
        (event) =>
          event.kind === 'raft.voted' &&
          str(event, 'candidate') === election.node &&
          num(event, 'epoch') === electedEpoch,
      )
      .map(
        (event) =>
          `${event.node}'s log (last epoch ${num(event, 'lastEpoch')}, end ${num(event, 'endOffset')}) was no more up to date than ${election.node}'s (last epoch ${num(event, 'candidateLastEpoch')}, end ${num(event, 'candidateEndOffset')})`,
      );
    const rightful =
      votes.length === 0
        ? 'the votes were rightful (no voter refused by §5.4.1 voted)'
        : `the votes were rightful (§5.4.1): ${votes.join('; ')}`;
    lines.push(
      `             ${rightful}; the fault is the commit, by the leader of epoch ${num(committer, 'epoch')} counting replicas of an entry of epoch ${entry.epoch}; Raft commits an older epoch's entries only with one of the leader's own epoch after them (§5.4.2)`,
    );
  }
  return { lines, atMs: election.atMs, node: election.node, rule };
}

/** The switch whose mechanism the story shows, if it was on. */
function metadataBugLine(
  bugs: readonly BugName[],
  story: MetadataStory,
  rule: '5.4.1' | '5.4.2' | null,
): string | null {
  if (rule === '5.4.1' && bugs.includes('raft-vote-ignores-log'))
    return bugLine('raft-vote-ignores-log', 'a vote for a less up-to-date log');
  if (rule === '5.4.2' && bugs.includes('raft-commit-old-epoch'))
    return bugLine('raft-commit-old-epoch', "this commit of an older epoch's entry");
  const epoch = story.entry.epoch;
  if (story.rivals.length > 0 && epoch !== null && bugs.includes('raft-vote-not-persisted')) {
    const twice = doubleVotes(story.events, epoch).find((vote) => vote.crash !== undefined);
    if (twice !== undefined)
      return bugLine(
        'raft-vote-not-persisted',
        `the double vote that made the two leaders of epoch ${epoch} (${twice.voter}'s, across its ${str(twice.crash as StoryEvent, 'crash')} crash at ${ms((twice.crash as StoryEvent).atMs)})`,
      );
  }
  return null;
}

/** `4th`, `21st`. */
function ordinal(count: number): string {
  const tens = count % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][count % 10] ?? 'th');
  return `${count}${suffix}`;
}

// ---- two leaders in one epoch ----------------------------------------------------------------

/**
 * Two leaders in one metadata epoch: each with the votes it had, the voter that granted two votes
 * in that epoch and what happened to it between them (a crash that lost an unflushed vote), and
 * the faults that enabled it.
 */
export function electionStory(
  id: string,
  violation: ViolationReport,
  events: readonly StoryEvent[],
  bugs: readonly BugName[],
): Story {
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
      `  ${node.padEnd(10)} became leader${event === undefined ? '' : ` at ${ms(event.atMs)}`}, voted for by ${votesFor(events, node, epoch)}${candidacy(events, node, epoch)}`,
    );
  const involved = new Set(violation.nodes ?? []);
  const keyTimes: number[] = [];
  const twice = doubleVotes(events, epoch);
  for (const { voter, first, second, crash } of twice) {
    involved.add(voter);
    if (crash !== undefined) keyTimes.push(crash.atMs);
    lines.push(
      `  ${voter.padEnd(10)} voted twice in epoch ${epoch}: for ${str(first, 'candidate')} at ${ms(first.atMs)}, then${crash === undefined ? '' : `, after a ${str(crash, 'crash')} crash at ${ms(crash.atMs)} that lost what it had not flushed,`} for ${str(second, 'candidate')} at ${ms(second.atMs)}`,
    );
  }
  const acrossCrash = twice.find((vote) => vote.crash !== undefined);
  if (acrossCrash !== undefined && bugs.includes('raft-vote-not-persisted'))
    lines.push(
      bugLine(
        'raft-vote-not-persisted',
        `${acrossCrash.voter}'s double vote (its vote for ${str(acrossCrash.first, 'candidate')} lost in its ${str(acrossCrash.crash as StoryEvent, 'crash')} crash)`,
      ),
    );
  else lines.push(...bugsOnLines(bugs));
  const fromMs = Math.min(...leaders.map(({ event }) => event?.atMs ?? violation.atMs));
  lines.push(...faultLines(events, fromMs - 15_000, violation.atMs, involved, keyTimes));
  const crash = acrossCrash?.crash === undefined ? null : str(acrossCrash.crash, 'crash');
  return {
    id,
    violations: [violation],
    label: `two leaders in metadata epoch ${epoch}`,
    lines,
    shape: crash === null ? id : `election|${crash}`,
    alike: (rep) =>
      `the same way as ${rep.label.replace('two leaders in metadata ', '')}: a voter voted for both leaders, across a ${crash} crash`,
  };
}

/**
 * How `node` came to stand in `epoch`, and who refused it: `; a candidate since 9679 ms, after it
 * lost leader c2 of epoch 1 at 9676 ms (no fetch answered within the fetch timeout); refused by c3
 * (this voter voted for c3 in the epoch)`. Empty when the trace does not say.
 */
function candidacy(events: readonly StoryEvent[], node: string, epoch: number): string {
  const stood = events.findLast(
    (event) =>
      event.node === node &&
      event.kind === 'raft.role' &&
      str(event, 'role') === 'candidate' &&
      num(event, 'epoch') === epoch,
  );
  if (stood === undefined) return '';
  const lost = events.findLast(
    (event) => event.node === node && event.kind === 'raft.leader-lost' && event.atMs <= stood.atMs,
  );
  const why =
    lost === undefined || num(lost, 'epoch') !== epoch - 1
      ? ''
      : `, after it lost leader ${str(lost, 'leader')} of epoch ${num(lost, 'epoch')} at ${ms(lost.atMs)} (no fetch answered within the fetch timeout)`;
  const refusals = events
    .filter(
      (event) =>
        event.kind === 'raft.vote-refused' &&
        str(event, 'candidate') === node &&
        num(event, 'epoch') === epoch,
    )
    .map((event) => `${event.node} (${str(event, 'why')})`);
  const refused = refusals.length === 0 ? '' : `; refused by ${refusals.join(', ')}`;
  return `; a candidate since ${ms(stood.atMs)}${why}${refused}`;
}

// ---- a stale leader --------------------------------------------------------------------------

/** A leader the voters had left behind: a later epoch had a leader while it still led. */
export interface StaleLeader {
  readonly leader: StoryEvent;
  /** The leader of the latest epoch when it was first seen stale. */
  readonly newer: StoryEvent;
  /** When it stopped leading (resigned, changed role, crashed); null: still leading. */
  untilMs: number | null;
}

/**
 * The leaders that led an epoch while a later epoch had a leader too at some moment from
 * `fromMs` to `atMs` (a broker behind on the metadata over that stretch may have been fetching
 * from them), oldest epoch first.
 */
export function staleLeaders(
  events: readonly StoryEvent[],
  fromMs: number,
  atMs: number,
): StaleLeader[] {
  const leading = new Map<string, StoryEvent>();
  const stale = new Map<StoryEvent, StaleLeader>();
  const note = (): void => {
    let newest: StoryEvent | undefined;
    for (const leader of leading.values())
      if (newest === undefined || num(leader, 'epoch') > num(newest, 'epoch')) newest = leader;
    for (const leader of leading.values())
      if (newest !== undefined && num(leader, 'epoch') < num(newest, 'epoch') && !stale.has(leader))
        stale.set(leader, { leader, newer: newest, untilMs: null });
  };
  let inWindow = false;
  for (const event of events) {
    if (event.atMs > atMs) break;
    if (!inWindow && event.atMs >= fromMs) {
      inWindow = true;
      note();
    }
    const wasLeading = leading.get(event.node);
    if (event.kind === 'raft.role') {
      if (str(event, 'role') === 'leader') leading.set(event.node, event);
      else leading.delete(event.node);
    }
    if (event.kind === 'raft.resign' || event.kind === 'node.crash') leading.delete(event.node);
    if (wasLeading !== undefined && leading.get(event.node) !== wasLeading) {
      const ended = stale.get(wasLeading);
      if (ended !== undefined && ended.untilMs === null) ended.untilMs = event.atMs;
    }
    if (inWindow) note();
  }
  if (!inWindow) note();
  return [...stale.values()].sort((a, b) => num(a.leader, 'epoch') - num(b.leader, 'epoch'));
}

/**
 * Brokers behind on the metadata while a leader the voters had left behind still led: which
 * leader, since when and until when, which leader replaced it, and the rule it broke
 * (check-quorum).
 */
export function staleStory(
  id: string,
  violations: readonly ViolationReport[],
  events: readonly StoryEvent[],
  bugs: readonly BugName[],
): Story {
  const violation = violations[0] as ViolationReport;
  const stales = staleLeaders(events, violation.sinceMs ?? violation.atMs, violation.atMs);
  const behind = [...new Set(violations.map((each) => each.nodes?.[0] ?? 'a broker'))];
  const lines = [
    `${listed(behind)} behind on the metadata: ${violation.invariant} (noticed at ${ms(violation.atMs)})`,
  ];
  for (const { leader, newer, untilMs } of stales) {
    const led = `${leader.node} has led epoch ${num(leader, 'epoch')} since ${ms(leader.atMs)}`;
    const though = `${newer.node} has led epoch ${num(newer, 'epoch')} since ${ms(newer.atMs)}`;
    lines.push(
      untilMs === null
        ? `  stale      ${led} and never resigned, though ${though}`
        : `  stale      ${leader.node} led epoch ${num(leader, 'epoch')} from ${ms(leader.atMs)} until ${ms(untilMs)}, ${ms(untilMs - newer.atMs)} after ${newer.node} came to lead epoch ${num(newer, 'epoch')} (${ms(newer.atMs)})`,
    );
  }
  lines.push(
    '  why        a leader that a majority of voters no longer fetches from must resign within 1.5 × the fetch timeout (check-quorum, KAFKA-15489); until it does, brokers that still reach it fetch its log, where nothing more is committed (its high watermark stops: no majority fetches from it) and what it appends is lost when it learns of the new epoch',
  );
  const leaders = stales.map((stale) => stale.leader);
  const stale = leaders
    .map((leader) => `${leader.node} of epoch ${num(leader, 'epoch')}`)
    .join(' and ');
  lines.push(
    ...(bugs.includes('raft-no-check-quorum')
      ? [bugLine('raft-no-check-quorum', `a leader that does not resign (here ${stale})`)]
      : bugsOnLines(bugs)),
  );
  const involved = new Set(leaders.map((leader) => leader.node));
  const fromMs = Math.min(...leaders.map((leader) => leader.atMs));
  lines.push(...faultLines(events, fromMs, violation.atMs, involved, []));
  return {
    id,
    violations,
    label: `${listed(behind)} behind while ${stale} had not resigned`,
    lines,
    shape: id,
    alike: (rep) => `the same way as ${rep.label}`,
  };
}
