// The main job (`npm start`): starts the local DPS emulator when it is not running, runs `pulumi up` on the `local`
// stack (stacks/local/enrollments.yaml) with the pinned CLI, and prints what DPS now holds.
import * as fs from "node:fs";
import * as path from "node:path";

import { LocalWorkspace } from "@pulumi/pulumi/automation";

import { emulatorClientOptions } from "../dynamic-providers/enrollment/connection";
import { createServiceClient } from "../dynamic-providers/service-client";
import type { ConnectionInfo } from "../emulator/server";
import { makeDevCertificates } from "./dev-certs";
import { checkpointEnv, stackPlatform } from "./lib/checkpoints";
import { ensureEmulator } from "./lib/emulator";
import { pinnedPulumiCommand, projectRoot } from "./lib/pulumi-cli";

const dataDir = path.join(projectRoot, ".emulator-data");

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
  const info = await ensureEmulator(dataDir, (line) => console.log(`[main] ${line}`));
  const certs = path.join(projectRoot, "stacks", "local", "certs");
  if (!fs.existsSync(path.join(certs, "mydevice.pem"))) {
    makeDevCertificates(certs, ["mydevice"]);
  }
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "local", workDir: projectRoot },
    // Linear by default: the local stack holds only enrollments (scripts/lib/checkpoints.ts).
    { pulumiCommand: await pinnedPulumiCommand(), envVars: checkpointEnv(stackPlatform(projectRoot, "local")) },
  );
  console.log("[main] pulumi up --stack local");
  await stack.up({ onOutput: (out) => process.stdout.write(out) });
  await summary(info);
}

main().catch((err: unknown) => {
  console.error(`\n[main] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
