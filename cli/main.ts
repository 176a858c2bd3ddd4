import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Command, CommanderError } from 'commander';
import { buildProgram, exitCodeOf } from './program.ts';
import { type CliDeps, processDeps } from './runtime.ts';

/** Signature cli/local.ts exports so `stepdeploy local …` joins the same program. */
export type RegisterLocalCommands = (program: Command, deps: CliDeps) => void;

/**
 * Builds the full program: the AWS commands, plus the local-mode commands when
 * cli/local.ts is present (it exports `registerLocalCommands`).
 */
export async function fullProgram(deps: CliDeps): Promise<Command> {
  const program = buildProgram(deps);
  const localModule = new URL('./local.ts', import.meta.url);
  if (existsSync(fileURLToPath(localModule))) {
    const local = (await import(localModule.href)) as {
      registerLocalCommands?: RegisterLocalCommands;
    };
    local.registerLocalCommands?.(program, deps);
  }
  return program;
}

/** Runs the command line with `argv` (node, script, args…) and resolves to the exit code. */
export async function main(
  argv: readonly string[],
  deps: CliDeps = processDeps(),
): Promise<number> {
  const program = await fullProgram(deps);
  program.exitOverride();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    // Help and version are "errors" to exitOverride with exit code 0; commander printed them.
    if (error instanceof CommanderError) return error.exitCode;
    deps.io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return exitCodeOf(error);
  }
  return deps.exitCode;
}
