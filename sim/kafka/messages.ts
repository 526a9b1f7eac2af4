// Every message of the simulated Kafka cluster, as one discriminated union on `kind`.

import type { DataMessage } from './broker/messages.ts';
import type { ControlMessage } from './controller/messages.ts';
import type { RaftMessage } from './raft/messages.ts';

export type ClusterMessage = RaftMessage | ControlMessage | DataMessage;

export function isRaftMessage(message: ClusterMessage): message is RaftMessage {
  return message.kind.startsWith('raft.');
}
