// The fuzz worker thread's entry. Node 20 runs TypeScript through tsx: a worker registers it
// itself (a `.ts` worker with `execArgv: ['--import', 'tsx']` fails), then loads the worker.
import { register } from 'tsx/esm/api';

register();
await import('./fuzz-worker.ts');
