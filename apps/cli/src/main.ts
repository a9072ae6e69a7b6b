import { CommanderError } from 'commander';
import { CliError } from './client.js';
import { createProgram } from './program.js';

// The CLI's one reader of the environment (ROSTER_URL, ROSTER_ADMIN_TOKEN, ROSTER_DATA_DIR, USER).
const program = createProgram(process.env).exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // commander already printed usage errors and help.
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`roster: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  }
}
