// Registers the loaders Node 20 runs kafkasim's TypeScript with: tsx, then cli/ts-hooks.mjs, which
// (registered last, so asked first) loads the project's own modules without tsx's `keepNames`.
// Imported first by the command (cli/kafkasim.mjs), each fuzz worker (cli/fuzz-worker.mjs) and the
// bench (`node --import ./cli/register.mjs`).
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./ts-hooks.mjs', import.meta.url);
