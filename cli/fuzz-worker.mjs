// The fuzz worker thread's entry. Node 20 runs TypeScript through tsx and cli/ts-hooks.mjs: a
// worker registers them itself (a `.ts` worker with `execArgv: ['--import', 'tsx']` fails), then
// loads the worker.
import './register.mjs';

await import('./fuzz-worker.ts');
