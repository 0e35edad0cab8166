// Running emulators for tests: in-process on an OS-chosen port over real HTTPS, or as a separate process.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type { ProvisioningServiceClient } from "azure-iot-provisioning-service";
import type { Registry } from "azure-iothub";

import { createServiceClient } from "../../dynamic-providers/service-client";
import { defaultConfig, type EmulatorConfig } from "../../emulator/config";
import type { RequestLogEntry } from "../../emulator/middleware";
import { startEmulator, type HubConnectionInfo, type RunningEmulator } from "../../emulator/server";
import { createHubRegistry } from "../../scripts/lib/hub-registry";

export interface TestEmulator extends RunningEmulator {
  dataDir: string;
  /** Microsoft's service client, pointed at this emulator with the given connection string (owner by default). */
  client(connectionString?: string): ProvisioningServiceClient;
  /** A linked hub's entry in connection.json, by name or host name. */
  hub(nameOrHost: string): HubConnectionInfo;
  /** Microsoft's hub Registry for a linked hub, with the connection string given or its iothubowner one. */
  registry(nameOrHost: string, connectionString?: string): Registry;
  /**
   * Every request the emulator has logged so far (started with `requestLog`), up to and without a marker request
   * this makes: the log is written asynchronously, and the marker's line proves every earlier line is there.
   */
  requests(): Promise<RequestLogEntry[]>;
  /** Stops the emulator and removes its data directory. */
  dispose(): Promise<void>;
}

let markers = 0;

export async function startTestEmulator(overrides: Partial<EmulatorConfig> = {}): Promise<TestEmulator> {
  const dataDir = overrides.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "dps-emulator-"));
  const config: EmulatorConfig = { ...defaultConfig(dataDir), port: 0, mqttPort: -1, requestLog: "", ...overrides };
  const emulator = await startEmulator(config);
  const client = (connectionString = emulator.connection.connectionString): ProvisioningServiceClient =>
    createServiceClient({ connectionString, port: emulator.port, ca: emulator.caPem });
  const hub = (nameOrHost: string): HubConnectionInfo => {
    const found = emulator.connection.hubs.find((h) => h.name === nameOrHost || h.hostName === nameOrHost);
    if (!found) throw new Error(`the test emulator has no hub ${nameOrHost}`);
    return found;
  };
  return {
    ...emulator,
    dataDir,
    client,
    hub,
    registry: (nameOrHost, connectionString = hub(nameOrHost).connectionString) =>
      createHubRegistry({ connectionString, port: emulator.port, ca: emulator.caPem }),
    requests: async () => {
      if (!config.requestLog || config.requestLog === "-")
        throw new Error("the emulator was started without requestLog");
      const marker = `log-marker-${process.pid}-${++markers}`;
      await client()
        .getIndividualEnrollment(marker)
        .catch(() => undefined);
      for (let waited = 0; waited < 10_000; waited += 20) {
        const lines = fs.existsSync(config.requestLog) ? fs.readFileSync(config.requestLog, "utf8").split("\n") : [];
        const entries = lines.filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as RequestLogEntry);
        const end = entries.findIndex((e) => e.path.includes(marker));
        if (end >= 0) return entries.slice(0, end).filter((e) => !e.path.includes("log-marker-"));
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`the emulator's request log ${config.requestLog} never showed ${marker}`);
    },
    dispose: async () => {
      await emulator.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The status code and parsed error body of a rejected SDK call. */
export async function rejection(promise: Promise<unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { response?: { statusCode?: number }; responseBody?: string };
    return {
      status: e.response?.statusCode ?? 0,
      body: e.responseBody ? (JSON.parse(e.responseBody) as Record<string, unknown>) : {},
    };
  }
  throw new Error("expected the call to fail, but it succeeded");
}
