import { runBareLoop } from './bare-loop.ts';
import { runKernelLoop } from './kernel-loop.ts';

const best = (f: () => number) => {
  let b = 0;
  for (let i = 0; i < 9; i++) {
    const s = performance.now();
    const n = f();
    b = Math.max(b, n / ((performance.now() - s) / 1000));
  }
  return b;
};
const bare = best(() => runBareLoop(1_000_000));
const kernel = best(() => runKernelLoop(1_000_000).fired);
console.log(
  (bare / 1e6).toFixed(2),
  (kernel / 1e6).toFixed(2),
  ((kernel / bare) * 100).toFixed(1) + '%',
);
