// The local DPS emulator as a background service of the project's commands (`npm start`, `npm run review`,
// `npm run deploy`): reuse the one that answers at a data directory's connection.json, or start one that keeps
// running after the command.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";

import type { ConnectionInfo } from "../../emulator/server";
import { projectRoot } from "./pulumi-cli";

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

/**
 * Starts the emulator on `dataDir` in the background (it keeps running after the caller exits; its log is
 * `<dataDir>/emulator.log`) unless one already answers there, and waits until it does.
 */
export async function ensureEmulator(
  dataDir: string,
  log: (line: string) => void = (line) => console.log(line),
): Promise<ConnectionInfo> {
  const existing = await runningEmulator(dataDir);
  if (existing) {
    log(`DPS emulator already running at ${existing.endpoint}`);
    return existing;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  fs.rmSync(path.join(dataDir, "connection.json"), { force: true });
  const logFile = path.join(dataDir, "emulator.log");
  const out = fs.openSync(logFile, "a");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(projectRoot, "emulator", "main.ts"), "--data", dataDir],
    { cwd: projectRoot, detached: true, stdio: ["ignore", out, out] },
  );
  fs.closeSync(out);
  child.unref();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const info = await runningEmulator(dataDir);
    if (info) {
      log(
        `started the DPS emulator at ${info.endpoint} (pid ${child.pid}, log ${path.relative(projectRoot, logFile)})`,
      );
      return info;
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the DPS emulator did not start; see ${logFile}`);
}
