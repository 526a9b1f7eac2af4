// `kafkasim list`: every named scenario, in the registry's order, with its one-line summary (and
// the historical bugs it demonstrates); `--json` prints an array of { name, summary, description }.

import type { ChalkInstance } from 'chalk';
import { SCENARIOS } from '../scenarios/registry.ts';
import type { Scenario } from '../scenarios/scenario.ts';

export function listScenarios(
  json: boolean,
  chalk: ChalkInstance,
  write: (text: string) => void,
  scenarios: readonly Scenario[] = SCENARIOS,
): void {
  if (json) {
    const rows = scenarios.map((scenario) => ({
      name: scenario.name,
      summary: scenario.summary,
      description: scenario.description,
    }));
    write(`${JSON.stringify(rows)}\n`);
    return;
  }
  const width = Math.max(0, ...scenarios.map((scenario) => scenario.name.length));
  write(
    `${chalk.bold('scenarios')} (kafkasim run NAME runs one; --bug NAME brings a historical bug back)\n\n`,
  );
  for (const scenario of scenarios) {
    write(`  ${chalk.cyan.bold(scenario.name.padEnd(width))}  ${scenario.summary}\n`);
    if (scenario.demonstrates.length > 0) {
      const shows = scenario.demonstrates
        .map((each) => `--bug ${each.bug} (${outcomeWords(each.violations, each.allowed)})`)
        .join(' · ');
      write(`  ${''.padEnd(width)}  ${chalk.dim(`demonstrates ${shows}`)}\n`);
    }
  }
}

/** `breaks acked-write-durable`, `shows allowed loss acks-1`, or `every invariant holds`. */
export function outcomeWords(violations: readonly string[], allowed: readonly string[]): string {
  const parts: string[] = [];
  if (violations.length > 0) parts.push(`breaks ${violations.join(', ')}`);
  if (allowed.length > 0)
    parts.push(`shows allowed loss${allowed.length > 1 ? 'es' : ''} ${allowed.join(', ')}`);
  return parts.length === 0 ? 'every invariant holds' : parts.join('; ');
}
