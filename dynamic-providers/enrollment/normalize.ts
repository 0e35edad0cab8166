// `check`: validation and normalization of an enrollment, pure. Every failure names the property and the reason, so
// nothing reaches DPS on bad input.
import { X509Certificate } from "node:crypto";

import type { AllocationPolicy, AttestationArgs, EnrollmentInputs, EnrollmentSpec, ReprovisionPolicy } from "./types";

export interface CheckFailure {
  property: string;
  reason: string;
}

export interface CheckOptions {
  /** Host names of the linked hubs, when the program knows them. */
  linkedHubs?: readonly string[];
  adopt?: boolean;
}

const allocationPolicies: readonly AllocationPolicy[] = ["hashed", "geoLatency", "static", "custom"];
const reprovisionPolicies: readonly ReprovisionPolicy[] = [
  "reprovisionAndMigrateData",
  "reprovisionAndResetData",
  "never",
];

/** Registration IDs: up to 128 of a-z 0-9 - . _ : (case-insensitive), ending with a letter, digit or '-'. */
export function registrationIdProblem(id: string): string | undefined {
  if (id.length === 0) return "must not be empty";
  if (id.length > 128) return `'${id}' is longer than 128 characters`;
  if (!/^[a-z0-9\-._:]*[a-z0-9-]$/i.test(id)) {
    return `'${id}' may only hold letters, digits and - . _ : and must end with a letter, digit or -`;
  }
  return undefined;
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
  if (typeof host !== "string" || !hostNamePattern.test(host)) {
    failures.push({
      property: "serviceHostName",
      reason: `'${String(host)}' is not a host name (e.g. my-dps.azure-devices-provisioning.net, no scheme or path)`,
    });
  }
  if (key !== undefined && keyProblem(key) !== undefined) {
    failures.push({ property: "serviceAccessKey", reason: "must be base64 of 16 to 64 bytes" });
  }
  if (keyName !== undefined && key === undefined) {
    failures.push({ property: "serviceAccessKey", reason: `is required with serviceAccessKeyName '${keyName}'` });
  }
  const normalized: ServiceTarget = { serviceHostName: host.toLowerCase() };
  if (key !== undefined) {
    normalized.serviceAccessKeyName = keyName ?? defaultAccessKeyName;
    normalized.serviceAccessKey = key;
  }
  return { target: normalized, failures };
}

/** Validates and normalizes; returns the inputs, or failures naming each bad property. */
export function normalizeEnrollment(
  spec: EnrollmentSpec,
  options: CheckOptions = {},
): { inputs?: EnrollmentInputs; failures: CheckFailure[] } {
  const failures: CheckFailure[] = [];
  const fail = (property: string, reason: string): void => void failures.push({ property, reason });
  const linkedHubs = [...(options.linkedHubs ?? [])];

  const inputs: Partial<EnrollmentInputs> = {
    iotEdge: spec.iotEdge ?? false,
    iotHubs: [],
    reprovisionPolicy: spec.reprovisionPolicy ?? "reprovisionAndMigrateData",
    enabled: spec.enabled ?? true,
    adopt: options.adopt ?? false,
  };

  const attestation = spec.attestation as AttestationArgs | undefined;
  const kinds = attestation && isPlainObject(attestation) ? Object.keys(attestation) : [];
  if (kinds.length !== 1 || !["x509", "tpm", "symmetricKey"].includes(kinds[0])) {
    fail("attestation", "give exactly one of x509, tpm or symmetricKey");
  } else if ("x509" in attestation!) {
    inputs.attestationType = "x509";
    const certs: [string, string | undefined][] = [
      ["primaryCertificate", attestation.x509.primaryCertificate],
      ["secondaryCertificate", attestation.x509.secondaryCertificate],
    ];
    for (const [name, text] of certs) {
      if (text === undefined) {
        if (name === "primaryCertificate") fail("attestation.x509.primaryCertificate", "is required");
        continue;
      }
      const cert = typeof text === "string" ? parseCertificateText(text) : undefined;
      if (!cert) {
        fail(`attestation.x509.${name}`, "is not an X.509 certificate (PEM or DER expected)");
        continue;
      }
      inputs[name as "primaryCertificate" | "secondaryCertificate"] = cert.raw.toString("base64");
      if (name === "primaryCertificate") {
        const cn = certificateCommonName(cert);
        if (!cn) {
          fail("attestation.x509.primaryCertificate", "has no CN, which X.509 registration IDs come from");
        } else if (spec.registrationId === undefined) {
          inputs.registrationId = cn.toLowerCase();
        } else if (spec.registrationId.toLowerCase() !== cn.toLowerCase()) {
          fail("registrationId", `'${spec.registrationId}' must equal the primary certificate's CN '${cn}'`);
        }
      }
    }
  } else if ("tpm" in attestation!) {
    inputs.attestationType = "tpm";
    const { endorsementKey, storageRootKey } = attestation.tpm;
    if (typeof endorsementKey !== "string" || !isBase64(endorsementKey)) {
      fail("attestation.tpm.endorsementKey", "must be the base64 TPM endorsement key");
    } else {
      inputs.endorsementKey = endorsementKey;
    }
    if (storageRootKey !== undefined) {
      if (typeof storageRootKey !== "string" || !isBase64(storageRootKey)) {
        fail("attestation.tpm.storageRootKey", "must be base64");
      } else {
        inputs.storageRootKey = storageRootKey;
      }
    }
  } else {
    inputs.attestationType = "symmetricKey";
    const keys = attestation!.symmetricKey ?? {};
    for (const name of ["primaryKey", "secondaryKey"] as const) {
      const key = keys[name];
      if (key === undefined) continue;
      const problem = typeof key === "string" ? keyProblem(key) : "must be a string";
      if (problem) fail(`attestation.symmetricKey.${name}`, problem);
      else inputs[name] = key;
    }
    if ((keys.primaryKey === undefined) !== (keys.secondaryKey === undefined)) {
      fail("attestation.symmetricKey", "give both primaryKey and secondaryKey, or neither (DPS then generates both)");
    }
  }

  if (inputs.registrationId === undefined) {
    if (spec.registrationId === undefined) {
      if (inputs.attestationType !== "x509") fail("registrationId", "is required for tpm and symmetricKey attestation");
    } else {
      inputs.registrationId = spec.registrationId.toLowerCase();
    }
  }
  if (inputs.registrationId !== undefined) {
    const problem = registrationIdProblem(inputs.registrationId);
    if (problem) fail("registrationId", problem);
  }

  if (spec.deviceId !== undefined) {
    if (!/^[A-Za-z0-9\-.%_*?!(),:=@$'+]{1,128}$/.test(spec.deviceId)) {
      fail("deviceId", `'${spec.deviceId}' must be 1 to 128 letters, digits or - . % _ * ? ! ( ) , : = @ $ ' +`);
    } else {
      inputs.deviceId = spec.deviceId;
    }
  }
  if (typeof inputs.iotEdge !== "boolean") fail("iotEdge", "must be true or false");
  if (typeof inputs.enabled !== "boolean") fail("enabled", "must be true or false");
  if (!reprovisionPolicies.includes(inputs.reprovisionPolicy as ReprovisionPolicy)) {
    fail("reprovisionPolicy", `must be one of ${reprovisionPolicies.join(", ")}`);
  }

  if (spec.allocationPolicy !== undefined) {
    if (!allocationPolicies.includes(spec.allocationPolicy)) {
      fail("allocationPolicy", `must be one of ${allocationPolicies.join(", ")}`);
    } else {
      inputs.allocationPolicy = spec.allocationPolicy;
    }
  }
  const hubs = spec.iotHubs ?? [];
  if (!Array.isArray(hubs) || hubs.some((h) => typeof h !== "string")) {
    fail("iotHubs", "must be a list of IoT hub host names");
  } else {
    const seen = new Set<string>();
    for (const hub of hubs) {
      const canonical = linkedHubs.find((l) => l.toLowerCase() === hub.toLowerCase()) ?? hub.toLowerCase();
      if (linkedHubs.length > 0 && !linkedHubs.some((l) => l.toLowerCase() === hub.toLowerCase())) {
        fail("iotHubs", `'${hub}' is not a hub linked to this DPS (linked: ${linkedHubs.join(", ")})`);
      }
      if (seen.has(canonical)) fail("iotHubs", `'${hub}' is listed twice`);
      seen.add(canonical);
    }
    inputs.iotHubs = [...seen];
  }
  // As the service: static with no hubs leaves the choice to the DPS's linked hubs.
  if (inputs.allocationPolicy === "static" && (inputs.iotHubs?.length ?? 0) > 1) {
    fail("iotHubs", `allocationPolicy static takes one hub at most (got ${inputs.iotHubs?.length ?? 0})`);
  }
  if (inputs.allocationPolicy === "custom") {
    const custom = spec.customAllocation;
    if (!custom?.webhookUrl || !custom.apiVersion) {
      fail(
        "customAllocation",
        "allocationPolicy custom needs customAllocation.webhookUrl and customAllocation.apiVersion",
      );
    } else if (!/^https?:\/\/[^\s]+$/.test(custom.webhookUrl)) {
      fail("customAllocation.webhookUrl", `'${custom.webhookUrl}' is not an http(s) URL`);
    } else {
      inputs.customAllocation = { webhookUrl: custom.webhookUrl, apiVersion: custom.apiVersion };
    }
  } else if (spec.customAllocation !== undefined) {
    fail("customAllocation", "is only used with allocationPolicy custom");
  }

  if (spec.initialTwin !== undefined) {
    const twin = spec.initialTwin;
    const tags = twin.tags ?? {};
    const desired = twin.properties?.desired ?? {};
    if (!isPlainObject(tags)) fail("initialTwin.tags", "must be an object");
    if (!isPlainObject(desired)) fail("initialTwin.properties.desired", "must be an object");
    inputs.initialTwin = { tags, properties: { desired } };
  }
  if (spec.optionalDeviceInformation !== undefined) {
    if (!isPlainObject(spec.optionalDeviceInformation)) fail("optionalDeviceInformation", "must be an object");
    else inputs.optionalDeviceInformation = spec.optionalDeviceInformation;
  }

  return failures.length > 0 ? { failures } : { inputs: inputs as EnrollmentInputs, failures };
}
