// Streams a run's trace to a file as it happens (memory stays bounded on long runs): JSON Lines,
// or Chrome trace-event JSON that opens in Perfetto (ui.perfetto.dev) or chrome://tracing.

import { closeSync, openSync, writeSync } from 'node:fs';
import { unknownName } from '../scenarios/suggest.ts';
import {
  ChromeTraceWriter,
  type TraceEvent,
  type TraceSink,
  traceEventToJsonLine,
} from '../sim/kernel/trace.ts';
import { onFile, UsageError } from './errors.ts';

export const TRACE_FORMATS = ['jsonl', 'chrome'] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

function parseTraceFormat(text: string): TraceFormat {
  const format = TRACE_FORMATS.find((each) => each === text);
  if (format === undefined) {
    throw new UsageError(
      `--trace-format: ${unknownName('format', text, TRACE_FORMATS, TRACE_FORMATS.join(' or '))}`,
    );
  }
  return format;
}

/**
 * `--trace` and `--trace-format` as a command's raw options give them (no default for the format,
 * so that one given alone can be told from none: it would write nothing).
 */
export function parseTraceOptions(raw: Readonly<Record<string, unknown>>): {
  readonly trace: string | undefined;
  readonly traceFormat: TraceFormat;
} {
  const trace = typeof raw['trace'] === 'string' ? raw['trace'] : undefined;
  const format = raw['traceFormat'];
  if (format === undefined) return { trace, traceFormat: 'jsonl' };
  const traceFormat = parseTraceFormat(String(format));
  if (trace === undefined)
    throw new UsageError(
      `--trace-format ${traceFormat} needs --trace <file>: without it no trace is written`,
    );
  return { trace, traceFormat };
}

export interface TraceFile {
  readonly sink: TraceSink;
  close(): void;
}

const FLUSH_CHARS = 1 << 16;

export function openTraceFile(path: string, format: TraceFormat): TraceFile {
  const fd = onFile('write the trace to', path, () => openSync(path, 'w'));
  let buffer: string[] = [];
  let bufferedChars = 0;
  const write = (text: string): void => {
    buffer.push(text);
    bufferedChars += text.length;
    if (bufferedChars >= FLUSH_CHARS) flush();
  };
  const flush = (): void => {
    if (buffer.length === 0) return;
    const text = buffer.join('');
    onFile('write the trace to', path, () => writeSync(fd, text));
    buffer = [];
    bufferedChars = 0;
  };
  let sink: TraceSink;
  let footer = '';
  if (format === 'jsonl') {
    sink = (event: TraceEvent) => write(`${traceEventToJsonLine(event)}\n`);
  } else {
    const chrome = new ChromeTraceWriter();
    write(chrome.begin());
    sink = (event: TraceEvent) => write(chrome.event(event));
    footer = chrome.end();
  }
  return {
    sink,
    close(): void {
      try {
        write(footer);
        flush();
      } finally {
        closeSync(fd);
      }
    },
  };
}
