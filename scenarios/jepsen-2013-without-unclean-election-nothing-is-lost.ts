import jepsen from './jepsen-2013-unclean-election-loses-a-lone-leaders-writes.ts';
import { defineScenario } from './scenario.ts';

export default defineScenario({
  name: 'jepsen-2013-without-unclean-election-nothing-is-lost',
  summary:
    'Jepsen 2013 without unclean election: offline until the old leader returns, nothing is lost',
  description: [
    "The Jepsen 2013 schedule again, with Kafka's default unclean.leader.election.enable=false.",
    'With min.insync.replicas 1 the ISR shrinks to the leader alone, which goes on acknowledging',
    'acks=all writes, and at 25 s it is killed. The followers were never in sync with those',
    'writes, so the controller will not elect them: once it fences the old leader the partition',
    'has no leader (ISR empty, the old leader in the ELR and its last known leader) and every',
    'write fails. The old leader comes back only at the heal. Its restart is unclean (a kill',
    'writes no clean-shutdown marker), so it leaves the ELR, but it is still the last known',
    'leader, and KIP-966 keeps electing that one, once unfenced, rather than leave the partition',
    'offline: an unclean election (its log RECOVERING) that Kafka makes even with unclean',
    'election off. A kill loses nothing the OS had, so its log is whole and not a single',
    'acknowledged write is lost; the followers catch up and the ISR is full again. Had it lost',
    'power instead, the writes it had not flushed would be gone, and the followers would truncate',
    'to what it kept (min-isr-1-loses-writes-to-a-power-failure).',
  ].join(' '),
  // The same cluster, workload and schedule as the sibling, with Kafka's default: no unclean election.
  topics: jepsen.topics.map((topic) => ({ ...topic, uncleanLeaderElection: false })),
  producers: jepsen.producers,
  consumers: jepsen.consumers,
  timeline: jepsen.timeline,
  faultPhaseMs: jepsen.faultPhaseMs,
  healPhaseMs: jepsen.healPhaseMs,
});
