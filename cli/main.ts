import { type Command, CommanderError } from 'commander';
import { registerLocalCommands } from './local.ts';
import { buildProgram, exitCodeOf } from './program.ts';
import { type CliDeps, processDeps } from './runtime.ts';

/** Builds the full program: the AWS commands and the local-mode commands. */
export function fullProgram(deps: CliDeps): Command {
  const program = buildProgram(deps);
  registerLocalCommands(program, deps);
  return program;
}

/** Runs the command line with `argv` (node, script, args…) and resolves to the exit code. */
export async function main(
  argv: readonly string[],
  deps: CliDeps = processDeps(),
): Promise<number> {
  const program = fullProgram(deps);
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
