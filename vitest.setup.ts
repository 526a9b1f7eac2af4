// Fixes fast-check's seed so every CI run draws the same cases. Set FC_SEED to explore others;
// a failing property prints the seed and path that reproduce it.
import fc from 'fast-check';

const seedText = process.env.FC_SEED;
const seed = seedText === undefined || seedText === '' ? 20_261_126 : Number(seedText);
if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer (got "${seedText}")`);
fc.configureGlobal({ seed, numRuns: 100 });
