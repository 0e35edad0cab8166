// The process around a command: the project directory and environment, Markdown on stdout, progress and errors on
// stderr, the exit code.
import { FlagError } from "../flags";
import { projectRoot } from "../pulumi-cli";
import type { CommandIO } from "./commands";

export function runCommand(name: string, command: (argv: readonly string[], io: CommandIO) => Promise<number>): void {
  const io: CommandIO = {
    workDir: projectRoot,
    env: process.env,
    stdout: (text) => void process.stdout.write(text),
    log: (line) => void process.stderr.write(`[${name}] ${line}\n`),
  };
  command(process.argv.slice(2), io).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`[${name}] ${err instanceof Error ? err.message : String(err)}\n`);
      if (err instanceof FlagError) process.stderr.write(`[${name}] npm run ${name} -- --help lists every flag\n`);
      process.exitCode = 2;
    },
  );
}
