// The bench times R three ways and refuses a run that went differently: skipping the checks must
// not change what the cluster does (the role reference `@leader` resolves through the data
// checker, which must still see every node when it checks after skipping events).

import { describe, expect, it } from 'vitest';
import { runWorkloadR } from './workload-r.ts';

describe('the reference workload R', () => {
  it('runs the same with every check, with only the end-of-run checks, and with none', () => {
    const all = runWorkloadR();
    expect(all.violations).toBe(0);
    expect(all.acked).toBeGreaterThan(80_000);
    expect(runWorkloadR({ checks: 'end-of-run' }).traceHash).toBe(all.traceHash);
    expect(runWorkloadR({ checks: 'none' }).traceHash).toBe(all.traceHash);
  });
});
