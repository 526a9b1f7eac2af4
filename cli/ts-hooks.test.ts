import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isOwnTypeScript, load, transformOwn } from './ts-hooks.mjs';

const ROOT = new URL('../', import.meta.url);
const own = (path: string): string => new URL(path, ROOT).href;

/** `kafkasim list`, run as a user runs it, with `temporary` as the temporary directory. */
function listWithTmpdir(temporary: string) {
  return spawnSync(process.execPath, ['cli/kafkasim.mjs', 'list'], {
    cwd: fileURLToPath(ROOT),
    env: { ...process.env, TMPDIR: temporary, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('cli/ts-hooks.mjs: the project TypeScript, loaded without tsx keepNames', () => {
  it('takes the project modules and leaves anything else to the next loader', () => {
    expect(isOwnTypeScript(own('sim/kernel/scheduler.ts'))).toBe(true);
    expect(isOwnTypeScript(own('cli/main.ts'))).toBe(true);
    expect(isOwnTypeScript(own('node_modules/some-package/index.ts'))).toBe(false);
    expect(isOwnTypeScript(own('package.json'))).toBe(false);
    expect(isOwnTypeScript(own('cli/kafkasim.mjs'))).toBe(false);
    expect(isOwnTypeScript('file:///elsewhere/module.ts')).toBe(false);
    expect(isOwnTypeScript('node:fs')).toBe(false);
  });

  it('transforms as the tsconfig says, naming nothing again, with a source map', async () => {
    const code = await transformOwn(
      '/nowhere/fields.ts',
      'export class Field { bare: number; set = 1; constructor() { this.bare = 2; } }\n' +
        'export const twice = (value: number): number => value * 2;\n',
    );
    // useDefineForClassFields: false: the bare field is not defined before the constructor sets it.
    expect(code).toContain('this.set = 1;');
    expect(code).not.toMatch(/bare;|bare = void 0/);
    expect(code).not.toContain('__name');
    expect(code).not.toContain(': number');
    expect(code).toContain('//# sourceMappingURL=data:application/json;base64,');
  });

  it('transforms a module again when its source changes (the cache is keyed by it)', async () => {
    const path = '/nowhere/changing.ts';
    expect(await transformOwn(path, 'export const value: number = 1;')).toContain('value = 1');
    expect(await transformOwn(path, 'export const value: number = 2;')).toContain('value = 2');
    expect(await transformOwn(path, 'export const value: number = 1;')).toContain('value = 1');
  });

  it('answers for its own modules and asks the next loader for the rest', async () => {
    const asked: string[] = [];
    const next = async (url: string) => {
      asked.push(url);
      return { format: 'json', source: '{}' };
    };
    const url = own('sim/kernel/columns.ts');
    const loaded = (await load(url, {}, next)) as { format: string; source: string };
    expect(loaded).toMatchObject({ format: 'module', shortCircuit: true });
    expect(loaded.source).toContain('function grownColumn(');
    expect(asked).toEqual([]);
    await load(own('package.json'), {}, next);
    expect(asked).toEqual([own('package.json')]);
  });

  it('is what the command loads with: a program class has no name-setting static block', () => {
    // Under tsx alone every class carries `static { __name(this, "Scheduler"); }`.
    const probe =
      "const { Scheduler } = await import('./sim/kernel/scheduler.ts');" +
      'console.log(String(Scheduler).includes("__name") ? "named" : "plain");';
    const run = (register: string) =>
      spawnSync(process.execPath, ['--import', register, '--input-type=module', '-e', probe], {
        cwd: fileURLToPath(ROOT),
        encoding: 'utf8',
        timeout: 60_000,
      }).stdout.trim();
    expect(run('./cli/register.mjs')).toBe('plain');
    expect(run('tsx')).toBe('named');
  });

  it('neither reads nor writes a cache directory that others may write to', () => {
    const temporary = mkdtempSync(join(tmpdir(), 'kafkasim-ts-hooks-'));
    const cache = join(temporary, `kafkasim-ts-${process.getuid?.() ?? 0}`);
    mkdirSync(cache);
    chmodSync(cache, 0o777);
    expect(listWithTmpdir(temporary).status).toBe(0);
    expect(readdirSync(cache)).toEqual([]);
    // Its own, made by the hooks: used.
    chmodSync(cache, 0o700);
    expect(listWithTmpdir(temporary).status).toBe(0);
    expect(readdirSync(cache).length).toBeGreaterThan(50);
    rmSync(temporary, { recursive: true, force: true });
  });

  it('runs the command when the cache cannot be written (each module transformed anew)', () => {
    // The temporary directory is a file: the cache's directory cannot be made under it.
    const notADirectory = fileURLToPath(new URL('package.json', ROOT));
    const result = listWithTmpdir(notADirectory);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('acks-all-survives-a-leader-crash');
  });
});
