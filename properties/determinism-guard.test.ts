// The determinism guard: no simulation source under sim/, scenarios/ or properties/ may use an API
// that reads the world outside the seed (DESIGN.md, "Rules that keep it deterministic"): wall
// clock, entropy, environment, host scheduling, engine-dependent maths, hidden order.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// The rules live in this test file because test files are exempt from the scan (vitest itself is
// asynchronous); the patterns still split each word ("Dat[e]") so that a copy elsewhere would not
// match itself.

interface BannedApi {
  readonly pattern: RegExp;
  readonly what: string;
  readonly instead: string;
}

const BANNED_APIS: readonly BannedApi[] = [
  { pattern: /\bDat[e]\.now\b/, what: 'Date.now', instead: 'the scheduler clock' },
  { pattern: /\bnew\s+Dat[e]\b/, what: 'new Date', instead: 'the scheduler clock' },
  { pattern: /\bperformanc[e]\.now\b/, what: 'performance.now', instead: 'the scheduler clock' },
  { pattern: /\bprocess\.hrtim[e]\b/, what: 'process.hrtime', instead: 'the scheduler clock' },
  {
    pattern: /\bMath\.rando[m]\b/,
    what: 'Math.random',
    instead: 'an Rng stream forked from the run seed',
  },
  { pattern: /\bcrypt[o]\b/, what: 'crypto', instead: 'an Rng stream forked from the run seed' },
  {
    pattern: /\bsetTimeou[t]\b/,
    what: 'setTimeout',
    instead: 'context.setTimer or scheduler.after',
  },
  {
    pattern: /\bsetInterva[l]\b/,
    what: 'setInterval',
    instead: 'context.setTimer or scheduler.after',
  },
  {
    pattern: /\bsetImmediat[e]\b/,
    what: 'setImmediate',
    instead: 'context.setTimer or scheduler.after',
  },
  { pattern: /\bqueueMicrotas[k]\b/, what: 'queueMicrotask', instead: 'a scheduled event' },
  { pattern: /\bprocess\.en[v]\b/, what: 'process.env', instead: 'the run options' },
  {
    pattern: /\bWeakRe[f]\b/,
    what: 'WeakRef',
    instead: 'explicit ownership (GC timing is not deterministic)',
  },
  {
    pattern: /\bFinalizationRegistr[y]\b/,
    what: 'FinalizationRegistry',
    instead: 'explicit cleanup',
  },
  { pattern: /\blocaleCompar[e]\b/, what: 'localeCompare', instead: 'a comparator on code units' },
  { pattern: /\bIntl\b/, what: 'Intl', instead: 'locale-free formatting' },
  {
    pattern: /\.sor[t]\(\s*\)/,
    what: '.sort() without a comparator',
    instead: 'an explicit total comparator',
  },
  {
    pattern: /\.toSorte[d]\(\s*\)/,
    what: '.toSorted() without a comparator',
    instead: 'an explicit total comparator',
  },
  {
    pattern: /\basyn[c]\b/,
    what: 'async',
    instead: 'synchronous handlers driven by the scheduler',
  },
  {
    pattern: /\bawai[t]\b/,
    what: 'await',
    instead: 'synchronous handlers driven by the scheduler',
  },
  {
    pattern: /\bPromis[e]\b/,
    what: 'Promise',
    instead: 'synchronous handlers driven by the scheduler',
  },
  {
    pattern:
      /\bMath\.(?:ex[p]|expm1|lo[g]|log1p|log2|log10|sin|cos|tan|asin|acos|atan|atan2|sinh|cosh|tanh|cbrt|hypot)\b/,
    what: 'a transcendental Math function',
    instead: 'integer arithmetic or a lookup table (results may differ between engines)',
  },
  {
    pattern: /from\s+['"]node:/,
    what: 'a Node built-in module',
    instead: 'nothing: simulation code does no I/O',
  },
  { pattern: /\brequir[e]\(/, what: 'require', instead: 'an ES import of simulation code' },
];

interface Finding {
  readonly line: number;
  readonly column: number;
  readonly what: string;
  readonly instead: string;
  readonly text: string;
}

/**
 * Blanks comments (keeping line breaks, so line numbers stay true) so that prose about a banned
 * API is allowed; strings and code are scanned as they are.
 */
function stripComments(source: string): string {
  let result = '';
  let index = 0;
  let quote: string | null = null;
  while (index < source.length) {
    const char = source[index] as string;
    const next = source[index + 1];
    if (quote !== null) {
      result += char;
      if (char === '\\') {
        result += next ?? '';
        index += 2;
        continue;
      }
      if (char === quote) quote = null;
      index++;
      continue;
    }
    if (char === '/' && next === '/') {
      while (index < source.length && source[index] !== '\n') {
        result += ' ';
        index++;
      }
      continue;
    }
    if (char === '/' && next === '*') {
      const end = source.indexOf('*/', index + 2);
      const stop = end === -1 ? source.length : end + 2;
      for (; index < stop; index++) result += source[index] === '\n' ? '\n' : ' ';
      continue;
    }
    if (char === "'" || char === '"' || char === '`') quote = char;
    result += char;
    index++;
  }
  return result;
}

function scanSource(source: string): Finding[] {
  const findings: Finding[] = [];
  const lines = stripComments(source).split('\n');
  lines.forEach((line, lineIndex) => {
    for (const banned of BANNED_APIS) {
      const match = banned.pattern.exec(line);
      if (match === null) continue;
      findings.push({
        line: lineIndex + 1,
        column: match.index + 1,
        what: banned.what,
        instead: banned.instead,
        text: line.trim(),
      });
    }
  });
  return findings;
}

const root = join(import.meta.dirname, '..');
const GUARDED = ['sim', 'scenarios', 'properties'];

function sourceFiles(directory: string): string[] {
  const result: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) result.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) result.push(path);
  }
  return result;
}

describe('determinism guard', () => {
  it('finds no banned API in simulation sources', () => {
    const files = GUARDED.flatMap((folder) => sourceFiles(join(root, folder)));
    expect(files.length).toBeGreaterThan(5);
    const problems = files.flatMap((file) =>
      scanSource(readFileSync(file, 'utf8')).map(
        (finding) =>
          `${relative(root, file)}:${finding.line}:${finding.column}: ${finding.what} (use ${finding.instead}): ${finding.text}`,
      ),
    );
    expect(problems, problems.join('\n')).toEqual([]);
  });

  const samples: Record<string, string> = {
    'Date.now': 'const t = Date.now();',
    'new Date': 'const d = new Date();',
    'performance.now': 'performance.now()',
    'process.hrtime': 'process.hrtime.bigint()',
    'Math.random': 'if (Math.random() < 0.5) {}',
    crypto: "import { randomBytes } from 'crypto';",
    setTimeout: 'setTimeout(() => {}, 5);',
    setInterval: 'setInterval(tick, 5);',
    setImmediate: 'setImmediate(tick);',
    queueMicrotask: 'queueMicrotask(tick);',
    'process.env': 'const home = process.env.HOME;',
    WeakRef: 'new WeakRef(x)',
    FinalizationRegistry: 'new FinalizationRegistry(f)',
    localeCompare: 'a.localeCompare(b)',
    Intl: 'new Intl.NumberFormat()',
    '.sort() without a comparator': 'ids.sort();',
    '.toSorted() without a comparator': 'ids.toSorted( );',
    async: 'async function f() {}',
    await: 'const x = await y;',
    Promise: 'Promise.resolve(1)',
    'a transcendental Math function': 'const p = Math.exp(-x);',
    'a Node built-in module': "import { readFileSync } from 'node:fs';",
    require: "const fs = require('fs');",
  };

  it('has a sample for every banned API', () => {
    expect(Object.keys(samples).toSorted()).toEqual(
      BANNED_APIS.map((banned) => banned.what).toSorted(),
    );
  });

  for (const [what, sample] of Object.entries(samples)) {
    it(`catches ${what}, naming the line`, () => {
      const findings = scanSource(`const ok = 1;\n\n${sample}\n`);
      expect(findings.map((finding) => [finding.what, finding.line])).toContainEqual([what, 3]);
    });
  }

  it('allows a comparator, comments about banned APIs, and look-alike names', () => {
    const source = [
      'ids.sort((a, b) => a - b);',
      '// never call Date.now() here',
      '/* nor Math.random(),',
      '   nor setTimeout */',
      'const asyncCount = 0; const awaitingReply = true; const dateNow = 1;',
    ].join('\n');
    expect(scanSource(source)).toEqual([]);
  });

  it('keeps line numbers when blanking comments, and leaves strings alone', () => {
    const stripped = stripComments("a /* x\ny */ b\n'// not a comment'");
    expect(stripped.split('\n')).toHaveLength(3);
    expect(stripped).toContain("'// not a comment'");
  });
});
