#!/usr/bin/env node
// The kafkasim command. Node 20 runs TypeScript through tsx: register it, then load the program.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
