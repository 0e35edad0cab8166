// Which DPS the provider talks to and with what credentials, resolved inside the provider process from the stack's
// configuration (Pulumi hands dynamic providers the stack config, secrets decrypted, through `configure`). Nothing
// here is ever an input, an output or part of the serialized provider.
import * as fs from "node:fs";
import * as path from "node:path";

import type { ServiceClientOptions } from "../service-client";
import { defaultAccessKeyName } from "./normalize";

/** Stack configuration keys the provider reads, in its fixed namespace (runtime.ts: `dps-enrollments:<key>`). */
export const configKeys = {
  platform: "platform",
  connectionString: "connectionString",
  hostName: "hostName",
  endpoint: "endpoint",
  caCertificate: "caCertificate",
  emulatorDataDir: "emulatorDataDir",
} as const;

export type ConfigGetter = (key: string) => string | undefined;

/** The fields of the emulator's connection.json a client needs. */
export interface EmulatorConnection {
  connectionString: string;
  endpoint: string;
  caCertificate: string;
}

function readFile(what: string, file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      cause: err,
    });
  }
}

/**
 * Host and port of an endpoint override, `https://HOST[:PORT]`: the SDK speaks only HTTPS and puts its own paths on
 * the host, so anything else is refused, naming `what`.
 */
export function parseEndpoint(endpoint: string, what: string): { host: string; port?: number } {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== "https:" || url.pathname !== "/" || url.search || url.hash || url.username) {
    throw new Error(`${what} '${endpoint}' must be https://HOST or https://HOST:PORT`);
  }
  // https.request wants an IPv6 address without its URL brackets.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port: url.port ? Number(url.port) : undefined };
}

/** The explicit port of an https endpoint URL, or undefined for the default 443. */
export function endpointPort(endpoint: string | undefined): number | undefined {
  return endpoint ? parseEndpoint(endpoint, "endpoint").port : undefined;
}

/** Service-client options for an emulator, from its connection.json contents. */
export function emulatorClientOptions(info: EmulatorConnection): ServiceClientOptions {
  return {
    connectionString: info.connectionString,
    port: endpointPort(info.endpoint),
    ca: readFile("the emulator's CA certificate", info.caCertificate),
  };
}

/** The stack's endpoint override and extra CA: where the client connects and whom it trusts. */
function overrides(get: ConfigGetter, projectDir: string): Pick<ServiceClientOptions, "host" | "port" | "ca"> {
  const ca = get(configKeys.caCertificate);
  const endpoint = get(configKeys.endpoint);
  // The connection string's HostName (or hostName) stays the name SAS tokens are for.
  const { host, port } = endpoint
    ? parseEndpoint(endpoint, "config dps-enrollments:endpoint")
    : { host: undefined, port: undefined };
  return {
    host,
    port,
    ca: ca
      ? readFile("the CA certificate (config dps-enrollments:caCertificate)", path.resolve(projectDir, ca))
      : undefined,
  };
}

/**
 * The service-client options for the configured platform. `projectDir` anchors relative paths (the provider process
 * runs in the program's directory).
 */
export async function resolveConnection(get: ConfigGetter, projectDir: string): Promise<ServiceClientOptions> {
  const platform = get(configKeys.platform) ?? "emulator";
  if (platform === "emulator") {
    const dataDir = path.resolve(projectDir, get(configKeys.emulatorDataDir) ?? ".emulator-data");
    const file = path.join(dataDir, "connection.json");
    return emulatorClientOptions(JSON.parse(readFile("the emulator's connection file", file)) as EmulatorConnection);
  }
  if (platform !== "existing" && platform !== "azure") {
    throw new Error(`config dps-enrollments:platform '${platform}' is not one of emulator, existing, azure`);
  }
  const connectionString = get(configKeys.connectionString);
  if (connectionString) {
    return { connectionString, ...overrides(get, projectDir) };
  }
  const hostName = get(configKeys.hostName);
  if (!hostName) {
    throw new Error(
      `config dps-enrollments:platform '${platform}' needs a secret dps-enrollments:connectionString or a ` +
        "dps-enrollments:hostName (Microsoft Entra ID): pulumi config set --secret dps-enrollments:connectionString " +
        "'<HostName=…;SharedAccessKeyName=…;SharedAccessKey=…>'",
    );
  }
  // Loaded only on this path: @azure/identity is large and the emulator never needs it.
  const { DefaultAzureCredential } = await import("@azure/identity");
  return { hostName, credential: new DefaultAzureCredential(), ...overrides(get, projectDir) };
}

/**
 * The service-client options for a DPS a resource names (`serviceHostName`, platform azure): its shared access key
 * when given, Microsoft Entra ID otherwise. The stack's `endpoint` and `caCertificate` still apply, so the path can
 * be exercised against the emulator.
 */
export async function resolveServiceTarget(
  get: ConfigGetter,
  projectDir: string,
  target: { hostName: string; accessKeyName?: string; accessKey?: string },
): Promise<ServiceClientOptions> {
  if (target.accessKey) {
    const connectionString =
      `HostName=${target.hostName};SharedAccessKeyName=${target.accessKeyName ?? defaultAccessKeyName};` +
      `SharedAccessKey=${target.accessKey}`;
    return { connectionString, ...overrides(get, projectDir) };
  }
  const { DefaultAzureCredential } = await import("@azure/identity");
  return { hostName: target.hostName, credential: new DefaultAzureCredential(), ...overrides(get, projectDir) };
}
