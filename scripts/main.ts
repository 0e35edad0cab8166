// The main job (`npm start`): starts the local DPS emulator when it is not running, makes the development
// certificates when missing, runs `pulumi up` on the `local` stack (stacks/local/enrollments.yaml) with the pinned
// CLI, prints what DPS now holds, then provisions one simulated device of each kind with Microsoft's device SDK and
// prints its registration and the desired properties of its twin on the assigned hub.
import * as path from "node:path";

import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";

import { emulatorClientOptions } from "../dynamic-providers/enrollment/connection";
import { createServiceClient } from "../dynamic-providers/service-client";
import type { ConnectionInfo } from "../emulator/server";
import {
  describeCertificate,
  ensureDevCertificates,
  localCertificateStore,
  localDevices,
  localGroupDevices,
} from "./dev-certs";
import { checkpointEnv, stackPlatform } from "./lib/checkpoints";
import { emulatorDeviceEndpoint } from "./lib/devices/device-client";
import { localCredentials, localFleet } from "./lib/devices/local-devices";
import { provisionDevice, type DeviceOutcome } from "./lib/devices/provision";
import { renderDevices } from "./lib/devices/render";
import { ensureEmulator } from "./lib/emulator";
import { FlagError, integerFlag, parseFlags } from "./lib/flags";
import { pinnedPulumiCommand, projectRoot } from "./lib/pulumi-cli";

const usage = `Usage: npm start [-- [--port N] [--mqtt-port N]]
  --port N        HTTPS port of the emulator when npm start starts it (default 8443; 0: any free port)
  --mqtt-port N   MQTTS port of the emulator when npm start starts it (default 8883; 0: any free port; -1: off)
  --help, -h      this list
An emulator already running for .emulator-data is used as it is.`;

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

/** One device of each kind provisions itself; its outcome says how it went, whatever happened. */
async function provisionDevices(info: ConnectionInfo, stack: Stack): Promise<DeviceOutcome[]> {
  const service = createServiceClient(emulatorClientOptions(info));
  const endpoint = emulatorDeviceEndpoint(info);
  const credentials = localCredentials({
    store: localCertificateStore,
    service,
    // The CLI decrypts it into this process's memory only: `config get` of one key prints its value.
    stackSecret: async (key) => (await stack.getConfig(key)).value,
  });
  const outcomes: DeviceOutcome[] = [];
  for (const device of localFleet) {
    // Without MQTT (--mqtt-port -1) every device registers over HTTPS.
    const spec = endpoint.mqttPort === undefined ? { ...device, transport: "http" as const } : device;
    outcomes.push(await provisionDevice(spec, { service, endpoint, hubs: info.hubs, hubCa: endpoint.ca, credentials }));
  }
  return outcomes;
}

function parse(argv: readonly string[]): string[] | "help" {
  const flags = parseFlags(argv, {
    port: { type: "string" },
    "mqtt-port": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (flags.help) return "help";
  const args: string[] = [];
  if (flags.port !== undefined) args.push("--port", String(integerFlag("--port", flags.port, 0, 65535)));
  if (flags["mqtt-port"] !== undefined) {
    args.push("--mqtt-port", String(integerFlag("--mqtt-port", flags["mqtt-port"], -1, 65535)));
  }
  return args;
}

async function main(): Promise<number> {
  const emulatorArgs = parse(process.argv.slice(2));
  if (emulatorArgs === "help") {
    console.log(usage);
    return 0;
  }
  const info = await ensureEmulator(dataDir, (line) => console.log(`[main] ${line}`), { args: emulatorArgs });
  const certificates = ensureDevCertificates(localCertificateStore, {
    devices: localDevices,
    groupDevices: localGroupDevices,
  });
  const made = certificates.filter((c) => c.created);
  if (made.length > 0) {
    console.log(`[main] development certificates (private keys in certs/private/, git-ignored):`);
    for (const c of made) console.log(`[main]   ${describeCertificate(c)}`);
  }
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "local", workDir: projectRoot },
    // Linear by default: the local stack holds only enrollments (scripts/lib/checkpoints.ts).
    { pulumiCommand: await pinnedPulumiCommand(), envVars: checkpointEnv(stackPlatform(projectRoot, "local")) },
  );
  console.log("[main] pulumi up --stack local");
  await stack.up({ onOutput: (out) => process.stdout.write(out) });
  await summary(info);
  console.log(
    `\nDevices, each registered with Microsoft's device SDK (ID scope ${info.idScope}), twins read from their hub:\n`,
  );
  const outcomes = await provisionDevices(info, stack);
  console.log(renderDevices(outcomes));
  const failed = outcomes.filter((o) => o.kind === "error").length;
  if (failed > 0) console.error(`\n[main] ${failed} device(s) could not be provisioned (see above)`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`\n[main] ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof FlagError) console.error("[main] npm start -- --help lists every flag");
    process.exit(1);
  },
);
