// The emulator's persistent identity: its ID scope and shared access policies, created on first start and kept in
// <data>/emulator.json so connection strings stay valid across restarts.
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

export interface AccessPolicy {
  keyName: string;
  primaryKey: string;
  secondaryKey: string;
  rights: AccessRight[];
}

export interface EmulatorIdentity {
  idScope: string;
  policies: AccessPolicy[];
}

export const ownerPolicyName = "provisioningserviceowner";

function newKey(): string {
  return randomBytes(32).toString("base64");
}

export function newPolicy(keyName: string, rights: AccessRight[]): AccessPolicy {
  return { keyName, primaryKey: newKey(), secondaryKey: newKey(), rights };
}

/** Loads <data>/emulator.json, creating it (scope `0ne` + 8 hex digits, owner policy) on first start. */
export function loadIdentity(dataDir: string): EmulatorIdentity {
  const file = path.join(dataDir, "emulator.json");
  if (fs.existsSync(file)) {
    return JSON.parse(fs.readFileSync(file, "utf8")) as EmulatorIdentity;
  }
  const identity: EmulatorIdentity = {
    idScope: `0ne${randomBytes(4).toString("hex").toUpperCase()}`,
    policies: [newPolicy(ownerPolicyName, [...allRights])],
  };
  saveIdentity(dataDir, identity);
  return identity;
}

export function saveIdentity(dataDir: string, identity: EmulatorIdentity): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, "emulator.json");
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(identity, null, 2), { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

export function connectionString(hostName: string, policy: AccessPolicy): string {
  return `HostName=${hostName};SharedAccessKeyName=${policy.keyName};SharedAccessKey=${policy.primaryKey}`;
}
