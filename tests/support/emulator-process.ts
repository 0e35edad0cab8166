// The emulator as a separate process (`tsx emulator/main.ts`), for what in-process tests cannot show: kill -9 and
// restart, port 443 with unmodified clients, the command line itself.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { projectRoot } from "../../scripts/lib/pulumi-cli";
import type { ConnectionInfo } from "../../emulator/server";

export interface EmulatorProcess {
  child: ChildProcess;
  connection: ConnectionInfo;
  output(): string;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<number | null>;
}

export async function spawnEmulator(args: string[], dataDir: string, timeoutMs = 30_000): Promise<EmulatorProcess> {
  const connectionFile = path.join(dataDir, "connection.json");
  fs.rmSync(connectionFile, { force: true });
  // One process (node with tsx as a loader), so SIGKILL hits the emulator itself, not a wrapper.
  const main = path.join(projectRoot, "emulator", "main.ts");
  const child = spawn(process.execPath, ["--import", "tsx", main, "--data", dataDir, ...args], {
    cwd: projectRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

  const started = Date.now();
  while (!output.includes("DPS emulator listening")) {
    if (child.exitCode !== null || Date.now() - started > timeoutMs) {
      child.kill("SIGKILL");
      throw new Error(`the emulator did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    connection: JSON.parse(fs.readFileSync(connectionFile, "utf8")) as ConnectionInfo,
    output: () => output,
    kill: async () => {
      child.kill("SIGKILL");
      await exited;
    },
    stop: async () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}
