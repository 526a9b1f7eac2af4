// The kernel's public surface: a generic discrete-event machine that knows nothing about Kafka.

export { AssertionError, assert, assertNever, BoundExceededError } from './assert.ts';
export {
  CheckpointFile,
  CRASH_KINDS,
  type CrashKind,
  Disk,
  type DiskOptions,
  type DiskStats,
  LogFile,
} from './disk.ts';
export { EventQueue } from './event-queue.ts';
export {
  type BlockMode,
  type ChaosOptions,
  type Endpoint,
  type LatencyDistribution,
  type LinkSlowness,
  type Message,
  Network,
  type NetworkOptions,
  type NodeId,
  validateLatency,
} from './network.ts';
export {
  type DownReason,
  type Machine,
  type MachineFactory,
  type NodeContext,
  NodeHost,
  type NodeHostOptions,
  type NodeStatus,
  type TimerHandle,
} from './node.ts';
export { Rng, type RngState } from './rng.ts';
export {
  ActionEvent,
  IdleError,
  type RunBounds,
  type RunSummary,
  Scheduler,
  type SchedulerOptions,
  SimEvent,
} from './scheduler.ts';
export {
  assertMs,
  Clock,
  DAY_MS,
  formatMs,
  HOUR_MS,
  MINUTE_MS,
  type Ms,
  SECOND_MS,
} from './time.ts';
export {
  ChromeTraceWriter,
  firstDifference,
  Trace,
  type TraceEvent,
  type TraceFields,
  type TraceOptions,
  type TraceSink,
  type TraceValue,
  traceEventToJsonLine,
} from './trace.ts';
export { WORLD_NODE, World, type WorldOptions } from './world.ts';
