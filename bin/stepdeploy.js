#!/usr/bin/env node
// Launcher: registers tsx so the TypeScript command line runs without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
