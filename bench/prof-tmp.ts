import { runGossip } from '../sim/kernel/gossip.ts';
import { runKernelLoop } from './kernel-loop.ts';

runGossip(1, {
  nodes: 5,
  pingEveryMs: 1,
  flushEveryPongs: 8,
  durationMs: 30_000,
  faultEveryMs: 400,
});
runKernelLoop(1_000_000);
const s = performance.now();
runKernelLoop(3_000_000);
console.log('rate', 3 / ((performance.now() - s) / 1000));
