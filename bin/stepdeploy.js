#!/usr/bin/env node
// Launcher: registers tsx so the TypeScript command line runs without a build step.
import { setPriority } from 'node:os';

// `stepdeploy local …` plays Step Functions, Lambda and CodeBuild, which on AWS never share
// a CPU with the tasks serving the site. Here they would (starting up alone takes a CPU for
// seconds), so local commands run below the tasks' priority; set before anything loads, so
// every thread and child (docker, packer) inherits it. STEPDEPLOY_NICE=0 keeps the normal one.
if (process.argv[2] === 'local') {
  const text = process.env.STEPDEPLOY_NICE ?? '10';
  const nice = /^(1?[0-9])$/.test(text) ? Number(text) : Number.NaN;
  if (!(nice >= 0 && nice <= 19)) {
    process.stderr.write(
      `error: STEPDEPLOY_NICE=${JSON.stringify(text)} is not a priority: set a whole number from 0 (normal) to 19 (lowest), or unset it for 10\n`,
    );
    process.exit(64);
  }
  try {
    if (nice > 0) setPriority(nice);
  } catch {
    // Lowering one's own priority is always allowed; if a sandbox refuses it, run as is.
  }
}

const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
