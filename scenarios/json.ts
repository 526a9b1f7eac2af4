// The JSON form of a scenario: exactly the Scenario fields (name, summary, description, cluster,
// topics, producers, consumers, timeline, faultPhaseMs, healPhaseMs, settings, expect,
// demonstrates). `parseScenarioJson` reads it (the CLI reads the file and passes the text: no I/O
// here), fills the defaults and validates it; `scenarioToJson` writes it, keys in a fixed order,
// so that a round trip gives an equal scenario. Only `name`, `summary`, `description` and
// `topics` are required; `expect` and each demonstration may leave out `violations`/`allowed`.

import { defineScenario, type Scenario, type ScenarioInput } from './scenario.ts';
import { ScenarioError } from './settings.ts';
import { unknownName } from './suggest.ts';
import {
  CLUSTER_FIELDS,
  DEMONSTRATION_FIELDS,
  describeValue,
  EXPECT_FIELDS,
  isPlainObject,
  PRODUCER_CONFIG_KEYS,
  PRODUCER_FIELDS,
  SCENARIO_FIELDS,
  STEP_KINDS,
  stepFields,
  TOPIC_FIELDS,
  validateScenario,
} from './validate.ts';

const REQUIRED_FIELDS = ['name', 'summary', 'description', 'topics'] as const;

/** What each top-level field holds, for `expected …, got null`. */
const FIELD_TYPES: Readonly<Record<(typeof SCENARIO_FIELDS)[number], string>> = {
  name: 'a string',
  summary: 'a string',
  description: 'a string',
  seed: 'a whole number',
  cluster: 'an object',
  topics: 'an array',
  producers: 'an array',
  consumers: 'an array',
  timeline: 'an array',
  faultPhaseMs: 'a whole number',
  healPhaseMs: 'a whole number',
  settings: 'an object',
  expect: 'an object',
  demonstrates: 'an array',
};

/** Deepest nesting the syntax check follows (a scenario needs 4). */
const DEPTH_MAX = 64;

/**
 * A scenario from the text of a JSON file; throws a ScenarioError of one line:
 * `source:line:column: malformed JSON: …` for bad syntax, `source: path: problem` otherwise.
 */
export function parseScenarioJson(text: string, source: string): Scenario {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const value = parseJson(body, source);
  if (!isPlainObject(value))
    throw new ScenarioError(
      `${source}: expected a JSON object (a scenario), got ${describeValue(value)}`,
    );
  checkTopLevel(value, source);
  const scenario = defineScenario({
    ...value,
    ...(value['demonstrates'] === undefined
      ? {}
      : { demonstrates: withDemonstrationDefaults(value['demonstrates']) }),
  } as unknown as ScenarioInput);
  validateScenario(scenario, source);
  return scenario;
}

/** The fields defineScenario would drop or replace silently: unknown, missing, null. */
function checkTopLevel(value: Record<string, unknown>, source: string): void {
  const fail = (problem: string): never => {
    throw new ScenarioError(`${source}: ${problem}`);
  };
  for (const key of Object.keys(value)) {
    if (!(SCENARIO_FIELDS as readonly string[]).includes(key))
      fail(
        unknownName('field', key, SCENARIO_FIELDS, `a scenario has ${SCENARIO_FIELDS.join(', ')}`),
      );
  }
  for (const key of REQUIRED_FIELDS) if (value[key] === undefined) fail(`missing field "${key}"`);
  for (const key of SCENARIO_FIELDS) {
    if (value[key] === null) fail(`${key}: expected ${FIELD_TYPES[key]}, got null`);
  }
  const expect = value['expect'];
  if (expect === undefined) return;
  if (!isPlainObject(expect)) fail(`expect: expected an object, got ${describeValue(expect)}`);
  const fields = expect as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!(EXPECT_FIELDS as readonly string[]).includes(key))
      fail(
        `expect: ${unknownName('field', key, EXPECT_FIELDS, 'an expectation has violations, allowed')}`,
      );
    if (fields[key] === null) fail(`expect.${key}: expected an array, got null`);
  }
}

/** A demonstration may leave out `violations` or `allowed` (empty), as `expect` may. */
function withDemonstrationDefaults(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((each: unknown) =>
    isPlainObject(each)
      ? { ...each, violations: each['violations'] ?? [], allowed: each['allowed'] ?? [] }
      : each,
  );
}

// ---- syntax ---------------------------------------------------------------------------------

function parseJson(text: string, source: string): unknown {
  const problem = findSyntaxProblem(text);
  if (problem !== null) {
    const { line, column } = lineColumn(text, problem.index);
    const what = problem.duplicate ? '' : 'malformed JSON: ';
    throw new ScenarioError(`${source}:${line}:${column}: ${what}${problem.reason}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    // The syntax check and JSON.parse disagree: report the engine's own words.
    const message = error instanceof Error ? error.message : String(error);
    const position = /at position (\d+)/.exec(message);
    const { line, column } = lineColumn(
      text,
      position === null ? text.length : Number(position[1]),
    );
    throw new ScenarioError(`${source}:${line}:${column}: malformed JSON: ${message}`);
  }
}

/** 1-based line and column of a character index. */
export function lineColumn(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(index, text.length);
  for (let position = 0; position < end; position++) {
    if (text[position] === '\n') {
      line++;
      lineStart = position + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

interface SyntaxProblem {
  readonly index: number;
  readonly reason: string;
  /** A duplicate key: valid JSON, but a scenario must not say one thing twice. */
  readonly duplicate: boolean;
}

class SyntaxFailure extends Error {
  constructor(readonly problem: SyntaxProblem) {
    super(problem.reason);
  }
}

/** The first syntax error of a JSON text (RFC 8259) or a duplicate key, or null. */
export function findSyntaxProblem(text: string): SyntaxProblem | null {
  try {
    const scanner = new JsonScanner(text);
    scanner.document();
    return null;
  } catch (error) {
    if (error instanceof SyntaxFailure) return error.problem;
    throw error;
  }
}

class JsonScanner {
  #index = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  document(): void {
    this.#space();
    this.#value(0);
    this.#space();
    if (this.#index < this.#text.length)
      this.#fail(`unexpected ${this.#token()} after the end of the JSON value`);
  }

  #fail(reason: string, index = this.#index, duplicate = false): never {
    throw new SyntaxFailure({ index, reason, duplicate });
  }

  /** The token at the current position, for messages: `token "}"`, `token "tru"`, `end of input`. */
  #token(): string {
    if (this.#index >= this.#text.length) return 'end of input';
    const word = /^[A-Za-z0-9_$.+-]+/.exec(this.#text.slice(this.#index, this.#index + 40));
    return `token ${JSON.stringify(word === null ? this.#text[this.#index] : word[0])}`;
  }

  #space(): void {
    while (this.#index < this.#text.length && ' \t\n\r'.includes(this.#text[this.#index] as string))
      this.#index++;
  }

  #expect(char: string, after: string): void {
    if (this.#text[this.#index] !== char)
      this.#fail(`unexpected ${this.#token()} (expected "${char}" ${after})`);
    this.#index++;
  }

  #value(depth: number): void {
    if (depth > DEPTH_MAX) this.#fail(`nested deeper than ${DEPTH_MAX} levels`);
    const char = this.#text[this.#index];
    if (char === '{') this.#object(depth);
    else if (char === '[') this.#array(depth);
    else if (char === '"') this.#string();
    else if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) this.#number();
    else if (!this.#literal()) this.#fail(`unexpected ${this.#token()} (expected a value)`);
  }

  #literal(): boolean {
    for (const word of ['true', 'false', 'null']) {
      if (
        this.#text.startsWith(word, this.#index) &&
        !/[A-Za-z0-9_$]/.test(this.#text[this.#index + word.length] ?? '')
      ) {
        this.#index += word.length;
        return true;
      }
    }
    return false;
  }

  #object(depth: number): void {
    this.#index++;
    this.#space();
    const keys = new Set<string>();
    if (this.#text[this.#index] === '}') {
      this.#index++;
      return;
    }
    for (;;) {
      this.#space();
      const start = this.#index;
      if (this.#text[this.#index] !== '"')
        this.#fail(`unexpected ${this.#token()} (expected a property name in double quotes)`);
      const key = this.#string();
      if (keys.has(key)) this.#fail(`duplicate field ${key}`, start, true);
      keys.add(key);
      this.#space();
      this.#expect(':', 'after a property name');
      this.#space();
      this.#value(depth + 1);
      this.#space();
      if (this.#text[this.#index] === '}') {
        this.#index++;
        return;
      }
      this.#expect(',', 'or "}" after a property value');
    }
  }

  #array(depth: number): void {
    this.#index++;
    this.#space();
    if (this.#text[this.#index] === ']') {
      this.#index++;
      return;
    }
    for (;;) {
      this.#space();
      this.#value(depth + 1);
      this.#space();
      if (this.#text[this.#index] === ']') {
        this.#index++;
        return;
      }
      this.#expect(',', 'or "]" after an array element');
    }
  }

  /** A string; returns its raw text with the quotes (enough to tell keys apart). */
  #string(): string {
    const start = this.#index;
    this.#index++;
    for (;;) {
      const char = this.#text[this.#index];
      if (char === undefined) this.#fail('unexpected end of input in a string');
      if (char === '"') break;
      if (char < ' ')
        this.#fail('unexpected control character in a string (a line break must be written \\n)');
      if (char === '\\') this.#escape();
      else this.#index++;
    }
    this.#index++;
    return this.#text.slice(start, this.#index);
  }

  #escape(): void {
    const next = this.#text[this.#index + 1];
    if (next !== undefined && '"\\/bfnrt'.includes(next)) {
      this.#index += 2;
      return;
    }
    if (
      next === 'u' &&
      /^[0-9A-Fa-f]{4}$/.test(this.#text.slice(this.#index + 2, this.#index + 6))
    ) {
      this.#index += 6;
      return;
    }
    this.#fail(
      `bad escape ${JSON.stringify(this.#text.slice(this.#index, this.#index + 2))} in a string`,
    );
  }

  #number(): void {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(
      this.#text.slice(this.#index, this.#index + 400),
    );
    if (match === null) this.#fail(`unexpected ${this.#token()} (expected a number)`);
    this.#index += match[0].length;
  }
}

// ---- writing --------------------------------------------------------------------------------

/** Longest line the writer keeps a value on (as the formatter's line width). */
const LINE_WIDTH_MAX = 100;

/**
 * The JSON form of a scenario: 2-space indentation, a value on one line when it fits in 100
 * columns, keys in a fixed order (the Scenario fields' order; settings keep theirs), a final newline.
 */
export function scenarioToJson(scenario: Scenario): string {
  return `${render(ordered(scenario), '', '')}\n`;
}

type Shape = (value: Record<string, unknown>) => readonly string[];

const fixed =
  (keys: readonly string[]): Shape =>
  () =>
    keys;

/** How each nested object orders its keys. */
function orderOf(path: readonly string[]): Shape | null {
  const [top, , inner] = path;
  switch (top) {
    case undefined:
      return fixed(SCENARIO_FIELDS);
    case 'cluster':
      return fixed(CLUSTER_FIELDS);
    case 'topics':
      return path.length === 2 ? fixed(TOPIC_FIELDS) : null;
    case 'producers':
      if (path.length === 2) return fixed(PRODUCER_FIELDS);
      return inner === 'config' && path.length === 3 ? fixed(PRODUCER_CONFIG_KEYS) : null;
    case 'timeline':
      return path.length === 2
        ? (step) =>
            STEP_KINDS.includes(step['kind'] as (typeof STEP_KINDS)[number])
              ? stepFields(step['kind'] as (typeof STEP_KINDS)[number])
              : ['atMs', 'kind']
        : null;
    case 'expect':
      return path.length === 1 ? fixed(EXPECT_FIELDS) : null;
    case 'demonstrates':
      return path.length === 2 ? fixed(DEMONSTRATION_FIELDS) : null;
    default:
      return null;
  }
}

/** A copy with every object's keys in their order: known keys first, then any others by code unit. */
function ordered(value: unknown, path: readonly string[] = []): unknown {
  if (Array.isArray(value)) return value.map((each: unknown) => ordered(each, [...path, '[]']));
  if (!isPlainObject(value)) return value;
  const order = orderOf(path)?.(value) ?? [];
  const keys = Object.keys(value).filter((key) => value[key] !== undefined);
  const first = order.filter((key) => keys.includes(key));
  const rest = keys
    .filter((key) => !order.includes(key))
    .toSorted((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const keep = order.length === 0 && path[0] === 'settings' ? keys : [...first, ...rest];
  return Object.fromEntries(keep.map((key) => [key, ordered(value[key], [...path, key])]));
}

/** One value: on one line when `indent + lead + value + ','` fits, otherwise one entry a line. */
function render(value: unknown, indent: string, lead: string): string {
  const inline = renderInline(value);
  const fits = indent.length + lead.length + inline.length + 1 <= LINE_WIDTH_MAX;
  if (indent !== '' && fits) return inline;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((each: unknown) => `${inner}${render(each, inner, '')}`);
    return `[\n${items.join(',\n')}\n${indent}]`;
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value).filter(([, each]) => each !== undefined);
    if (entries.length === 0) return '{}';
    const lines = entries.map(([key, each]) => {
      const keyText = `${JSON.stringify(key)}: `;
      return `${inner}${keyText}${render(each, inner, keyText)}`;
    });
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  return inline;
}

function renderInline(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((each: unknown) => renderInline(each)).join(', ')}]`;
  if (isPlainObject(value)) {
    const entries = Object.entries(value).filter(([, each]) => each !== undefined);
    if (entries.length === 0) return '{}';
    const text = entries.map(([key, each]) => `${JSON.stringify(key)}: ${renderInline(each)}`);
    return `{ ${text.join(', ')} }`;
  }
  return JSON.stringify(value) ?? 'null';
}
