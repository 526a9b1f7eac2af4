// Colour only for a person at a terminal. chalk 5 ignores NO_COLOR, so we decide here:
// NO_COLOR (non-empty) turns colour off; FORCE_COLOR turns it on; otherwise a TTY gets colour.

import { Chalk, type ChalkInstance, supportsColor } from 'chalk';

export function colorLevel(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): 0 | 1 | 2 | 3 {
  const noColor = env['NO_COLOR'];
  if (noColor !== undefined && noColor !== '') return 0;
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '') {
    if (force === '0' || force === 'false') return 0;
    return supportsColor === false ? 1 : supportsColor.level;
  }
  if (stream.isTTY !== true) return 0;
  return supportsColor === false ? 0 : supportsColor.level;
}

export function makeChalk(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): ChalkInstance {
  return new Chalk({ level: colorLevel(stream, env) });
}
