// The main job (`npm start`): starts the local DPS emulator when it is not running, runs `pulumi up` on the `local`
// stack (stacks/local/enrollments.yaml) with the pinned CLI, and prints what DPS now holds.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";

import { LocalWorkspace } from "@pulumi/pulumi/automation";

import { emulatorClientOptions } from "../dynamic-providers/enrollment/connection";
import { createServiceClient } from "../dynamic-providers/service-client";
import type { ConnectionInfo } from "../emulator/server";
import { makeDevCertificates } from "./dev-certs";
import { pinnedPulumiCommand, projectRoot } from "./lib/pulumi-cli";

const dataDir = path.join(projectRoot, ".emulator-data");
const connectionFile = path.join(dataDir, "connection.json");

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

async function running(): Promise<ConnectionInfo | undefined> {
  if (!fs.existsSync(connectionFile)) return undefined;
  const info = JSON.parse(fs.readFileSync(connectionFile, "utf8")) as ConnectionInfo;
  return (await healthy(info)) ? info : undefined;
}

/** Starts the emulator in the background (it keeps running after this job) and waits until it answers. */
async function ensureEmulator(): Promise<ConnectionInfo> {
  const existing = await running();
  if (existing) {
    console.log(`[main] DPS emulator already running at ${existing.endpoint}`);
    return existing;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  fs.rmSync(connectionFile, { force: true });
  const log = fs.openSync(path.join(dataDir, "emulator.log"), "a");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(projectRoot, "emulator", "main.ts"), "--data", dataDir],
    { cwd: projectRoot, detached: true, stdio: ["ignore", log, log] },
  );
  child.unref();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const info = await running();
    if (info) {
      console.log(
        `[main] started the DPS emulator at ${info.endpoint} (pid ${child.pid}, log .emulator-data/emulator.log)`,
      );
      return info;
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the DPS emulator did not start; see ${path.join(dataDir, "emulator.log")}`);
}

interface EnrollmentRow {
  registrationId: string;
  attestation: { type: string };
  provisioningStatus: string;
  allocationPolicy?: string;
  iotHubs?: string[];
  deviceId?: string;
  capabilities: { iotEdge: boolean };
}

async function summary(info: ConnectionInfo): Promise<void> {
  const client = createServiceClient(emulatorClientOptions(info));
  const query = client.createIndividualEnrollmentQuery({ query: "SELECT * FROM enrollments" }, 100);
  const rows: string[][] = [["registration ID", "attestation", "status", "allocation", "hubs", "device ID", "edge"]];
  while (query.hasMoreResults) {
    const page = (await query.next(query.continuationToken)) as unknown as { responseBody: EnrollmentRow[] };
    for (const e of page.responseBody) {
      const attestation = e.attestation;
      rows.push([
        e.registrationId,
        attestation.type,
        e.provisioningStatus,
        e.allocationPolicy ?? "(service default)",
        (e.iotHubs ?? []).join(", ") || "(all linked)",
        e.deviceId ?? "(= registration ID)",
        e.capabilities.iotEdge ? "yes" : "no",
      ]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(
    `\nDPS (${info.endpoint}, ID scope ${info.idScope}) now holds ${rows.length - 1} individual enrollment(s):\n`,
  );
  for (const row of rows) console.log(`  ${row.map((c, i) => c.padEnd(widths[i])).join("  ")}`);
}

async function main(): Promise<void> {
  const info = await ensureEmulator();
  const certs = path.join(projectRoot, "stacks", "local", "certs");
  if (!fs.existsSync(path.join(certs, "mydevice.pem"))) {
    makeDevCertificates(certs, ["mydevice"]);
  }
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "local", workDir: projectRoot },
    { pulumiCommand: await pinnedPulumiCommand() },
  );
  console.log("[main] pulumi up --stack local");
  await stack.up({ onOutput: (out) => process.stdout.write(out) });
  await summary(info);
}

main().catch((err: unknown) => {
  console.error(`\n[main] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
