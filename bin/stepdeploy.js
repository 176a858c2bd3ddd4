#!/usr/bin/env node
// Launcher: runs the command line from its bundle (dist/cli, see bin/cli-bundle.js) when the
// bundle was built from the sources as they are now, else rebuilds it first; only when that
// fails does it run the TypeScript sources through tsx, saying so on stderr.
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

const started = performance.now();
const { bundleState, buildBundle, BUNDLE_DIR, ROOT } = await import('./cli-bundle.js');
const { debuglog } = await import('node:util');
const { join } = await import('node:path');
const { pathToFileURL } = await import('node:url');
// NODE_DEBUG=stepdeploy says which code runs and why (the tests read it; timings are for bench/).
const debug = debuglog('stepdeploy');
const note = (line) => process.stderr.write(`stepdeploy: ${line}\n`);
const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

let entry;
const state = await bundleState();
if (state.fresh) {
  entry = state.entry;
  debug(
    'bundle %s is fresh (%d inputs checked in %s ms)',
    entry,
    state.checked,
    (performance.now() - started).toFixed(1),
  );
} else {
  const rebuilding = performance.now();
  try {
    const manifest = await buildBundle();
    entry = join(ROOT, BUNDLE_DIR, manifest.entry);
    note(
      `${state.reason}: built the command line bundle (${BUNDLE_DIR}) in ${seconds(rebuilding)}`,
    );
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    note(
      `${state.reason} and the bundle could not be rebuilt (${why}): running the sources with tsx`,
    );
  }
}

let main;
if (entry) {
  debug('running %s', entry);
  ({ main } = await import(pathToFileURL(entry).href));
} else {
  debug('running cli/main.ts with tsx');
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv);
