// The KRaft quorum's requests and responses (KIP-595, KIP-996). Node ids are the kernel's node
// names; offsets index the metadata log from 0.

import type { NodeId } from '../../kernel/network.ts';
import type { RaftEntry } from './log.ts';

export type RaftError =
  | 'NONE'
  /** The request's epoch is older than the receiver's: the response says the current one. */
  | 'FENCED_LEADER_EPOCH'
  /** The request's epoch is newer than the receiver knows. */
  | 'UNKNOWN_LEADER_EPOCH'
  /** The receiver is not the leader; the response names the leader when it knows one. */
  | 'NOT_LEADER_OR_FOLLOWER';

export interface VoteRequest {
  readonly kind: 'raft.vote';
  /** The epoch the candidate stands in (for a pre-vote: the epoch it would stand in). */
  readonly epoch: number;
  readonly candidateId: NodeId;
  readonly lastEpoch: number;
  /** The candidate's log end offset. */
  readonly endOffset: number;
  readonly preVote: boolean;
}

export interface VoteResponse {
  readonly kind: 'raft.vote-response';
  /** The voter's epoch when it answered. */
  readonly epoch: number;
  /** The epoch the request was for, so late answers are recognised. */
  readonly requestEpoch: number;
  readonly granted: boolean;
  readonly preVote: boolean;
  readonly leaderId: NodeId | null;
}

export interface BeginQuorumEpochRequest {
  readonly kind: 'raft.begin-quorum-epoch';
  readonly epoch: number;
  readonly leaderId: NodeId;
}

export interface BeginQuorumEpochResponse {
  readonly kind: 'raft.begin-quorum-epoch-response';
  readonly epoch: number;
}

export interface EndQuorumEpochRequest {
  readonly kind: 'raft.end-quorum-epoch';
  readonly epoch: number;
  readonly leaderId: NodeId;
  /** Voters in the order the resigning leader prefers as successors (longest logs first). */
  readonly preferredSuccessors: readonly NodeId[];
}

export interface FetchRequest {
  readonly kind: 'raft.fetch';
  /** Correlates the response with the fetcher's request (a restarted fetcher ignores old ones). */
  readonly fetchId: number;
  /** The epoch the fetcher believes current. */
  readonly epoch: number;
  readonly replicaId: NodeId;
  readonly fetchOffset: number;
  readonly lastFetchedEpoch: number;
  readonly maxBytes: number;
}

export interface FetchResponse {
  readonly kind: 'raft.fetch-response';
  readonly fetchId: number;
  readonly error: RaftError;
  readonly epoch: number;
  readonly leaderId: NodeId | null;
  /** Set when the fetcher's log diverges: truncate to at most this end offset of this epoch. */
  readonly divergingEpoch: { readonly epoch: number; readonly endOffset: number } | null;
  readonly entries: readonly RaftEntry[];
  /** Offset of the first entry in `entries` (the request's fetch offset). */
  readonly baseOffset: number;
  readonly highWatermark: number;
}

export type RaftMessage =
  | VoteRequest
  | VoteResponse
  | BeginQuorumEpochRequest
  | BeginQuorumEpochResponse
  | EndQuorumEpochRequest
  | FetchRequest
  | FetchResponse;
