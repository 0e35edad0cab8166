// Running emulators for tests: in-process on an OS-chosen port over real HTTPS, or as a separate process.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type { ProvisioningServiceClient } from "azure-iot-provisioning-service";
import type { Registry } from "azure-iothub";

import { createServiceClient } from "../../dynamic-providers/service-client";
import { defaultConfig, type EmulatorConfig } from "../../emulator/config";
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
  /** Stops the emulator and removes its data directory. */
  dispose(): Promise<void>;
}

export async function startTestEmulator(overrides: Partial<EmulatorConfig> = {}): Promise<TestEmulator> {
  const dataDir = overrides.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "dps-emulator-"));
  const config: EmulatorConfig = { ...defaultConfig(dataDir), port: 0, mqttPort: -1, requestLog: "", ...overrides };
  const emulator = await startEmulator(config);
  const hub = (nameOrHost: string): HubConnectionInfo => {
    const found = emulator.connection.hubs.find((h) => h.name === nameOrHost || h.hostName === nameOrHost);
    if (!found) throw new Error(`the test emulator has no hub ${nameOrHost}`);
    return found;
  };
  return {
    ...emulator,
    dataDir,
    client: (connectionString = emulator.connection.connectionString) =>
      createServiceClient({ connectionString, port: emulator.port, ca: emulator.caPem }),
    hub,
    registry: (nameOrHost, connectionString = hub(nameOrHost).connectionString) =>
      createHubRegistry({ connectionString, port: emulator.port, ca: emulator.caPem }),
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
