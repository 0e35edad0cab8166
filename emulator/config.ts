// Emulator settings and their command-line flags. Every bad flag is an error that names the flag and the reason.
import * as path from "node:path";

import { FlagError, integerFlag, parseFlags } from "../scripts/lib/flags";

export interface LinkedHub {
  /** What manifests may call it (`iotHubs: [emulator-hub-1]`), as Azure's hub names; no dots. */
  name: string;
  /**
   * Where its registry API answers: a loopback address the emulator also listens on (the default, so the name needs
   * no DNS), or a DNS name you make resolve to the emulator. The emulator routes by the request's Host.
   */
  hostName: string;
  /** Weight for hashed allocation (1–1000), as the ARM `allocationWeight`. */
  allocationWeight: number;
  /** false keeps the hub out of allocation unless an enrollment lists it, as ARM `applyAllocationPolicy`. */
  applyAllocationPolicy: boolean;
}

export type FaultKind = "500" | "503" | "drop";

/** Built-in DPS data-plane roles: Device Provisioning Service Data Contributor / Data Reader. */
export type EntraRole = "contributor" | "reader";

/** Microsoft Entra ID bearer tokens from one trusted local issuer (off unless configured). */
export interface EntraSettings {
  /** The `iss` tokens must carry. */
  issuer: string;
  /** PEM public key or certificate of the issuer's RS256 signing key. */
  keyFile: string;
  /** Role assignments on this DPS by principal object ID (`oid`), as Azure RBAC keeps them. */
  roleAssignments: { principalId: string; role: EntraRole }[];
}

export interface EmulatorConfig {
  /** Address to bind; 127.0.0.1 unless told otherwise. */
  host: string;
  /** HTTPS port of the service and device APIs (0 = any free port). */
  port: number;
  /** MQTTS port of the device API (0 = any free port, -1 = off). */
  mqttPort: number;
  /** Host name clients use (connection string HostName, TLS certificate SAN). */
  hostName: string;
  dataDir: string;
  linkedHubs: LinkedHub[];
  /** Operations per minute before 429 (0 = unlimited), like the service's 1,000/min quota. */
  throttlePerMinute: number;
  /** Fraction (0–1) of API requests answered with a fault. */
  faultRate: number;
  faultKinds: FaultKind[];
  /** Structured request log: a file path, "-" for stdout, or "" for none. */
  requestLog: string;
  /** Microsoft Entra ID bearer tokens; absent: refused with 401, as before. */
  entra?: EntraSettings;
}

// 127.0.0.0/8 is loopback: Linux and Windows answer every address in it with no setup, so these hosts reach the
// emulator without DNS or hosts-file entries (macOS needs `sudo ifconfig lo0 alias 127.0.0.2 up` once per boot).
export const defaultHubs: LinkedHub[] = [
  { name: "emulator-hub-1", hostName: "127.0.0.2", allocationWeight: 1, applyAllocationPolicy: true },
  { name: "emulator-hub-2", hostName: "127.0.0.3", allocationWeight: 1, applyAllocationPolicy: true },
];

const ipv4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function isIpv4(host: string): boolean {
  return ipv4.test(host);
}

/**
 * What is wrong with the hubs of a configuration: duplicate names or hosts, or a hub on the DPS's own host (its
 * requests would go to the DPS). Empty when nothing is.
 */
export function hubProblems(config: Pick<EmulatorConfig, "linkedHubs" | "hostName">): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const hosts = new Set<string>();
  const dpsHosts = new Set(["localhost", "127.0.0.1", config.hostName.toLowerCase()]);
  for (const hub of config.linkedHubs) {
    const host = hub.hostName.toLowerCase();
    if (names.has(hub.name.toLowerCase())) problems.push(`hub name '${hub.name}' is used twice`);
    if (hosts.has(host)) problems.push(`hub host '${hub.hostName}' is used twice`);
    if (dpsHosts.has(host)) {
      problems.push(
        `hub ${hub.name}: ${hub.hostName} is the DPS's own host; give each hub its own loopback address, e.g. 127.0.0.2`,
      );
    }
    names.add(hub.name.toLowerCase());
    hosts.add(host);
  }
  return problems;
}

export function defaultConfig(dataDir = path.resolve(".emulator-data")): EmulatorConfig {
  return {
    host: "127.0.0.1",
    port: 8443,
    mqttPort: 8883,
    hostName: "localhost",
    dataDir,
    linkedHubs: defaultHubs.map((h) => ({ ...h })),
    throttlePerMinute: 0,
    faultRate: 0,
    faultKinds: ["500", "503", "drop"],
    requestLog: path.join(dataDir, "requests.log"),
  };
}

export const usage = `Usage: npm run emulator -- [flags]   (--flag VALUE or --flag=VALUE)
  --host ADDRESS        address to bind (default 127.0.0.1)
  --port N              HTTPS port of the service and device APIs (default 8443; 443 lets unmodified clients in)
  --mqtt-port N         MQTTS port of the device API (default 8883; -1 turns MQTT off)
  --hostname NAME       host name clients use (default localhost)
  --data DIR            data directory (default .emulator-data)
  --hub [NAME=]HOST[:WEIGHT[:noapply]]
                        a linked IoT hub: its name, its host (a loopback address the emulator listens on too,
                        or a DNS name you point at the emulator), allocation weight, noapply to keep it out of
                        allocation; repeat for more (default emulator-hub-1=127.0.0.2 and emulator-hub-2=127.0.0.3)
  --throttle N          operations per minute before 429 (default 0 = unlimited)
  --faults FRACTION     fraction of requests answered 500/503 or dropped (default 0)
  --fault-kinds LIST    which faults, comma-separated from 500,503,drop (default all)
  --request-log PATH    JSON-lines request log; - for stdout, none to disable (default <data>/requests.log)
  --entra-issuer URL    accept Microsoft Entra ID bearer tokens with this iss (default off: only SAS)
  --entra-key FILE      PEM public key or certificate that signs those tokens (RS256); needs --entra-issuer
  --entra-role OID:ROLE role assignment of a principal object ID, ROLE contributor or reader; repeat for more
  --help, -h            this list`;

/** The emulator's flags, for node:util parseArgs (through scripts/lib/flags). */
const flagSpecs = {
  host: { type: "string" },
  port: { type: "string" },
  "mqtt-port": { type: "string" },
  hostname: { type: "string" },
  data: { type: "string" },
  hub: { type: "string", multiple: true },
  throttle: { type: "string" },
  faults: { type: "string" },
  "fault-kinds": { type: "string" },
  "request-log": { type: "string" },
  "entra-issuer": { type: "string" },
  "entra-key": { type: "string" },
  "entra-role": { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

function parseHub(value: string): LinkedHub {
  const eq = value.indexOf("=");
  const name = eq < 0 ? undefined : value.slice(0, eq);
  const [hostName, weight, apply, extra] = value.slice(eq + 1).split(":");
  if (name !== undefined && !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?$/.test(name)) {
    throw new FlagError(
      `--hub ${JSON.stringify(value)}: the name must be 1 to 50 letters, digits and inner hyphens (no dots)`,
    );
  }
  if (!hostName || !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(hostName) || extra !== undefined) {
    throw new FlagError(`--hub ${JSON.stringify(value)}: expected [NAME=]HOST[:WEIGHT[:noapply]]`);
  }
  if (apply !== undefined && apply !== "noapply") {
    throw new FlagError(`--hub ${JSON.stringify(value)}: the part after the weight may only be "noapply"`);
  }
  return {
    // Azure derives the host from the name (<name>.azure-devices.net); here the name defaults to the first label.
    name: name ?? (isIpv4(hostName) ? hostName : hostName.split(".")[0]),
    hostName,
    allocationWeight: weight === undefined || weight === "" ? 1 : integerFlag("--hub weight", weight, 1, 1000),
    applyAllocationPolicy: apply === undefined,
  };
}

function parseRole(value: string): EntraSettings["roleAssignments"][number] {
  const [principalId, role, extra] = value.split(":");
  if (!principalId || !/^[A-Za-z0-9-]+$/.test(principalId) || (role !== "contributor" && role !== "reader") || extra) {
    throw new FlagError(`--entra-role ${JSON.stringify(value)}: expected OBJECTID:contributor or OBJECTID:reader`);
  }
  return { principalId, role };
}

function parseFaultKinds(value: string): FaultKind[] {
  const kinds = value.split(",");
  for (const kind of kinds) {
    if (kind !== "500" && kind !== "503" && kind !== "drop") {
      throw new FlagError(`--fault-kinds: unknown fault ${JSON.stringify(kind)} (use 500, 503, drop)`);
    }
  }
  return kinds as FaultKind[];
}

function parseFraction(flag: string, value: string): number {
  const rate = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(rate >= 0 && rate <= 1)) {
    throw new FlagError(`${flag} ${JSON.stringify(value)}: expected a fraction from 0 to 1`);
  }
  return rate;
}

/** The emulator's command line: the configuration, or `help` when --help asks for the flag list. */
export type ParsedCommandLine = { help: true } | { help: false; config: EmulatorConfig };

export function parseEmulatorArgs(argv: readonly string[], base: EmulatorConfig = defaultConfig()): ParsedCommandLine {
  const flags = parseFlags(argv, flagSpecs);
  if (flags.help) {
    return { help: true };
  }
  const config: EmulatorConfig = { ...base };
  if (flags.host !== undefined) config.host = flags.host;
  if (flags.port !== undefined) config.port = integerFlag("--port", flags.port, 0, 65535);
  if (flags["mqtt-port"] !== undefined) config.mqttPort = integerFlag("--mqtt-port", flags["mqtt-port"], -1, 65535);
  if (flags.hostname !== undefined) config.hostName = flags.hostname;
  if (flags.data !== undefined) config.dataDir = path.resolve(flags.data);
  if (flags.hub.length > 0) config.linkedHubs = flags.hub.map(parseHub);
  if (flags.throttle !== undefined) config.throttlePerMinute = integerFlag("--throttle", flags.throttle, 0, 1_000_000);
  if (flags.faults !== undefined) config.faultRate = parseFraction("--faults", flags.faults);
  if (flags["fault-kinds"] !== undefined) config.faultKinds = parseFaultKinds(flags["fault-kinds"]);
  const requestLog = flags["request-log"];
  if (requestLog !== undefined) {
    config.requestLog = requestLog === "none" ? "" : requestLog === "-" ? "-" : path.resolve(requestLog);
  } else if (config.dataDir !== base.dataDir) {
    config.requestLog = path.join(config.dataDir, "requests.log");
  }
  const problems = hubProblems(config);
  if (problems.length > 0) {
    throw new FlagError(`--hub: ${problems.join("; ")}`);
  }
  const entraIssuer = flags["entra-issuer"];
  const entraKey = flags["entra-key"];
  const entraRoles = flags["entra-role"].map(parseRole);
  if (entraIssuer !== undefined || entraKey !== undefined || entraRoles.length > 0) {
    if (!entraIssuer || !entraKey) {
      throw new FlagError("--entra-issuer and --entra-key go together: Entra ID needs the issuer and its signing key");
    }
    config.entra = { issuer: entraIssuer, keyFile: path.resolve(entraKey), roleAssignments: entraRoles };
  }
  return { help: false, config };
}
