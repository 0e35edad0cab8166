// The Pulumi program. Stack configuration (stacks/Pulumi.<stack>.yaml, keys declared in Pulumi.yaml) chooses the DPS:
// the local emulator, an existing DPS, or one provisioned here on Azure with its IoT hubs; the stack's manifest
// (stacks/<stack>/enrollments.yaml by default) says which enrollments it holds.
import * as fs from "node:fs";
import * as path from "node:path";

import { DpsEnrollments } from "@dps-enrollments/enrollment-provider";
import * as pulumi from "@pulumi/pulumi";

import type { AzureDpsPlatform } from "./components/azure-platform";
import { PlatformConfigError, readPlatformConfig, type AzurePlatformConfig } from "./components/platform-config";

const config = new pulumi.Config();
const stack = pulumi.getStack();
const settings = readPlatformConfig((key) => config.get(key));
const platform = settings.platform;

/** What the stack knows of a DPS it does not provision: the emulator's connection.json, or config (existing). */
interface KnownDps {
  idScope?: string;
  serviceHostName?: string;
  deviceHostName?: string;
  linkedHubs: string[];
  /** Hub name → host name (the emulator's hubs have names, as Azure's do). */
  hubNames?: Record<string, string>;
}

function knownDps(): KnownDps {
  if (platform === "emulator") {
    const dataDir = path.resolve(config.get("emulatorDataDir") || ".emulator-data");
    const file = path.join(dataDir, "connection.json");
    if (!fs.existsSync(file)) {
      throw new Error(
        `platform emulator: ${path.relative(process.cwd(), file)} does not exist; start the emulator (npm run emulator) or run npm start`,
      );
    }
    const info = JSON.parse(fs.readFileSync(file, "utf8")) as {
      idScope: string;
      endpoint: string;
      deviceEndpoint: string;
      linkedHubs: string[];
      hubs?: { name: string; hostName: string }[];
    };
    return {
      idScope: info.idScope,
      serviceHostName: new URL(info.endpoint).host,
      deviceHostName: new URL(info.deviceEndpoint).host,
      linkedHubs: info.linkedHubs,
      hubNames: info.hubs && Object.fromEntries(info.hubs.map((hub) => [hub.name, hub.hostName])),
    };
  }
  return {
    serviceHostName: config.get("hostName") || undefined,
    linkedHubs: config.getObject<string[]>("linkedHubs") ?? [],
  };
}

/** A CA certificate file as DPS takes it: PEM text, or base64 of DER bytes. */
function readCertificate(index: number, file: string): string {
  try {
    const bytes = fs.readFileSync(path.resolve(file));
    const text = bytes.toString("utf8");
    return text.includes("-----BEGIN CERTIFICATE-----") ? text : bytes.toString("base64");
  } catch (err) {
    throw new PlatformConfigError([
      `config caCertificates[${index}].file: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    ]);
  }
}

function azurePlatform(azure: AzurePlatformConfig): AzureDpsPlatform {
  // Loaded only here: the emulator and existing platforms never pay for compiling it and loading azure-native.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { AzureDpsPlatform } = require("./components/azure-platform") as typeof import("./components/azure-platform");
  return new AzureDpsPlatform("platform", {
    location: azure.location,
    resourceGroupName: azure.resourceGroupName,
    dpsName: azure.dpsName,
    dpsSku: azure.dpsSku,
    dpsCapacity: azure.dpsCapacity,
    allocationPolicy: azure.allocationPolicy,
    iotHubs: azure.iotHubs,
    caCertificates: azure.caCertificates.map((c, index) => ({
      name: c.name,
      certificate: readCertificate(index, c.file),
      verified: c.verified,
    })),
    serviceAuth: azure.serviceAuth,
    assignDataContributor: azure.assignDataContributor,
    deployerPrincipalType: azure.deployerPrincipalType,
  });
}

const azure = settings.platform === "azure" ? azurePlatform(settings.azure) : undefined;
const known = azure ? undefined : knownDps();
// Declared in Pulumi.yaml with an empty default: empty means the stack's own manifest.
const manifest = config.get("manifest") || path.join("stacks", stack, "enrollments.yaml");
const enrollments = new DpsEnrollments(
  "enrollments",
  {
    manifest: path.resolve(manifest),
    manifestDisplayName: manifest,
    // Azure hub host names derive from their names, so the manifest is checked at preview, before the hubs exist.
    linkedHubs: azure ? Object.values(azure.hubNames) : (known?.linkedHubs ?? []),
    hubNames: azure?.hubNames ?? known?.hubNames,
    // The CA certificates this program uploads are the ones groups may reference (other platforms: unchecked).
    caCertificateNames: settings.platform === "azure" ? settings.azure.caCertificates.map((c) => c.name) : undefined,
    service: azure?.service,
  },
  // Enrollments wait for the DPS, its linked hubs and the role assignment.
  azure ? { dependsOn: [azure] } : undefined,
);

export { platform };
export const registrationIds = enrollments.registrationIds;
/** Group ID → attestation type, and (secret) group ID → primary key of each symmetric-key group (npm run device-key). */
export const enrollmentGroups = pulumi
  .all(Object.entries(enrollments.enrollmentGroups).map(([id, group]) => pulumi.all([id, group.attestationType])))
  .apply((pairs) => Object.fromEntries(pairs));
export const enrollmentGroupKeys = pulumi.secret(
  pulumi
    .all(Object.entries(enrollments.enrollmentGroups).map(([id, group]) => pulumi.all([id, group.primaryKey])))
    .apply((pairs) => Object.fromEntries(pairs.filter(([, key]) => key !== undefined))),
);
// null rather than undefined where a platform cannot know a value (Pulumi warns about undefined outputs).
export const idScope = azure?.idScope ?? known?.idScope ?? null;
export const serviceHostName = azure?.serviceHostName ?? known?.serviceHostName ?? null;
export const deviceHostName = azure?.deviceHostName ?? known?.deviceHostName ?? null;
export const linkedHubHostNames = azure?.linkedHubHostNames ?? known?.linkedHubs ?? null;
