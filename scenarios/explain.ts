// The stories of a run's violations, for `kafkasim repro` and `run`, from its trace events and
// history: one per lost record (scenarios/explain-records.ts) and the metadata quorum's, a
// committed entry lost or contradicted, two leaders in one epoch, brokers behind a leader that
// never resigned (scenarios/explain-metadata.ts), and what healing did not bring back: a
// partition without a leader or not fully replicated, a broker out of service
// (scenarios/explain-heal.ts). A summary first says how the stories relate to
// the verdict's counts (which violations they tell, which happened the same way, which were only
// counted). Pure: data in, lines out. The events come from a bounded collector (`StoryEvents`).

import type { BugName } from '../sim/kafka/bugs.ts';
import type { HistoryEntry } from '../sim/kafka/clients/history.ts';
import { assertNever } from '../sim/kernel/assert.ts';
import type { TraceEvent } from '../sim/kernel/trace.ts';
import { listed, num, type Story, type StoryEvent } from './explain-common.ts';
import { HEAL_STORY_KINDS, healStory, healStoryKey } from './explain-heal.ts';
import {
  electionStory,
  explainMetadataLoss,
  staleLeaders,
  staleStory,
} from './explain-metadata.ts';
import { explainLoss } from './explain-records.ts';
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
  'replica.isr-expand',
  'node.crash',
  'node.start',
  'controller.session-expired',
  'raft.role',
  'raft.voted',
  'raft.vote-refused',
  'raft.leader-lost',
  'raft.truncate',
  'raft.resign',
  ...HEAL_STORY_KINDS,
]);

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
  /** Distinct stories told at most; the summary names the others. */
  readonly storiesMax?: number;
  /**
   * How often each invariant broke, past the kept examples too (the report's `counts`, the
   * verdict's numbers): the summary relates the stories to them. Without them it can speak only
   * of the violations kept as examples.
   */
  readonly counts?: Readonly<Record<string, number>>;
  /** The run's bug switches: a story whose mechanism is what one of them turns on says so. */
  readonly bugs?: readonly BugName[];
}

/**
 * A summary of how the stories relate to the verdict's counts, then one story per lost record
 * named by a record-loss violation, per committed metadata entry lost or contradicted
 * (raft-log-matching), per metadata epoch with two leaders (raft-election-safety) and per stale
 * metadata leader (metadata-staleness-bounded), per partition without a leader or not fully
 * replicated and broker out of service after healing (leader-elected-after-heal,
 * acked-fully-replicated), as lines (no colour). Stories that happened the same
 * way are told once. No violations, no lines; violations with no story, the summary alone.
 */
export function explainViolations(input: ExplainInput): string[] {
  const stories = storiesOf(input);
  // With no story at all, the summary still says so, invariant by invariant.
  if (input.violations.length === 0) return [];
  const storiesMax = input.storiesMax ?? 3;
  const tellings = tellingsOf(stories, storiesMax);
  const lines = summaryLines(input, stories, tellings, storiesMax);
  for (const story of stories)
    if (tellings.get(story)?.kind === 'told') lines.push('', ...story.lines);
  if ((input.droppedEvents ?? 0) > 0)
    lines.push(
      '',
      `(the story collector kept its first ${input.events.length} events and dropped ${input.droppedEvents}: later events may be missing)`,
    );
  return lines;
}

// ---- stories, and what they tell of the verdict ----------------------------------------------

type StoryKind = 'record' | 'metadata' | 'stale' | 'election' | 'heal';

type Telling =
  | { readonly kind: 'told' }
  | { readonly kind: 'same'; readonly as: Story }
  | { readonly kind: 'untold' };

/** The violations grouped by the story they tell, in the order of their first violation. */
function storiesOf(input: ExplainInput): Story[] {
  const groups = new Map<string, { kind: StoryKind; violations: ViolationReport[] }>();
  for (const violation of input.violations) {
    const key = storyKeyOf(violation, input.events);
    if (key === null) continue;
    const group = groups.get(key.id);
    if (group === undefined) groups.set(key.id, { kind: key.kind, violations: [violation] });
    else group.violations.push(violation);
  }
  return [...groups].map(([id, group]) => tellStory(id, group.kind, group.violations, input));
}

/** The story a violation belongs to, with an id shared by the violations that tell the same one. */
function storyKeyOf(
  violation: ViolationReport,
  events: readonly StoryEvent[],
): { kind: StoryKind; id: string } | null {
  const { value, offset } = violation;
  if ((RECORD_LOSS_INVARIANTS as readonly string[]).includes(violation.invariant)) {
    if (value === undefined || offset === undefined) return null;
    return { kind: 'record', id: `${violation.topic}-${violation.partition}|${offset}|${value}` };
  }
  if (violation.invariant === 'raft-log-matching') {
    if (value === undefined || offset === undefined) return null;
    return { kind: 'metadata', id: `metadata|${offset}|${value}` };
  }
  if (violation.invariant === 'metadata-staleness-bounded') {
    const stale = staleLeaders(events, violation.sinceMs ?? violation.atMs, violation.atMs);
    if (stale.length === 0) return null;
    return {
      kind: 'stale',
      id: `stale|${stale.map(({ leader }) => `${leader.node}@${num(leader, 'epoch')}`).join(',')}`,
    };
  }
  if (violation.invariant === 'raft-election-safety' && violation.nodes?.length === 2) {
    if (violation.epoch === undefined) return null;
    return { kind: 'election', id: `election|${violation.epoch}` };
  }
  if (
    violation.invariant === 'leader-elected-after-heal' ||
    violation.invariant === 'acked-fully-replicated'
  ) {
    const key = healStoryKey(violation);
    return key === null ? null : { kind: 'heal', id: key.id };
  }
  return null;
}

function tellStory(
  id: string,
  kind: StoryKind,
  violations: readonly ViolationReport[],
  input: ExplainInput,
): Story {
  const first = violations[0] as ViolationReport;
  const bugs = input.bugs ?? [];
  switch (kind) {
    case 'record': {
      const told = explainLoss(violations, input.events, input.history, bugs, input.violations);
      // A write retried without idempotence can sit at two offsets: then the offset names it.
      const elsewhere = input.violations.some(
        (other) =>
          other.value === first.value &&
          other.offset !== first.offset &&
          other.topic === first.topic &&
          other.partition === first.partition,
      );
      return {
        id,
        violations,
        label: elsewhere ? `${first.value} at offset ${first.offset}` : (first.value ?? '?'),
        lines: told.lines,
        shape: told.shape,
        alike: (rep) =>
          `lost the same way as ${rep.label}: the same replicas, crashes, truncations and election`,
      };
    }
    case 'metadata':
      return {
        id,
        violations,
        label: `${first.value} at offset ${first.offset}`,
        lines: explainMetadataLoss(violations, input.events, bugs),
        shape: id,
        alike: (rep) => `the same way as ${rep.label}`,
      };
    case 'stale':
      return staleStory(id, violations, input.events, bugs);
    case 'election':
      return electionStory(id, first, input.events, bugs);
    case 'heal':
      return healStory(id, violations, input.events, bugs);
    default:
      return assertNever(kind, 'story kind');
  }
}

/**
 * Which stories are told: the first of each shape, up to `storiesMax`, one for each invariant
 * first (two stories of one invariant do not crowd out the only story of another), then in
 * order; the others happened the same way as a told one, or are not told.
 */
function tellingsOf(stories: readonly Story[], storiesMax: number): Map<Story, Telling> {
  const firstOfShape = new Map<string, Story>();
  for (const story of stories)
    if (!firstOfShape.has(story.shape)) firstOfShape.set(story.shape, story);
  const distinct = [...firstOfShape.values()];
  const told = new Set<Story>();
  const covered = new Set<string>();
  for (const story of distinct) {
    if (told.size >= storiesMax) break;
    const invariants = story.violations.map((violation) => violation.invariant);
    if (invariants.every((invariant) => covered.has(invariant))) continue;
    told.add(story);
    for (const invariant of invariants) covered.add(invariant);
  }
  for (const story of distinct) {
    if (told.size >= storiesMax) break;
    told.add(story);
  }
  const tellings = new Map<Story, Telling>();
  for (const story of stories) {
    const first = firstOfShape.get(story.shape) as Story;
    if (first === story)
      tellings.set(story, told.has(story) ? { kind: 'told' } : { kind: 'untold' });
    else tellings.set(story, told.has(first) ? { kind: 'same', as: first } : { kind: 'untold' });
  }
  return tellings;
}

/**
 * The verdict's violations, invariant by invariant, and what the stories tell of them: how many
 * were kept as examples (the rest only counted), which stories are told below, which happened the
 * same way as a told one, which are not told.
 */
function summaryLines(
  input: ExplainInput,
  stories: readonly Story[],
  tellings: ReadonlyMap<Story, Telling>,
  storiesMax: number,
): string[] {
  const kept = new Map<string, number>();
  for (const violation of input.violations)
    kept.set(violation.invariant, (kept.get(violation.invariant) ?? 0) + 1);
  const invariants = [...new Set([...Object.keys(input.counts ?? {}), ...kept.keys()])];
  const countOf = (invariant: string) => input.counts?.[invariant] ?? kept.get(invariant) ?? 0;
  const total = invariants.reduce((sum, invariant) => sum + countOf(invariant), 0);
  // Without the counts, `×N` would read as the verdict's number: say what it is.
  const heads = invariants.map((invariant) =>
    input.counts === undefined
      ? `${invariant}, ${kept.get(invariant) ?? 0} kept`
      : `${invariant} ×${countOf(invariant)}`,
  );
  const width = Math.max(...heads.map((head) => head.length)) + 3;
  const lines = [
    input.counts === undefined
      ? `${plural(total, 'violation')} kept as examples (the verdict counts every one); what the stories below tell of them:`
      : `${plural(total, 'violation')}, as the verdict counts them; what the stories below tell of them:`,
  ];
  invariants.forEach((invariant, index) => {
    const sameRecord = sameRecordAs(invariant, input.violations, stories, tellings);
    const parts = invariantSummary(invariant, countOf(invariant), kept.get(invariant) ?? 0, {
      stories,
      tellings,
      storiesMax,
      followsFrom: followsFromLoss(invariant, countOf(invariant), input.violations) ?? sameRecord,
      sameRecord,
    });
    parts.forEach((part, at) => {
      lines.push(`  ${(at === 0 ? (heads[index] as string) : '').padEnd(width)}${part}`);
    });
  });
  return lines;
}

/**
 * Metadata high watermarks reported past what is committed, or going back, once a committed entry
 * was lost: they covered that entry, which the checker no longer counts as committed. Null when
 * some kept report is not of that kind (at or below the lost offset, or noticed before the loss).
 */
function followsFromLoss(
  invariant: string,
  count: number,
  violations: readonly ViolationReport[],
): string | null {
  if (invariant !== 'raft-hw-monotonic') return null;
  const losses = violations.filter(
    (each) =>
      each.invariant === 'raft-log-matching' &&
      each.offset !== undefined &&
      each.value !== undefined,
  );
  const first = losses.reduce<ViolationReport | null>(
    (lowest, each) =>
      lowest === null || (each.offset as number) < (lowest.offset as number) ? each : lowest,
    null,
  );
  const mine = violations.filter((each) => each.invariant === invariant);
  if (first === null || mine.length === 0) return null;
  const lostAt = first.offset as number;
  // Past the lost entry (counting it as committed), or gone back to it or below (its truncation).
  const wentBack = (each: ViolationReport) => each.message.includes(' went back ');
  // A high watermark past the lost entry is reported once the checker counts it lost; one going
  // back to it may come first (an observer truncating before the voters whose truncation makes
  // the loss a majority's), after the entry was committed.
  const committedAtMs = first.committedAtMs ?? first.atMs;
  const follows = mine.every(
    (each) =>
      each.offset !== undefined &&
      (wentBack(each)
        ? each.atMs >= committedAtMs && each.offset <= lostAt
        : each.atMs >= first.atMs && each.offset > lostAt),
  );
  if (!follows) return null;
  const how = first.heldInstead === undefined ? 'lost' : 'contradicted';
  const back = mine.filter(wentBack).length;
  const subject =
    mine.length < count
      ? `the ${mine.length} kept are high watermarks`
      : mine.length === 1
        ? 'it is a high watermark'
        : 'each is a high watermark';
  if (back === mine.length)
    return `${subject} going back to offset ${lostAt} or below as a node truncated the committed ${first.value} (told below)`;
  return `${subject} past offset ${lostAt}${back > 0 ? ' or gone back to it' : ''}, where the committed ${first.value} was ${how} (told below): the checker no longer counts it as committed`;
}

/**
 * Reports of one invariant with no story of their own, each about a record at a partition and
 * offset a told story is about (the end of the run finding again what a story lost): which.
 */
function sameRecordAs(
  invariant: string,
  violations: readonly ViolationReport[],
  stories: readonly Story[],
  tellings: ReadonlyMap<Story, Telling>,
): string | null {
  // Those of the invariant's reports no story tells (the others a story tells itself).
  const mine = violations.filter(
    (each) =>
      each.invariant === invariant && !stories.some((story) => story.violations.includes(each)),
  );
  const told = stories.filter((story) => tellings.get(story)?.kind === 'told');
  const samePlace = (a: ViolationReport, b: ViolationReport) =>
    a.offset !== undefined &&
    a.offset === b.offset &&
    a.topic === b.topic &&
    a.partition === b.partition;
  const matched = mine.map((each) =>
    told.find((story) =>
      story.violations.some((other) => other !== each && samePlace(each, other)),
    ),
  );
  if (mine.length === 0 || matched.some((story) => story === undefined)) return null;
  const labels = [...new Set(matched.map((story) => (story as Story).label))];
  return `at the offset${labels.length === 1 ? '' : 's'} of ${listed(labels)} (told below): the end of the run found the replicas still disagreeing there`;
}

function invariantSummary(
  invariant: string,
  count: number,
  kept: number,
  told: {
    readonly stories: readonly Story[];
    readonly tellings: ReadonlyMap<Story, Telling>;
    readonly storiesMax: number;
    readonly followsFrom: string | null;
    /** Where the invariant's reports no story tells sit: at a told story's offset (sameRecordAs). */
    readonly sameRecord: string | null;
  },
): string[] {
  const mine = told.stories.filter((story) =>
    story.violations.some((violation) => violation.invariant === invariant),
  );
  if (mine.length === 0) return [told.followsFrom ?? 'no story is told for this invariant'];
  const parts =
    kept < count ? [`${kept} kept as examples, the other ${count - kept} only counted`] : [];
  const named = (story: Story) => {
    const reports = story.violations.filter((each) => each.invariant === invariant).length;
    return reports > 1 ? `${story.label} (${reports} violations)` : story.label;
  };
  const toldHere = mine.filter((story) => told.tellings.get(story)?.kind === 'told');
  if (toldHere.length > 0) parts.push(`told below: ${listed(toldHere.map(named))}`);
  const alikeOf = new Map<Story, Story[]>();
  for (const story of mine) {
    const telling = told.tellings.get(story);
    if (telling?.kind === 'same')
      alikeOf.set(telling.as, [...(alikeOf.get(telling.as) ?? []), story]);
  }
  for (const [rep, alike] of alikeOf)
    parts.push(`${listed(alike.map(named))}: ${(alike[0] as Story).alike(rep)}`);
  const untold = mine.filter((story) => told.tellings.get(story)?.kind === 'untold');
  if (untold.length > 0)
    parts.push(
      `${listed(untold.map(named))}: not told (at most ${told.storiesMax} different stories are)`,
    );
  const storied = mine.reduce(
    (sum, story) => sum + story.violations.filter((each) => each.invariant === invariant).length,
    0,
  );
  if (storied < kept)
    parts.push(`${kept - storied} ${told.sameRecord ?? 'kept with no story (see the verdict)'}`);
  return parts;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
