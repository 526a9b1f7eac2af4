// A KRaft-mode cluster: controllers (the metadata quorum's voters), brokers (its observers) and an
// admin client, on one simulated world.

import { interned } from '../../kernel/interned.ts';
import type { NodeId } from '../../kernel/network.ts';
import type { NodeHost } from '../../kernel/node.ts';
import { World, type WorldOptions } from '../../kernel/world.ts';
import type { ReplicaConfig } from '../broker/replica-manager.ts';
import { type Bugs, NO_BUGS } from '../bugs.ts';
import { AdminClient } from '../clients/admin.ts';
import type { ClusterMessage } from '../messages.ts';
import { DEFAULT_RAFT_CONFIG, type RaftConfig } from '../raft/raft-node.ts';
import { type BrokerConfig, DEFAULT_BROKER_CONFIG, KraftBroker } from './broker-node.ts';
import { type ControllerConfig, KraftController } from './controller-node.ts';

export interface KraftClusterSpec {
  readonly seed: number | string;
  readonly controllers: number;
  readonly brokers: number;
  readonly bugs?: Bugs;
  readonly raft?: Partial<Omit<RaftConfig, 'voters'>>;
  /** The controllers' own metadata fetch cap (default: `raft`'s); brokers keep `raft`'s. */
  readonly controllerFetchMaxBytes?: number;
  readonly brokerSessionTimeoutMs?: number;
  /** metadata.max.idle.interval.ms (KIP-835; default 500, 0 for no NoOp records). */
  readonly metadataMaxIdleIntervalMs?: number;
  readonly elr?: boolean;
  readonly replica?: Partial<ReplicaConfig>;
  readonly trace?: WorldOptions['trace'];
}

export interface KraftCluster {
  readonly world: World<ClusterMessage>;
  readonly controllers: readonly NodeId[];
  /** The controllers' hosts, in `controllers`' order (a host outlives its restarts). */
  readonly controllerHosts: readonly NodeHost<ClusterMessage>[];
  readonly brokers: readonly NodeId[];
  readonly admin: NodeId;
  readonly raftConfig: RaftConfig;
  /** Adds and starts one more broker (the next id); returns its id. */
  addBroker(): NodeId;
}

export const ADMIN_NODE = 'admin';

export function controllerIds(count: number): NodeId[] {
  return Array.from({ length: count }, (_, index) => interned(`c${index + 1}`));
}

export function brokerIds(count: number): NodeId[] {
  return Array.from({ length: count }, (_, index) => interned(`b${index + 1}`));
}

/** Builds and starts every node. */
export function buildKraftCluster(spec: KraftClusterSpec): KraftCluster {
  const controllers = controllerIds(spec.controllers);
  const brokers = brokerIds(spec.brokers);
  const raftConfig: RaftConfig = { ...DEFAULT_RAFT_CONFIG, ...spec.raft, voters: controllers };
  const bugs = spec.bugs ?? NO_BUGS;
  const world = new World<ClusterMessage>(
    spec.trace === undefined ? { seed: spec.seed } : { seed: spec.seed, trace: spec.trace },
  );
  const controllerConfig: ControllerConfig = {
    raft:
      spec.controllerFetchMaxBytes === undefined
        ? raftConfig
        : { ...raftConfig, fetchMaxBytes: spec.controllerFetchMaxBytes },
    brokerSessionTimeoutMs: spec.brokerSessionTimeoutMs ?? 9_000,
    sessionCheckEveryMs: 500,
    elr: spec.elr ?? !bugs.has('no-elr'),
    metadataMaxIdleIntervalMs: spec.metadataMaxIdleIntervalMs ?? 500,
  };
  const brokerConfig: BrokerConfig = {
    ...DEFAULT_BROKER_CONFIG,
    ...(spec.replica === undefined
      ? {}
      : { replica: { ...DEFAULT_BROKER_CONFIG.replica, ...spec.replica } }),
    raft: raftConfig,
  };
  for (const id of controllers)
    world.addNode(id, (context) => new KraftController(context, controllerConfig, bugs));
  for (const id of brokers) addBrokerNode(world, id, brokerConfig, bugs);
  world.addNode(
    ADMIN_NODE,
    (context) =>
      new AdminClient(context, {
        controllers,
        bootstrapBrokers: brokers,
        requestTimeoutMs: 2_000,
        attemptsMax: 20,
        retryBackoffMs: 100,
        retryBackoffMaxMs: 1_000,
      }),
  );
  for (const id of [...controllers, ...brokers, ADMIN_NODE]) world.node(id).start();
  return new BuiltKraftCluster(world, controllers, brokers, raftConfig, brokerConfig, bugs);
}

function addBrokerNode(
  world: World<ClusterMessage>,
  id: NodeId,
  brokerConfig: BrokerConfig,
  bugs: Bugs,
): void {
  world.addNode(id, (context) => new KraftBroker(context, brokerConfig, bugs));
}

/**
 * What buildKraftCluster returns: one class, so every run's cluster has one shape (an object
 * literal with a closure per run made code that reads it see a new function each run).
 */
class BuiltKraftCluster implements KraftCluster {
  readonly world: World<ClusterMessage>;
  readonly controllers: readonly NodeId[];
  readonly controllerHosts: readonly NodeHost<ClusterMessage>[];
  readonly brokers: NodeId[];
  readonly admin: NodeId = ADMIN_NODE;
  readonly raftConfig: RaftConfig;
  readonly #brokerConfig: BrokerConfig;
  readonly #bugs: Bugs;

  constructor(
    world: World<ClusterMessage>,
    controllers: readonly NodeId[],
    brokers: NodeId[],
    raftConfig: RaftConfig,
    brokerConfig: BrokerConfig,
    bugs: Bugs,
  ) {
    this.world = world;
    this.controllers = controllers;
    this.controllerHosts = controllers.map((id) => world.node(id));
    this.brokers = brokers;
    this.raftConfig = raftConfig;
    this.#brokerConfig = brokerConfig;
    this.#bugs = bugs;
  }

  addBroker(): NodeId {
    const id = interned(`b${this.brokers.length + 1}`);
    this.brokers.push(id);
    addBrokerNode(this.world, id, this.#brokerConfig, this.#bugs);
    this.world.node(id).start();
    return id;
  }
}

/** The running controller machine of node `id` (null while down, or when `id` is not a controller). */
export function controllerOf(cluster: KraftCluster, id: NodeId): KraftController | null {
  const machine = cluster.world.node(id).machine;
  return machine instanceof KraftController ? machine : null;
}

/** The running broker machine of node `id` (null while down, or when `id` is not a broker). */
export function brokerOf(cluster: KraftCluster, id: NodeId): KraftBroker | null {
  const machine = cluster.world.node(id).machine;
  return machine instanceof KraftBroker ? machine : null;
}

export function adminOf(cluster: KraftCluster): AdminClient {
  return cluster.world.node(ADMIN_NODE).machine as AdminClient;
}

/** The active controller (the metadata leader of the highest epoch), if any. */
export function activeController(cluster: KraftCluster): KraftController | null {
  let active: KraftController | null = null;
  // By host, not by id: the checkers ask after every event that entered a controller, and a
  // lookup by name per controller was ~0.7 % of a `small` seed.
  const hosts = cluster.controllerHosts;
  for (let index = 0; index < hosts.length; index++) {
    const machine = (hosts[index] as NodeHost<ClusterMessage>).machine;
    if (
      machine instanceof KraftController &&
      machine.isActive &&
      (active === null || machine.raft.epoch > active.raft.epoch)
    )
      active = machine;
  }
  return active;
}
