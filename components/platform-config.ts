// Stack configuration of the platform (which DPS a stack manages, and for `platform: azure` what to provision),
// validated once at program start. Pure: it sees raw config strings as Pulumi stores them (objects and lists as JSON
// text) and returns typed values or a PlatformConfigError whose every problem names the key and the reason.
// The keys and defaults here are those declared in Pulumi.yaml (a test keeps the two equal).

export type Platform = "emulator" | "existing" | "azure";
export type IotHubSku = "F1" | "S1" | "S2" | "S3" | "B1" | "B2" | "B3";
export type DpsAllocationPolicy = "Hashed" | "GeoLatency" | "Static";
export type ServiceAuth = "entraId" | "sharedAccessKey";
export type PrincipalType = "User" | "ServicePrincipal" | "Group";

/** A JSON object (not null, not an array), as config values of list-of-mapping keys hold. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export const platforms: readonly Platform[] = ["emulator", "existing", "azure"];
export const iotHubSkus: readonly IotHubSku[] = ["F1", "S1", "S2", "S3", "B1", "B2", "B3"];
export const dpsAllocationPolicies: readonly DpsAllocationPolicy[] = ["Hashed", "GeoLatency", "Static"];
export const serviceAuths: readonly ServiceAuth[] = ["entraId", "sharedAccessKey"];
export const principalTypes: readonly PrincipalType[] = ["User", "ServicePrincipal", "Group"];

/** Project config keys of the platform and their defaults, exactly as Pulumi.yaml declares them. */
export const platformConfigDefaults = {
  platform: "emulator",
  location: "",
  resourceGroupName: "",
  dpsName: "",
  dpsSku: "S1",
  dpsCapacity: 1,
  allocationPolicy: "Hashed",
  iotHubs: [] as unknown[],
  serviceAuth: "entraId",
  assignDataContributor: false,
  deployerPrincipalType: "User",
  caCertificates: [] as unknown[],
} as const;

export type PlatformConfigKey = keyof typeof platformConfigDefaults;

export interface IotHubConfig {
  /** The hub's resource name; its host name is `<name>.azure-devices.net`. */
  name: string;
  location: string;
  sku: IotHubSku;
  units: number;
  allocationWeight: number;
  applyAllocationPolicy: boolean;
}

export interface CaCertificateConfig {
  /** The certificate's name in DPS. */
  name: string;
  /** PEM or DER file, relative to the project directory. */
  file: string;
  /** Upload as verified (no proof of possession). */
  verified: boolean;
}

export interface AzurePlatformConfig {
  location: string;
  /** An existing resource group; undefined: the program creates one. */
  resourceGroupName?: string;
  /** The DPS's resource name; undefined: autonamed from the component's name. */
  dpsName?: string;
  dpsSku: "S1";
  dpsCapacity: number;
  allocationPolicy: DpsAllocationPolicy;
  iotHubs: IotHubConfig[];
  serviceAuth: ServiceAuth;
  assignDataContributor: boolean;
  /** What the deploying principal is, for its role assignment (ARM refuses a wrong type). */
  deployerPrincipalType: PrincipalType;
  caCertificates: CaCertificateConfig[];
}

export type PlatformConfig =
  { platform: "emulator" } | { platform: "existing" } | { platform: "azure"; azure: AzurePlatformConfig };

export class PlatformConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`the stack configuration has ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
    this.name = "PlatformConfigError";
  }
}

/** Reads one project config value as Pulumi stores it (`pulumi.Config.get`), undefined when unset. */
export type RawConfigReader = (key: PlatformConfigKey) => string | undefined;

/** The host name Azure gives an IoT hub: deterministic, so manifests can be validated at preview. */
export function iotHubHostName(hubName: string): string {
  return `${hubName}.azure-devices.net`;
}

// ARM's naming rules (Microsoft.Devices and Microsoft.Resources).
const hubNamePattern = /^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{2,49}[a-zA-Z0-9]$/;
const dpsNamePattern = /^[a-zA-Z0-9-]{3,64}$/;
const resourceGroupNamePattern = /^[-\w._()]{1,90}$/;
const certificateNamePattern = /^[A-Za-z0-9-._]{1,64}$/;

const hubFields = ["name", "location", "sku", "units", "allocationWeight", "applyAllocationPolicy"] as const;
const certificateFields = ["name", "file", "verified"] as const;

function oneOf<T extends string>(value: string, allowed: readonly T[]): value is T {
  return (allowed as readonly string[]).includes(value);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1;
}

/** Collects problems as `config <key>: <reason>`. */
class Problems {
  readonly list: string[] = [];
  add(key: string, reason: string): void {
    this.list.push(`config ${key}: ${reason}`);
  }
}

/**
 * Each mapping of a list-valued key (objects arrive as JSON text), with unknown fields reported; `read` returns the
 * item or undefined, and an item that added problems is dropped.
 */
function readMappings<T>(
  key: "iotHubs" | "caCertificates",
  raw: string | undefined,
  fields: readonly string[],
  problems: Problems,
  read: (item: Record<string, unknown>, itemKey: string) => T,
): T[] {
  if (raw === undefined) return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value)) {
    problems.add(key, "must be a list");
    return [];
  }
  const items: T[] = [];
  value.forEach((item: unknown, index) => {
    const itemKey = `${key}[${index}]`;
    if (!isPlainObject(item)) {
      problems.add(itemKey, `must be a mapping of ${fields.join(", ")}`);
      return;
    }
    const before = problems.list.length;
    for (const field of Object.keys(item)) {
      if (!fields.includes(field)) problems.add(`${itemKey}.${field}`, `unknown field (known: ${fields.join(", ")})`);
    }
    const result = read(item, itemKey);
    if (problems.list.length === before) items.push(result);
  });
  return items;
}

/** Reports a name already seen (compared as `fold` makes it). */
function checkUnique(seen: Set<string>, name: string, key: string, problems: Problems, fold = (n: string) => n): void {
  if (seen.has(fold(name))) problems.add(key, `'${name}' is listed twice`);
  seen.add(fold(name));
}

function readIotHubs(raw: string | undefined, location: string, problems: Problems): IotHubConfig[] {
  const seen = new Set<string>();
  return readMappings("iotHubs", raw, hubFields, problems, (item, key) => {
    const { name, sku = "S1", units = 1, allocationWeight = 1, applyAllocationPolicy = true } = item;
    const hubLocation = item.location ?? location;
    if (typeof name !== "string" || !hubNamePattern.test(name)) {
      problems.add(
        `${key}.name`,
        "must be 3 to 50 letters, digits and hyphens, not only digits, not starting or ending with a hyphen",
      );
    } else {
      // Hub names are DNS labels: case does not make another hub.
      checkUnique(seen, name, `${key}.name`, problems, (n) => n.toLowerCase());
    }
    if (typeof hubLocation !== "string" || hubLocation === "") {
      problems.add(`${key}.location`, "must be an Azure region, e.g. westeurope");
    }
    if (typeof sku !== "string" || !oneOf(sku, iotHubSkus)) {
      problems.add(`${key}.sku`, `${JSON.stringify(sku)} is not one of ${iotHubSkus.join(", ")}`);
    }
    if (!isPositiveInteger(units)) {
      problems.add(`${key}.units`, `must be a whole number of at least 1 (got ${JSON.stringify(units)})`);
    } else if (sku === "F1" && units !== 1) {
      problems.add(`${key}.units`, `the free tier F1 has exactly 1 unit (got ${units})`);
    }
    if (typeof allocationWeight !== "number" || !Number.isInteger(allocationWeight) || allocationWeight < 0) {
      problems.add(
        `${key}.allocationWeight`,
        `must be a whole number of at least 0 (got ${JSON.stringify(allocationWeight)})`,
      );
    }
    if (typeof applyAllocationPolicy !== "boolean") {
      problems.add(`${key}.applyAllocationPolicy`, "must be true or false");
    }
    return {
      name: name as string,
      location: hubLocation as string,
      sku: sku as IotHubSku,
      units: units as number,
      allocationWeight: allocationWeight as number,
      applyAllocationPolicy: applyAllocationPolicy as boolean,
    };
  });
}

function readCaCertificates(raw: string | undefined, problems: Problems): CaCertificateConfig[] {
  const seen = new Set<string>();
  return readMappings("caCertificates", raw, certificateFields, problems, (item, key) => {
    const { name, file, verified = false } = item;
    if (typeof name !== "string" || !certificateNamePattern.test(name)) {
      problems.add(`${key}.name`, "must be 1 to 64 letters, digits, '-', '.' or '_'");
    } else {
      checkUnique(seen, name, `${key}.name`, problems);
    }
    if (typeof file !== "string" || file === "") {
      problems.add(`${key}.file`, "must be the path of a PEM or DER certificate file, relative to the project");
    }
    if (typeof verified !== "boolean") problems.add(`${key}.verified`, "must be true or false");
    return { name: name as string, file: file as string, verified: verified as boolean };
  });
}

function readAzure(get: RawConfigReader, problems: Problems): AzurePlatformConfig {
  const d = platformConfigDefaults;
  const location = get("location") ?? d.location;
  if (location.trim() === "")
    problems.add("location", "required when platform is azure (an Azure region, e.g. westeurope)");

  const resourceGroupName = get("resourceGroupName") ?? d.resourceGroupName;
  if (
    resourceGroupName !== "" &&
    (!resourceGroupNamePattern.test(resourceGroupName) || resourceGroupName.endsWith("."))
  ) {
    problems.add(
      "resourceGroupName",
      `'${resourceGroupName}' is not a resource group name (1 to 90 letters, digits, '-', '_', '.', '(', ')', not ending in '.')`,
    );
  }
  const dpsName = get("dpsName") ?? d.dpsName;
  if (dpsName !== "" && !dpsNamePattern.test(dpsName)) {
    problems.add("dpsName", `'${dpsName}' is not a DPS name (3 to 64 letters, digits and hyphens)`);
  }
  const dpsSku = get("dpsSku") ?? d.dpsSku;
  if (dpsSku !== "S1") problems.add("dpsSku", `'${dpsSku}' is not one of S1`);
  const capacityText = get("dpsCapacity") ?? String(d.dpsCapacity);
  const dpsCapacity = Number(capacityText);
  if (!/^\d+$/.test(capacityText) || !isPositiveInteger(dpsCapacity)) {
    problems.add("dpsCapacity", `must be a whole number of at least 1 (got '${capacityText}')`);
  }
  const allocationPolicy = get("allocationPolicy") ?? d.allocationPolicy;
  if (!oneOf(allocationPolicy, dpsAllocationPolicies)) {
    problems.add("allocationPolicy", `'${allocationPolicy}' is not one of ${dpsAllocationPolicies.join(", ")}`);
  }
  const serviceAuth = get("serviceAuth") ?? d.serviceAuth;
  if (!oneOf(serviceAuth, serviceAuths)) {
    problems.add("serviceAuth", `'${serviceAuth}' is not one of ${serviceAuths.join(", ")}`);
  }
  const assignText = get("assignDataContributor") ?? String(d.assignDataContributor);
  if (assignText !== "true" && assignText !== "false") {
    problems.add("assignDataContributor", `must be true or false (got '${assignText}')`);
  }
  const assignDataContributor = assignText === "true";
  if (assignDataContributor && serviceAuth === "sharedAccessKey") {
    problems.add(
      "assignDataContributor",
      "applies only with serviceAuth entraId (with sharedAccessKey the program uses the provisioningserviceowner key)",
    );
  }
  const deployerPrincipalType = get("deployerPrincipalType") ?? d.deployerPrincipalType;
  if (!oneOf(deployerPrincipalType, principalTypes)) {
    problems.add("deployerPrincipalType", `'${deployerPrincipalType}' is not one of ${principalTypes.join(", ")}`);
  }

  const iotHubs = readIotHubs(get("iotHubs"), location, problems);
  if (iotHubs.length === 0 && !problems.list.some((p) => p.startsWith("config iotHubs"))) {
    problems.add("iotHubs", "platform azure needs at least one IoT hub to link, e.g. [{name: my-hub-1}]");
  }
  return {
    location,
    ...(resourceGroupName !== "" ? { resourceGroupName } : {}),
    ...(dpsName !== "" ? { dpsName } : {}),
    dpsSku: "S1",
    dpsCapacity,
    allocationPolicy: allocationPolicy as DpsAllocationPolicy,
    iotHubs,
    serviceAuth: serviceAuth as ServiceAuth,
    assignDataContributor,
    deployerPrincipalType: deployerPrincipalType as PrincipalType,
    caCertificates: readCaCertificates(get("caCertificates"), problems),
  };
}

/** The platform configuration of a stack, or a PlatformConfigError listing every problem. */
export function readPlatformConfig(get: RawConfigReader): PlatformConfig {
  const platform = get("platform") ?? platformConfigDefaults.platform;
  if (!oneOf(platform, platforms)) {
    throw new PlatformConfigError([`config platform: '${platform}' is not one of ${platforms.join(", ")}`]);
  }
  if (platform !== "azure") return { platform };
  const problems = new Problems();
  const azure = readAzure(get, problems);
  if (problems.list.length > 0) throw new PlatformConfigError(problems.list);
  return { platform, azure };
}
