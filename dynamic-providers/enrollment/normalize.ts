// `check`: validation and normalization of an enrollment, pure. Every failure names the property and the reason, so
// nothing reaches DPS on bad input. Values arrive untyped (a JavaScript program, config read at run time), so every
// field's type is checked here too; the manifest's loader reports structure with the schema first.
import { X509Certificate } from "node:crypto";

import { markerKey } from "./ownership";
import { didYouMean } from "./suggest";
import type { EnrollmentInputs, EnrollmentSpec } from "./types";
import {
  allocationPolicies,
  deviceIdRule,
  registrationIdRule,
  reprovisionPolicies,
  ruleProblem,
  webhookUrlRule,
} from "./vocabulary";

export interface CheckFailure {
  property: string;
  reason: string;
  /** The item of a list property the failure is about. */
  index?: number;
}

export interface CheckOptions {
  /** Host names of the linked hubs, when the program knows them. */
  linkedHubs?: readonly string[];
  adopt?: boolean;
}

/** Registration IDs: up to 128 of a-z 0-9 - . _ : (case-insensitive), ending with a letter, digit or '-'. */
export function registrationIdProblem(id: string): string | undefined {
  return ruleProblem(id, registrationIdRule);
}

const pemPattern = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/;

/** A certificate given as PEM or base64 DER, parsed; undefined when it is not a certificate. */
export function parseCertificateText(text: string): X509Certificate | undefined {
  const pem = pemPattern.exec(text);
  const base64 = (pem ? pem[1] : text).replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  try {
    return new X509Certificate(Buffer.from(base64, "base64"));
  } catch {
    return undefined;
  }
}

export function certificateCommonName(cert: X509Certificate): string | undefined {
  return cert.subject
    .split("\n")
    .find((line) => line.startsWith("CN="))
    ?.slice(3);
}

function isBase64(value: string): boolean {
  return value.length > 0 && value.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(value);
}

function keyProblem(key: string): string | undefined {
  const bytes = isBase64(key) ? Buffer.from(key, "base64").length : 0;
  return bytes >= 16 && bytes <= 64 ? undefined : "must be base64 of 16 to 64 bytes";
}

/** A JSON object (not null, not an array): what manifests, config and inputs nest. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The shared access policy every DPS has, with all rights. */
export const defaultAccessKeyName = "provisioningserviceowner";

export interface ServiceTarget {
  serviceHostName?: string;
  serviceAccessKeyName?: string;
  serviceAccessKey?: string;
}

const hostNamePattern = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** The DPS an enrollment lives in, when the resource names one; failures name the property. */
export function normalizeServiceTarget(target: ServiceTarget): { target: ServiceTarget; failures: CheckFailure[] } {
  const failures: CheckFailure[] = [];
  const { serviceHostName: host, serviceAccessKeyName: keyName, serviceAccessKey: key } = target;
  if (host === undefined) {
    if (keyName !== undefined || key !== undefined) {
      failures.push({ property: "serviceAccessKey", reason: "is only used with serviceHostName" });
    }
    return { target: {}, failures };
  }
  const validHost = typeof host === "string" && hostNamePattern.test(host);
  if (!validHost) {
    failures.push({
      property: "serviceHostName",
      reason: `'${String(host)}' is not a host name (e.g. my-dps.azure-devices-provisioning.net, no scheme or path)`,
    });
  }
  if (key !== undefined && (typeof key !== "string" || keyProblem(key) !== undefined)) {
    failures.push({ property: "serviceAccessKey", reason: "must be base64 of 16 to 64 bytes" });
  }
  if (keyName !== undefined && key === undefined) {
    failures.push({ property: "serviceAccessKey", reason: `is required with serviceAccessKeyName '${keyName}'` });
  }
  if (!validHost) return { target: {}, failures };
  const normalized: ServiceTarget = { serviceHostName: host.toLowerCase() };
  if (key !== undefined) {
    normalized.serviceAccessKeyName = keyName ?? defaultAccessKeyName;
    normalized.serviceAccessKey = key;
  }
  return { target: normalized, failures };
}

/** Which fields each attestation type takes; the others are refused, naming the type they belong to. */
const attestationFields = {
  x509: ["primaryCertificate", "secondaryCertificate"],
  tpm: ["endorsementKey", "storageRootKey"],
  symmetricKey: ["primaryKey", "secondaryKey"],
} as const;
type AttestationField = (typeof attestationFields)[keyof typeof attestationFields][number];

function typeName(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null || value === undefined) return "nothing";
  return typeof value === "object" ? "a mapping" : `${typeof value} ${JSON.stringify(value)}`;
}

/** Validates and normalizes; returns the inputs, or failures naming each bad property. */
export function normalizeEnrollment(
  spec: EnrollmentSpec,
  options: CheckOptions = {},
): { inputs?: EnrollmentInputs; failures: CheckFailure[] } {
  const failures: CheckFailure[] = [];
  const fail = (property: string, reason: string): void => void failures.push({ property, reason });
  const raw = spec as unknown as Record<string, unknown>;
  /** The field when it is absent or of the type; a failure (and undefined) otherwise. */
  function field<T>(name: string, type: "string" | "boolean" | "object", what: string): T | undefined {
    const value = raw[name];
    if (value === undefined) return undefined;
    const ok = type === "object" ? isPlainObject(value) : typeof value === type;
    if (!ok) {
      fail(name, `must be ${what} (got ${typeName(value)})`);
      return undefined;
    }
    return value as T;
  }
  const linkedHubs = [...(options.linkedHubs ?? [])];
  const inputs: Partial<EnrollmentInputs> = {
    iotEdge: field<boolean>("iotEdge", "boolean", "true or false") ?? false,
    iotHubs: [],
    enabled: field<boolean>("enabled", "boolean", "true or false") ?? true,
    adopt: options.adopt ?? false,
  };

  const type = raw.attestationType;
  if (type !== "x509" && type !== "tpm" && type !== "symmetricKey") {
    fail("attestationType", `must be one of x509, tpm, symmetricKey (got ${typeName(type)})`);
  } else {
    inputs.attestationType = type;
    for (const [other, names] of Object.entries(attestationFields)) {
      if (other === type) continue;
      for (const name of names) {
        if (raw[name] !== undefined) fail(name, `is only used with attestationType ${other}`);
      }
    }
    for (const name of attestationFields[type]) field<string>(name, "string", "a string");
  }
  const text = (name: AttestationField): string | undefined => (typeof raw[name] === "string" ? raw[name] : undefined);
  const registrationId = field<string>("registrationId", "string", "a string");

  if (type === "x509") {
    for (const name of ["primaryCertificate", "secondaryCertificate"] as const) {
      const value = text(name);
      if (value === undefined) {
        if (name === "primaryCertificate" && raw[name] === undefined)
          fail(name, "is required with attestationType x509");
        continue;
      }
      const cert = parseCertificateText(value);
      if (!cert) {
        fail(name, "is not an X.509 certificate (PEM or DER expected)");
        continue;
      }
      inputs[name] = cert.raw.toString("base64");
      if (name === "primaryCertificate") {
        const cn = certificateCommonName(cert);
        if (!cn) {
          fail(name, "has no CN, which X.509 registration IDs come from");
        } else if (registrationId === undefined) {
          inputs.registrationId = cn.toLowerCase();
        } else if (registrationId.toLowerCase() !== cn.toLowerCase()) {
          fail("registrationId", `'${registrationId}' must equal the primary certificate's CN '${cn}'`);
        }
      }
    }
  } else if (type === "tpm") {
    const endorsementKey = text("endorsementKey");
    if (endorsementKey === undefined) {
      if (raw.endorsementKey === undefined) fail("endorsementKey", "is required with attestationType tpm");
    } else if (!isBase64(endorsementKey)) {
      fail("endorsementKey", "must be the base64 TPM endorsement key");
    } else {
      inputs.endorsementKey = endorsementKey;
    }
    const storageRootKey = text("storageRootKey");
    if (storageRootKey !== undefined) {
      if (!isBase64(storageRootKey)) fail("storageRootKey", "must be base64");
      else inputs.storageRootKey = storageRootKey;
    }
  } else if (type === "symmetricKey") {
    for (const name of ["primaryKey", "secondaryKey"] as const) {
      const key = text(name);
      if (key === undefined) continue;
      const problem = keyProblem(key);
      if (problem) fail(name, problem);
      else inputs[name] = key;
    }
    if ((raw.primaryKey === undefined) !== (raw.secondaryKey === undefined)) {
      const missing = raw.primaryKey === undefined ? "primaryKey" : "secondaryKey";
      fail(missing, "give both primaryKey and secondaryKey, or neither (DPS then generates both)");
    }
  }

  if (inputs.registrationId === undefined && type !== undefined) {
    if (registrationId === undefined) {
      if (type !== "x509" && raw.registrationId === undefined) {
        fail("registrationId", "is required for tpm and symmetricKey attestation");
      }
    } else {
      inputs.registrationId = registrationId.toLowerCase();
    }
  }
  if (inputs.registrationId !== undefined) {
    const problem = registrationIdProblem(inputs.registrationId);
    if (problem) fail("registrationId", problem);
  }

  const deviceId = field<string>("deviceId", "string", "a string");
  if (deviceId !== undefined) {
    const problem = ruleProblem(deviceId, deviceIdRule);
    if (problem) fail("deviceId", problem);
    else inputs.deviceId = deviceId;
  }

  const reprovision = raw.reprovisionPolicy ?? "reprovisionAndMigrateData";
  if (reprovisionPolicies.includes(reprovision as never)) {
    inputs.reprovisionPolicy = reprovision as EnrollmentInputs["reprovisionPolicy"];
  } else {
    fail("reprovisionPolicy", `must be one of ${reprovisionPolicies.join(", ")} (got ${typeName(reprovision)})`);
  }
  const allocation = raw.allocationPolicy;
  if (allocation !== undefined) {
    if (allocationPolicies.includes(allocation as never)) {
      inputs.allocationPolicy = allocation as EnrollmentInputs["allocationPolicy"];
    } else {
      fail("allocationPolicy", `must be one of ${allocationPolicies.join(", ")} (got ${typeName(allocation)})`);
    }
  }

  const hubs = raw.iotHubs ?? [];
  if (!Array.isArray(hubs) || hubs.some((h) => typeof h !== "string")) {
    fail("iotHubs", "must be a list of IoT hub host names");
  } else {
    const seen = new Set<string>();
    (hubs as string[]).forEach((hub, index) => {
      const linked = linkedHubs.find((l) => l.toLowerCase() === hub.toLowerCase());
      if (linkedHubs.length > 0 && !linked) {
        failures.push({
          property: "iotHubs",
          reason: `'${hub}' is not a hub linked to this DPS (linked: ${linkedHubs.join(", ")})`,
          index,
        });
      }
      const canonical = linked ?? hub.toLowerCase();
      if (seen.has(canonical)) failures.push({ property: "iotHubs", reason: `'${hub}' is listed twice`, index });
      seen.add(canonical);
    });
    inputs.iotHubs = [...seen];
  }
  // As the service: static with no hubs leaves the choice to the DPS's linked hubs.
  if (inputs.allocationPolicy === "static" && (inputs.iotHubs?.length ?? 0) > 1) {
    fail("iotHubs", `allocationPolicy static takes one hub at most (got ${inputs.iotHubs?.length ?? 0})`);
  }

  const custom = field<Record<string, unknown>>("customAllocation", "object", "a mapping");
  if (inputs.allocationPolicy === "custom") {
    const { webhookUrl, apiVersion } = custom ?? {};
    if (typeof webhookUrl !== "string" || typeof apiVersion !== "string" || !webhookUrl || !apiVersion) {
      fail(
        "customAllocation",
        "allocationPolicy custom needs customAllocation.webhookUrl and customAllocation.apiVersion",
      );
    } else if (!webhookUrlRule.pattern.test(webhookUrl)) {
      fail("customAllocation.webhookUrl", `'${webhookUrl}' ${webhookUrlRule.message}`);
    } else {
      inputs.customAllocation = { webhookUrl, apiVersion };
    }
  } else if (raw.customAllocation !== undefined) {
    fail("customAllocation", "is only used with allocationPolicy custom");
  }

  const twin = field<Record<string, unknown>>("initialTwin", "object", "a mapping");
  if (twin !== undefined) {
    const unknownKeys = (where: string, value: unknown, known: readonly string[]): void => {
      if (!isPlainObject(value)) return;
      for (const key of Object.keys(value).filter((k) => !known.includes(k))) {
        fail(`${where}.${key}`, `unknown field${didYouMean(key, known)}`);
      }
    };
    unknownKeys("initialTwin", twin, ["tags", "properties"]);
    unknownKeys("initialTwin.properties", twin.properties, ["desired"]);
    const tags = twin.tags ?? {};
    const properties = twin.properties ?? {};
    const desired = isPlainObject(properties) ? (properties.desired ?? {}) : undefined;
    if (!isPlainObject(tags)) fail("initialTwin.tags", `must be a mapping (got ${typeName(tags)})`);
    if (!isPlainObject(properties)) fail("initialTwin.properties", `must be a mapping (got ${typeName(properties)})`);
    else if (!isPlainObject(desired))
      fail("initialTwin.properties.desired", `must be a mapping (got ${typeName(desired)})`);
    if (isPlainObject(tags) && isPlainObject(desired)) inputs.initialTwin = { tags, properties: { desired } };
  }
  const info = field<Record<string, unknown>>("optionalDeviceInformation", "object", "a mapping");
  if (info !== undefined && markerKey in info) {
    fail(`optionalDeviceInformation.${markerKey}`, "is reserved for the provider's ownership marker");
  } else if (info !== undefined && Object.keys(info).length > 0) {
    // An empty mapping is no information: DPS holds only the marker then, which refresh reads as none.
    inputs.optionalDeviceInformation = info;
  }

  return failures.length > 0 ? { failures } : { inputs: inputs as EnrollmentInputs, failures };
}
