// A fuzz worker: receives one seed at a time from cli/fuzz.ts, runs it, posts its SeedOutcome.

import { parentPort, workerData } from 'node:worker_threads';
import { type FuzzPlan, runSeed } from './fuzz.ts';

const port = parentPort;
if (port === null) throw new Error('cli/fuzz-worker.ts runs only as a worker thread');
const plan = workerData as Pick<FuzzPlan, 'profile' | 'bugs' | 'checkDeterminism'>;

port.on('message', (seed: number) => {
  port.postMessage(runSeed(seed, plan));
});
