// The emulator's persistent identity: its ID scope, its shared access policies and those of each linked hub, created
// on first start and kept in <data>/emulator.json so connection strings stay valid across restarts.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** Rights of a DPS shared access policy. */
export type AccessRight =
  "ServiceConfig" | "EnrollmentRead" | "EnrollmentWrite" | "RegistrationStatusRead" | "RegistrationStatusWrite";

export const allRights: readonly AccessRight[] = [
  "ServiceConfig",
  "EnrollmentRead",
  "EnrollmentWrite",
  "RegistrationStatusRead",
  "RegistrationStatusWrite",
];

/** Rights of an IoT hub shared access policy. */
export type HubAccessRight = "RegistryRead" | "RegistryWrite" | "ServiceConnect" | "DeviceConnect";

export interface AccessPolicy<Right extends string = AccessRight> {
  keyName: string;
  primaryKey: string;
  secondaryKey: string;
  rights: Right[];
}

export type HubAccessPolicy = AccessPolicy<HubAccessRight>;

export interface EmulatorIdentity {
  idScope: string;
  policies: AccessPolicy[];
  /** Each linked hub's policies by its host name (lower case); made when the hub is first linked. */
  hubs?: Record<string, HubAccessPolicy[]>;
}

export const hubOwnerPolicyName = "iothubowner";

/** The policies a new IoT hub has, with their rights, as Azure creates them. */
const hubPolicyRights: Record<string, HubAccessRight[]> = {
  [hubOwnerPolicyName]: ["RegistryRead", "RegistryWrite", "ServiceConnect", "DeviceConnect"],
  service: ["ServiceConnect"],
  device: ["DeviceConnect"],
  registryRead: ["RegistryRead"],
  registryReadWrite: ["RegistryRead", "RegistryWrite"],
};

export const ownerPolicyName = "provisioningserviceowner";

function newKey(): string {
  return randomBytes(32).toString("base64");
}

export function newPolicy<Right extends string>(keyName: string, rights: Right[]): AccessPolicy<Right> {
  return { keyName, primaryKey: newKey(), secondaryKey: newKey(), rights };
}

/**
 * Loads <data>/emulator.json, creating it (scope `0ne` + 8 hex digits, owner policy) on first start, and policies
 * for each hub host name that has none yet.
 */
export function loadIdentity(dataDir: string, hubHostNames: readonly string[] = []): EmulatorIdentity {
  const file = path.join(dataDir, "emulator.json");
  const identity: EmulatorIdentity = fs.existsSync(file)
    ? (JSON.parse(fs.readFileSync(file, "utf8")) as EmulatorIdentity)
    : {
        idScope: `0ne${randomBytes(4).toString("hex").toUpperCase()}`,
        policies: [newPolicy(ownerPolicyName, [...allRights])],
      };
  const missing = hubHostNames.map((h) => h.toLowerCase()).filter((h) => !identity.hubs?.[h]);
  if (missing.length > 0 || !fs.existsSync(file)) {
    identity.hubs = { ...identity.hubs };
    for (const host of missing) {
      identity.hubs[host] = Object.entries(hubPolicyRights).map(([keyName, rights]) => newPolicy(keyName, [...rights]));
    }
    saveIdentity(dataDir, identity);
  }
  return identity;
}

/** A hub's policies (none for a host the identity does not know). */
export function hubPolicies(identity: EmulatorIdentity, hubHostName: string): HubAccessPolicy[] {
  return identity.hubs?.[hubHostName.toLowerCase()] ?? [];
}

export function saveIdentity(dataDir: string, identity: EmulatorIdentity): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, "emulator.json");
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(identity, null, 2), { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

export function connectionString(hostName: string, policy: AccessPolicy<string>): string {
  return `HostName=${hostName};SharedAccessKeyName=${policy.keyName};SharedAccessKey=${policy.primaryKey}`;
}
