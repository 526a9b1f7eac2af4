// The historical-bug switches (KAFKA.md, "Historical bugs"). Each brings back one behaviour that
// Kafka once had, as one small named branch at the place the fix lives, so that the fuzzer and
// the checkers can be judged on whether they find it. Only switches that exist in the model are
// listed: the bug-zoo tests run every one of them.

export interface BugSwitch {
  readonly name: string;
  readonly description: string;
  /** The invariant the switch is meant to break. */
  readonly breaks: string;
  /** Where the fix lives (KIP, JIRA, paper section). */
  readonly source: string;
}

export const BUG_SWITCHES = [
  {
    name: 'truncate-to-hw',
    description:
      'a follower truncates to its own (possibly stale) high watermark when it follows a new leader or restarts, instead of asking the leader by epoch',
    breaks: 'acked-write-durable',
    source: 'KIP-101, KAFKA-1211',
  },
  {
    name: 'epoch-lookup-kip101',
    description:
      "KIP-101's epoch lookup, which KIP-279 fixed: it answers the requested epoch with the start of the next larger epoch, so a follower keeps records of an epoch the leader never had",
    breaks: 'committed-prefix-agrees',
    source: 'KIP-279, KAFKA-6361',
  },
  {
    name: 'isr-join-stale-hw',
    description:
      "a follower joins the ISR on reaching the leader's (possibly stale) high watermark, before the leader's epoch start offset",
    breaks: 'acked-write-durable',
    source: 'KAFKA-7128',
  },
  {
    name: 'hw-ignores-min-isr',
    description: 'the high watermark advances while the ISR is smaller than min.insync.replicas',
    breaks: 'committed-read-stable',
    source: 'KAFKA-15583',
  },
  {
    name: 'no-elr',
    description:
      'no eligible leader replicas and no unclean-shutdown exclusion: the last ISR member is re-elected after losing unflushed data',
    breaks: 'acked-write-durable',
    source: 'KIP-966',
  },
  {
    name: 'no-broker-epoch',
    description:
      'fetches and ISR changes from a previous incarnation of a broker are accepted, so a replica that lost its data joins the ISR on its old fetches',
    breaks: 'acked-write-durable',
    source: 'KIP-380, KIP-903',
  },
  {
    name: 'raft-vote-ignores-log',
    description:
      'a metadata voter grants its vote without comparing logs, so a candidate missing committed entries can win',
    breaks: 'raft-log-matching',
    source: 'Raft §5.4.1',
  },
  {
    name: 'raft-commit-old-epoch',
    description:
      'the metadata leader advances the high watermark over entries of an older epoch by counting replicas',
    breaks: 'raft-log-matching',
    source: 'Raft §5.4.2',
  },
  {
    name: 'raft-vote-not-persisted',
    description:
      'a voter answers a vote before flushing it, so after a power failure it can vote twice in one epoch',
    breaks: 'raft-election-safety',
    source: 'KIP-595',
  },
  {
    name: 'raft-no-check-quorum',
    description:
      'a metadata leader cut off from the other voters never resigns and keeps serving stale metadata',
    breaks: 'metadata-staleness-bounded',
    source: 'KAFKA-15489',
  },
] as const satisfies readonly BugSwitch[];

export type BugName = (typeof BUG_SWITCHES)[number]['name'];

export const BUG_NAMES: readonly BugName[] = BUG_SWITCHES.map((bug) => bug.name);

export type Bugs = ReadonlySet<BugName>;

export const NO_BUGS: Bugs = new Set<BugName>();

export function isBugName(name: string): name is BugName {
  return (BUG_NAMES as readonly string[]).includes(name);
}
