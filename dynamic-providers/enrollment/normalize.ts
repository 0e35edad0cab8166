// `check`: validation and normalization of an enrollment, pure. Every failure names the property and the reason, so
// nothing reaches DPS on bad input. Values arrive untyped (a JavaScript program, config read at run time), so every
// field's type is checked here too; the manifest's loader reports structure with the schema first.
import { X509Certificate } from "node:crypto";

import { markerKey } from "./ownership";
import { didYouMean } from "./suggest";
import type { AttestationType, EnrollmentInputs, EnrollmentSpec, GroupInputs, GroupSpec } from "./types";
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
  /** Names of the CA certificates the DPS holds, when the program knows them (groups' caReferences). */
  caReferences?: readonly string[];
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

/** A group's X.509 fields: signing certificates, or references to CA certificates the DPS holds. */
const groupX509Fields = ["primaryCertificate", "secondaryCertificate", "primaryCaReference", "secondaryCaReference"];

function typeName(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null || value === undefined) return "nothing";
  return typeof value === "object" ? "a mapping" : `${typeof value} ${JSON.stringify(value)}`;
}

/** The failures of one `check`, and the typed reading of its untyped fields. */
class Checker {
  readonly failures: CheckFailure[] = [];

  constructor(readonly raw: Record<string, unknown>) {}

  fail(property: string, reason: string, index?: number): void {
    this.failures.push(index === undefined ? { property, reason } : { property, reason, index });
  }

  /** The field when it is absent or of the type; a failure (and undefined) otherwise. */
  field<T>(name: string, type: "string" | "boolean" | "object", what: string): T | undefined {
    const value = this.raw[name];
    if (value === undefined) return undefined;
    const ok = type === "object" ? isPlainObject(value) : typeof value === type;
    if (!ok) {
      this.fail(name, `must be ${what} (got ${typeName(value)})`);
      return undefined;
    }
    return value as T;
  }

  text(name: string): string | undefined {
    const value = this.raw[name];
    return typeof value === "string" ? value : undefined;
  }

  /** The attestation type when it is one of `allowed`; fields of the other types are refused by name. */
  attestationType<T extends AttestationType>(allowed: readonly T[], refused: Partial<Record<AttestationType, string>>) {
    const type = this.raw.attestationType;
    if (typeof type === "string" && refused[type as AttestationType] !== undefined) {
      this.fail("attestationType", refused[type as AttestationType] as string);
      return undefined;
    }
    if (!allowed.includes(type as T)) {
      this.fail("attestationType", `must be one of ${allowed.join(", ")} (got ${typeName(type)})`);
      return undefined;
    }
    for (const [other, names] of Object.entries(attestationFields)) {
      if (other === type) continue;
      for (const name of names) {
        if (this.raw[name] !== undefined) this.fail(name, `is only used with attestationType ${other}`);
      }
    }
    for (const name of attestationFields[type as T]) this.field<string>(name, "string", "a string");
    return type as T;
  }

  /** Both symmetric keys or neither. */
  symmetricKeys(inputs: { primaryKey?: string; secondaryKey?: string }): void {
    for (const name of ["primaryKey", "secondaryKey"] as const) {
      const key = this.text(name);
      if (key === undefined) continue;
      const problem = keyProblem(key);
      if (problem) this.fail(name, problem);
      else inputs[name] = key;
    }
    if ((this.raw.primaryKey === undefined) !== (this.raw.secondaryKey === undefined)) {
      const missing = this.raw.primaryKey === undefined ? "primaryKey" : "secondaryKey";
      this.fail(missing, "give both primaryKey and secondaryKey, or neither (DPS then generates both)");
    }
  }

  /** Certificate text as base64 DER, parsed; failures name the property. */
  certificate(name: AttestationField): X509Certificate | undefined {
    const value = this.text(name);
    if (value === undefined) return undefined;
    const cert = parseCertificateText(value);
    if (!cert) this.fail(name, "is not an X.509 certificate (PEM or DER expected)");
    return cert;
  }

  /** The switches both kinds share. */
  flags(inputs: Partial<EnrollmentInputs | GroupInputs>, options: CheckOptions): void {
    inputs.iotEdge = this.field<boolean>("iotEdge", "boolean", "true or false") ?? false;
    inputs.iotHubs = [];
    inputs.enabled = this.field<boolean>("enabled", "boolean", "true or false") ?? true;
    inputs.adopt = options.adopt ?? false;
  }

  /** How DPS assigns the device and what it starts with: the fields both kinds share. */
  assignment(inputs: Partial<EnrollmentInputs | GroupInputs>, options: CheckOptions): void {
    const raw = this.raw;
    const reprovision = raw.reprovisionPolicy ?? "reprovisionAndMigrateData";
    if (reprovisionPolicies.includes(reprovision as never)) {
      inputs.reprovisionPolicy = reprovision as EnrollmentInputs["reprovisionPolicy"];
    } else {
      this.fail("reprovisionPolicy", `must be one of ${reprovisionPolicies.join(", ")} (got ${typeName(reprovision)})`);
    }
    const allocation = raw.allocationPolicy;
    if (allocation !== undefined) {
      if (allocationPolicies.includes(allocation as never)) {
        inputs.allocationPolicy = allocation as EnrollmentInputs["allocationPolicy"];
      } else {
        this.fail("allocationPolicy", `must be one of ${allocationPolicies.join(", ")} (got ${typeName(allocation)})`);
      }
    }

    const linkedHubs = [...(options.linkedHubs ?? [])];
    const hubs = raw.iotHubs ?? [];
    if (!Array.isArray(hubs) || hubs.some((h) => typeof h !== "string")) {
      this.fail("iotHubs", "must be a list of IoT hub host names");
    } else {
      const seen = new Set<string>();
      (hubs as string[]).forEach((hub, index) => {
        const linked = linkedHubs.find((l) => l.toLowerCase() === hub.toLowerCase());
        if (linkedHubs.length > 0 && !linked) {
          this.fail("iotHubs", `'${hub}' is not a hub linked to this DPS (linked: ${linkedHubs.join(", ")})`, index);
        }
        const canonical = linked ?? hub.toLowerCase();
        if (seen.has(canonical)) this.fail("iotHubs", `'${hub}' is listed twice`, index);
        seen.add(canonical);
      });
      inputs.iotHubs = [...seen];
    }
    // As the service: static with no hubs leaves the choice to the DPS's linked hubs.
    if (inputs.allocationPolicy === "static" && (inputs.iotHubs?.length ?? 0) > 1) {
      this.fail("iotHubs", `allocationPolicy static takes one hub at most (got ${inputs.iotHubs?.length ?? 0})`);
    }

    const custom = this.field<Record<string, unknown>>("customAllocation", "object", "a mapping");
    if (inputs.allocationPolicy === "custom") {
      const { webhookUrl, apiVersion } = custom ?? {};
      if (typeof webhookUrl !== "string" || typeof apiVersion !== "string" || !webhookUrl || !apiVersion) {
        this.fail(
          "customAllocation",
          "allocationPolicy custom needs customAllocation.webhookUrl and customAllocation.apiVersion",
        );
      } else if (!webhookUrlRule.pattern.test(webhookUrl)) {
        this.fail("customAllocation.webhookUrl", `'${webhookUrl}' ${webhookUrlRule.message}`);
      } else {
        inputs.customAllocation = { webhookUrl, apiVersion };
      }
    } else if (raw.customAllocation !== undefined) {
      this.fail("customAllocation", "is only used with allocationPolicy custom");
    }

    const twin = this.field<Record<string, unknown>>("initialTwin", "object", "a mapping");
    if (twin !== undefined) {
      const unknownKeys = (where: string, value: unknown, known: readonly string[]): void => {
        if (!isPlainObject(value)) return;
        for (const key of Object.keys(value).filter((k) => !known.includes(k))) {
          this.fail(`${where}.${key}`, `unknown field${didYouMean(key, known)}`);
        }
      };
      unknownKeys("initialTwin", twin, ["tags", "properties"]);
      unknownKeys("initialTwin.properties", twin.properties, ["desired"]);
      const tags = twin.tags ?? {};
      const properties = twin.properties ?? {};
      const desired = isPlainObject(properties) ? (properties.desired ?? {}) : undefined;
      if (!isPlainObject(tags)) this.fail("initialTwin.tags", `must be a mapping (got ${typeName(tags)})`);
      if (!isPlainObject(properties)) {
        this.fail("initialTwin.properties", `must be a mapping (got ${typeName(properties)})`);
      } else if (!isPlainObject(desired)) {
        this.fail("initialTwin.properties.desired", `must be a mapping (got ${typeName(desired)})`);
      }
      if (isPlainObject(tags) && isPlainObject(desired)) inputs.initialTwin = { tags, properties: { desired } };
    }
  }
}

/** Validates and normalizes; returns the inputs, or failures naming each bad property. */
export function normalizeEnrollment(
  spec: EnrollmentSpec,
  options: CheckOptions = {},
): { inputs?: EnrollmentInputs; failures: CheckFailure[] } {
  const check = new Checker(spec as unknown as Record<string, unknown>);
  const raw = check.raw;
  const inputs: Partial<EnrollmentInputs> = {};
  check.flags(inputs, options);

  const type = check.attestationType(["x509", "tpm", "symmetricKey"], {});
  if (type !== undefined) inputs.attestationType = type;
  const registrationId = check.field<string>("registrationId", "string", "a string");

  if (type === "x509") {
    for (const name of ["primaryCertificate", "secondaryCertificate"] as const) {
      if (name === "primaryCertificate" && raw[name] === undefined) {
        check.fail(name, "is required with attestationType x509");
      }
      const cert = check.certificate(name);
      if (!cert) continue;
      inputs[name] = cert.raw.toString("base64");
      if (name === "primaryCertificate") {
        const cn = certificateCommonName(cert);
        if (!cn) {
          check.fail(name, "has no CN, which X.509 registration IDs come from");
        } else if (registrationId === undefined) {
          inputs.registrationId = cn.toLowerCase();
        } else if (registrationId.toLowerCase() !== cn.toLowerCase()) {
          check.fail("registrationId", `'${registrationId}' must equal the primary certificate's CN '${cn}'`);
        }
      }
    }
  } else if (type === "tpm") {
    const endorsementKey = check.text("endorsementKey");
    if (endorsementKey === undefined) {
      if (raw.endorsementKey === undefined) check.fail("endorsementKey", "is required with attestationType tpm");
    } else if (!isBase64(endorsementKey)) {
      check.fail("endorsementKey", "must be the base64 TPM endorsement key");
    } else {
      inputs.endorsementKey = endorsementKey;
    }
    const storageRootKey = check.text("storageRootKey");
    if (storageRootKey !== undefined) {
      if (!isBase64(storageRootKey)) check.fail("storageRootKey", "must be base64");
      else inputs.storageRootKey = storageRootKey;
    }
  } else if (type === "symmetricKey") {
    check.symmetricKeys(inputs);
  }

  if (inputs.registrationId === undefined && type !== undefined) {
    if (registrationId === undefined) {
      if (type !== "x509" && raw.registrationId === undefined) {
        check.fail("registrationId", "is required for tpm and symmetricKey attestation");
      }
    } else {
      inputs.registrationId = registrationId.toLowerCase();
    }
  }
  if (inputs.registrationId !== undefined) {
    const problem = registrationIdProblem(inputs.registrationId);
    if (problem) check.fail("registrationId", problem);
  }

  const deviceId = check.field<string>("deviceId", "string", "a string");
  if (deviceId !== undefined) {
    const problem = ruleProblem(deviceId, deviceIdRule);
    if (problem) check.fail("deviceId", problem);
    else inputs.deviceId = deviceId;
  }
  check.assignment(inputs, options);
  const info = check.field<Record<string, unknown>>("optionalDeviceInformation", "object", "a mapping");
  if (info !== undefined && markerKey in info) {
    check.fail(`optionalDeviceInformation.${markerKey}`, "is reserved for the provider's ownership marker");
  } else if (info !== undefined && Object.keys(info).length > 0) {
    // An empty mapping is no information: DPS holds only the marker then, which refresh reads as none.
    inputs.optionalDeviceInformation = info;
  }

  const { failures } = check;
  return failures.length > 0 ? { failures } : { inputs: inputs as EnrollmentInputs, failures };
}

/** Why DPS has no TPM groups, as `check` and the manifest say it. */
export const tpmGroupReason =
  "tpm is not an attestation of enrollment groups: DPS has no TPM groups (each TPM's endorsement key is its own); " +
  "give each TPM device an individual enrollment";

/** Validates and normalizes an enrollment group; returns the inputs, or failures naming each bad property. */
export function normalizeGroup(
  spec: GroupSpec,
  options: CheckOptions = {},
): { inputs?: GroupInputs; failures: CheckFailure[] } {
  const check = new Checker(spec as unknown as Record<string, unknown>);
  const raw = check.raw;
  const inputs: Partial<GroupInputs> = {};
  check.flags(inputs, options);
  // Fields of individual enrollments only: a group's devices are named by their certificates or registrations.
  for (const name of ["registrationId", "deviceId", "optionalDeviceInformation"]) {
    if (raw[name] !== undefined) {
      check.fail(name, "is a field of individual enrollments, not of enrollment groups");
    }
  }

  const id = check.field<string>("enrollmentGroupId", "string", "a string");
  if (id === undefined) {
    if (raw.enrollmentGroupId === undefined) check.fail("enrollmentGroupId", "is required");
  } else {
    const problem = registrationIdProblem(id);
    if (problem) check.fail("enrollmentGroupId", problem);
    else inputs.enrollmentGroupId = id.toLowerCase();
  }

  const type = check.attestationType(["x509", "symmetricKey"], { tpm: tpmGroupReason });
  if (type !== undefined) inputs.attestationType = type;
  if (type !== "x509") {
    for (const name of ["primaryCaReference", "secondaryCaReference"]) {
      if (raw[name] !== undefined) check.fail(name, "is only used with attestationType x509");
    }
  }
  if (type === "x509") {
    for (const name of ["primaryCaReference", "secondaryCaReference"]) check.field(name, "string", "a string");
    const byCertificate = raw.primaryCertificate !== undefined || raw.secondaryCertificate !== undefined;
    const byReference = raw.primaryCaReference !== undefined || raw.secondaryCaReference !== undefined;
    if (byCertificate && byReference) {
      check.fail(
        raw.primaryCaReference !== undefined ? "primaryCaReference" : "secondaryCaReference",
        "give signing certificates or CA references, not both",
      );
    } else if (byReference) {
      normalizeCaReferences(check, inputs, options.caReferences);
    } else {
      if (raw.primaryCertificate === undefined) {
        check.fail(
          "primaryCertificate",
          "is required with attestationType x509 (or primaryCaReference, a CA certificate the DPS holds)",
        );
      }
      for (const name of ["primaryCertificate", "secondaryCertificate"] as const) {
        const cert = check.certificate(name);
        if (!cert) continue;
        if (!cert.ca) {
          const cn = certificateCommonName(cert);
          check.fail(
            name,
            `is not a CA certificate (${cn ? `'${cn}' ` : ""}has no basic constraint CA:TRUE): a group's signing ` +
              "certificate is the root or intermediate CA that signed its devices' certificates",
          );
          continue;
        }
        inputs[name] = cert.raw.toString("base64");
      }
    }
    for (const name of groupX509Fields) {
      if (raw[name] === "") check.fail(name, "must not be empty");
    }
  } else if (type === "symmetricKey") {
    check.symmetricKeys(inputs);
  }
  check.assignment(inputs, options);

  const { failures } = check;
  return failures.length > 0 ? { failures } : { inputs: inputs as GroupInputs, failures };
}

/** CA references: names of certificates the DPS holds, checked against them when the program knows the list. */
function normalizeCaReferences(check: Checker, inputs: Partial<GroupInputs>, known: readonly string[] | undefined) {
  if (check.raw.primaryCaReference === undefined) {
    check.fail("primaryCaReference", "is required with secondaryCaReference");
  }
  for (const name of ["primaryCaReference", "secondaryCaReference"] as const) {
    const value = check.text(name);
    if (value === undefined || value.length === 0) continue;
    if (known !== undefined && !known.includes(value)) {
      check.fail(
        name,
        `'${value}' is not a CA certificate of this stack's DPS (${known.length > 0 ? `its certificates: ${known.join(", ")}` : "it holds none: add one to config caCertificates"})`,
      );
      continue;
    }
    inputs[name] = value;
  }
}
