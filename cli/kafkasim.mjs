#!/usr/bin/env node
// The kafkasim command. Node 20 runs TypeScript through tsx and cli/ts-hooks.mjs: register them
// (cli/register.mjs), then load the program.
import './register.mjs';

await import('./main.ts');
