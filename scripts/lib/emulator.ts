// The local DPS emulator as a background service of the project's commands (`npm start`, `npm run review`,
// `npm run deploy`): reuse the one that answers at a data directory's connection.json, or start one that keeps
// running after the command, saying what it waits for; when it does not come up, the error carries the end of its
// log.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";

import type { ConnectionInfo } from "../../emulator/server";
import { projectRoot } from "./pulumi-cli";

export interface EmulatorStartOptions {
  /** Extra command-line arguments for the emulator. */
  args?: string[];
  timeoutMs?: number;
  /** How often to say it is still waiting. */
  progressMs?: number;
  /** How many lines of the log an error shows. */
  logLines?: number;
}

function healthy(info: ConnectionInfo): Promise<boolean> {
  const url = new URL(info.endpoint);
  return new Promise((resolve) => {
    const req = https.get(
      {
        host: "127.0.0.1",
        port: url.port || 443,
        path: "/_emulator/health",
        ca: fs.readFileSync(info.caCertificate, "utf8"),
        servername: url.hostname,
        timeout: 2000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
  });
}

/** The emulator answering for this data directory, if one does. */
export async function runningEmulator(dataDir: string): Promise<ConnectionInfo | undefined> {
  const connectionFile = path.join(dataDir, "connection.json");
  if (!fs.existsSync(connectionFile)) return undefined;
  const info = JSON.parse(fs.readFileSync(connectionFile, "utf8")) as ConnectionInfo;
  return (await healthy(info).catch(() => false)) ? info : undefined;
}

/** The last `count` lines of a file (empty lines at the end left out). */
export function lastLines(file: string, count: number): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text.replace(/\s+$/, "").split("\n").slice(-count);
}

/**
 * Starts the emulator on `dataDir` in the background (it keeps running after the caller exits; its log is
 * `<dataDir>/emulator.log`) unless one already answers there, and waits until it does.
 */
export async function ensureEmulator(
  dataDir: string,
  log: (line: string) => void = (line) => console.log(line),
  options: EmulatorStartOptions = {},
): Promise<ConnectionInfo> {
  const existing = await runningEmulator(dataDir);
  if (existing) {
    log(`DPS emulator already running at ${existing.endpoint}`);
    return existing;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  fs.rmSync(path.join(dataDir, "connection.json"), { force: true });
  const logFile = path.join(dataDir, "emulator.log");
  const shownLog = path.relative(projectRoot, logFile);
  const out = fs.openSync(logFile, "a");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(projectRoot, "emulator", "main.ts"), "--data", dataDir, ...(options.args ?? [])],
    { cwd: projectRoot, detached: true, stdio: ["ignore", out, out] },
  );
  fs.closeSync(out);
  child.unref();
  let exitCode: number | null = null;
  child.on("exit", (code) => (exitCode = code));
  log(`starting the DPS emulator (pid ${child.pid}, log ${shownLog}); waiting for it to answer`);
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const progressMs = options.progressMs ?? 5_000;
  let lastSaid = started;
  while (Date.now() - started < timeoutMs && exitCode === null) {
    const info = await runningEmulator(dataDir);
    if (info) {
      log(`started the DPS emulator at ${info.endpoint} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return info;
    }
    if (Date.now() - lastSaid >= progressMs) {
      lastSaid = Date.now();
      log(`still waiting for the DPS emulator (${Math.round((lastSaid - started) / 1000)} s)`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const why =
    exitCode === null
      ? `did not answer within ${Math.round(timeoutMs / 1000)} s (it is still running: pid ${child.pid})`
      : `exited with code ${String(exitCode)}`;
  const tail = lastLines(logFile, options.logLines ?? 20);
  throw new Error(
    `the DPS emulator ${why}. The end of ${shownLog}:\n${tail.map((l) => `  | ${l}`).join("\n") || "  (empty)"}`,
  );
}
