// Validation and normalization of enrollment and enrollment-group documents (pure: no I/O). A PUT body becomes the
// stored document here, or a DpsError names the field and the reason; responses are shaped by `present`.
import { randomBytes, randomUUID } from "node:crypto";

import { certificateInfo, parseCertificate } from "../certificates";
import { DpsError, formatTimestamp } from "../errors";
import type {
  AllocationPolicy,
  AttestationMechanism,
  EnrollmentCommon,
  EnrollmentGroup,
  EnrollmentKind,
  IndividualEnrollment,
  InitialTwin,
  TwinCollection,
  X509Attestation,
  X509CertificateWithInfo,
  X509Certificates,
} from "./types";

export type StoredDocument = IndividualEnrollment | EnrollmentGroup;

export interface NormalizeContext {
  kind: EnrollmentKind;
  /** The id from the request path. */
  pathId: string;
  /** Host names of the linked IoT hubs. */
  linkedHubs: readonly string[];
  existing?: StoredDocument;
  now: Date;
}

const idField = { enrollment: "registrationId", group: "enrollmentGroupId" } as const;
const allocationPolicies: readonly AllocationPolicy[] = ["hashed", "geoLatency", "static", "custom"];

/** Registration and group IDs: up to 128 of a-z 0-9 - . _ : (case-insensitive), ending alphanumeric or '-'. */
export function validateId(field: string, id: unknown): string {
  if (typeof id !== "string" || id.length === 0) {
    throw new DpsError("InvalidRegistrationId", `${field} is required`);
  }
  if (id.length > 128) {
    throw new DpsError("InvalidRegistrationId", `${field} '${id}' is longer than 128 characters`);
  }
  if (!/^[a-z0-9\-._:]*[a-z0-9-]$/i.test(id)) {
    throw new DpsError(
      "InvalidRegistrationId",
      `${field} '${id}' is invalid: use letters, digits and - . _ : only, ending with a letter, digit or -`,
    );
  }
  return id.toLowerCase();
}

/** IoT Hub device IDs: up to 128 ASCII letters, digits and - . % _ * ? ! ( ) , : = @ $ ' +. */
function validateDeviceId(id: unknown): string {
  if (typeof id !== "string" || !/^[A-Za-z0-9\-.%_*?!(),:=@$'+]{1,128}$/.test(id)) {
    throw new DpsError(
      "ArgumentInvalid",
      `deviceId ${JSON.stringify(id)} is invalid: up to 128 letters, digits and - . % _ * ? ! ( ) , : = @ $ ' +`,
    );
  }
  return id;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalObject(field: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (!isObject(value)) {
    throw new DpsError("ArgumentInvalid", `${field} must be an object`);
  }
  return value;
}

function optionalString(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== "string") {
    throw new DpsError("ArgumentInvalid", `${field} must be a string`);
  }
  return value;
}

function requireBoolean(field: string, value: unknown): boolean {
  if (typeof value !== "boolean") {
    throw new DpsError("ArgumentInvalid", `${field} must be true or false`);
  }
  return value;
}

function isBase64(value: string): boolean {
  return value.length > 0 && value.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(value);
}

/** Symmetric keys: base64 of 16 to 64 bytes. */
function validateSymmetricKey(field: string, value: unknown): string | undefined {
  const key = optionalString(field, value);
  if (key === undefined || key === "") {
    return undefined;
  }
  const bytes = isBase64(key) ? Buffer.from(key, "base64").length : 0;
  if (bytes < 16 || bytes > 64) {
    throw new DpsError("ArgumentInvalid", `${field} must be base64 of 16 to 64 bytes`);
  }
  return key;
}

/** Keys the service generates when none is given: 64 random bytes, base64. */
export function generateSymmetricKey(): string {
  return randomBytes(64).toString("base64");
}

/** Cosmos-style etag: a JSON string that itself contains quotes. */
export function newEtag(): string {
  return `"${randomUUID()}"`;
}

/** Compares etags ignoring one layer of surrounding quotes on either side. */
export function etagMatches(ifMatch: string, etag: string): boolean {
  const strip = (v: string): string => (v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v);
  return ifMatch.trim() === "*" || strip(ifMatch.trim()) === strip(etag);
}

function normalizeCertificateEntry(
  field: string,
  value: unknown,
  existing: X509CertificateWithInfo | undefined,
): X509CertificateWithInfo | undefined {
  const entry = optionalObject(field, value);
  if (!entry) {
    return undefined;
  }
  const text = optionalString(`${field}.certificate`, entry.certificate);
  if (text === undefined) {
    // A document read back (info only) and PUT again keeps the certificate it names.
    const info = optionalObject(`${field}.info`, entry.info);
    const sha1 = info && typeof info.sha1Thumbprint === "string" ? info.sha1Thumbprint.toUpperCase() : undefined;
    if (existing?.info && sha1 === existing.info.sha1Thumbprint) {
      return existing;
    }
    throw new DpsError("InvalidCertificate", `${field}.certificate is required`);
  }
  const cert = parseCertificate(text);
  if (!cert) {
    throw new DpsError("InvalidCertificate", `${field}.certificate is not an X.509 certificate (PEM or base64 DER)`);
  }
  return { certificate: cert.raw.toString("base64"), info: certificateInfo(cert) };
}

function normalizeCertificates(
  field: string,
  value: unknown,
  existing: X509Certificates | undefined,
): X509Certificates | undefined {
  const certs = optionalObject(field, value);
  if (!certs) {
    return undefined;
  }
  const primary = normalizeCertificateEntry(`${field}.primary`, certs.primary, existing?.primary);
  const secondary = normalizeCertificateEntry(`${field}.secondary`, certs.secondary, existing?.secondary);
  if (!primary) {
    throw new DpsError("InvalidCertificate", `${field}.primary is required`);
  }
  return secondary ? { primary, secondary } : { primary };
}

function normalizeX509(kind: EnrollmentKind, value: unknown, existing: X509Attestation | undefined): X509Attestation {
  const x509 = optionalObject("attestation.x509", value);
  if (!x509) {
    throw new DpsError("ArgumentInvalid", "attestation.x509 is required for attestation type x509");
  }
  if (kind === "enrollment") {
    if (x509.signingCertificates !== undefined || x509.caReferences !== undefined) {
      throw new DpsError(
        "ArgumentInvalid",
        "attestation.x509: individual enrollments take clientCertificates, not signingCertificates or caReferences",
      );
    }
    const clientCertificates = normalizeCertificates(
      "attestation.x509.clientCertificates",
      x509.clientCertificates,
      existing?.clientCertificates,
    );
    if (!clientCertificates) {
      throw new DpsError("InvalidCertificate", "attestation.x509.clientCertificates is required");
    }
    return { clientCertificates };
  }
  if (x509.clientCertificates !== undefined) {
    throw new DpsError(
      "ArgumentInvalid",
      "attestation.x509: enrollment groups take signingCertificates or caReferences",
    );
  }
  const signingCertificates = normalizeCertificates(
    "attestation.x509.signingCertificates",
    x509.signingCertificates,
    existing?.signingCertificates,
  );
  const refs = optionalObject("attestation.x509.caReferences", x509.caReferences);
  if (signingCertificates && refs) {
    throw new DpsError("ArgumentInvalid", "attestation.x509: give signingCertificates or caReferences, not both");
  }
  if (signingCertificates) {
    return { signingCertificates };
  }
  const primary = optionalString("attestation.x509.caReferences.primary", refs?.primary);
  const secondary = optionalString("attestation.x509.caReferences.secondary", refs?.secondary);
  if (!primary) {
    throw new DpsError(
      "InvalidCertificate",
      "attestation.x509 needs signingCertificates.primary or caReferences.primary",
    );
  }
  return { caReferences: secondary ? { primary, secondary } : { primary } };
}

function normalizeAttestation(
  kind: EnrollmentKind,
  value: unknown,
  existing: AttestationMechanism | undefined,
): AttestationMechanism {
  const attestation = optionalObject("attestation", value);
  if (!attestation) {
    throw new DpsError("ArgumentInvalid", "attestation is required");
  }
  const type = attestation.type;
  if (type !== "tpm" && type !== "x509" && type !== "symmetricKey") {
    throw new DpsError(
      "ArgumentInvalid",
      `attestation.type ${JSON.stringify(type)} is not supported: use tpm, x509 or symmetricKey`,
    );
  }
  if (existing && existing.type !== type) {
    throw new DpsError(
      "AttestationTypeChange",
      `attestation.type cannot change from ${existing.type} to ${type}; delete and re-create the enrollment`,
    );
  }
  switch (type) {
    case "tpm": {
      if (kind === "group") {
        throw new DpsError("ArgumentInvalid", "attestation.type tpm is not supported for enrollment groups");
      }
      const tpm = optionalObject("attestation.tpm", attestation.tpm);
      const endorsementKey = optionalString("attestation.tpm.endorsementKey", tpm?.endorsementKey);
      if (!endorsementKey || !isBase64(endorsementKey)) {
        throw new DpsError("ArgumentInvalid", "attestation.tpm.endorsementKey must be a base64 TPM endorsement key");
      }
      const storageRootKey = optionalString("attestation.tpm.storageRootKey", tpm?.storageRootKey);
      if (storageRootKey !== undefined && !isBase64(storageRootKey)) {
        throw new DpsError("ArgumentInvalid", "attestation.tpm.storageRootKey must be base64");
      }
      return { type, tpm: storageRootKey ? { endorsementKey, storageRootKey } : { endorsementKey } };
    }
    case "x509":
      return { type, x509: normalizeX509(kind, attestation.x509, existing?.x509) };
    case "symmetricKey": {
      const given = optionalObject("attestation.symmetricKey", attestation.symmetricKey);
      const primaryKey = validateSymmetricKey("attestation.symmetricKey.primaryKey", given?.primaryKey);
      const secondaryKey = validateSymmetricKey("attestation.symmetricKey.secondaryKey", given?.secondaryKey);
      // Omitted keys are generated on create and kept on update.
      return {
        type,
        symmetricKey: {
          primaryKey: primaryKey ?? existing?.symmetricKey?.primaryKey ?? generateSymmetricKey(),
          secondaryKey: secondaryKey ?? existing?.symmetricKey?.secondaryKey ?? generateSymmetricKey(),
        },
      };
    }
  }
}

function normalizeHubs(value: unknown, linkedHubs: readonly string[], field = "iotHubs"): string[] | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (!Array.isArray(value) || value.some((h) => typeof h !== "string")) {
    throw new DpsError("ArgumentInvalid", `${field} must be a list of IoT hub host names`);
  }
  return (value as string[]).map((hub) => {
    const linked = linkedHubs.find((l) => l.toLowerCase() === hub.toLowerCase());
    if (!linked) {
      throw new DpsError(
        "InvalidAllocation",
        `${field}: '${hub}' is not linked to this provisioning service (linked: ${linkedHubs.join(", ")})`,
      );
    }
    return linked;
  });
}

function normalizeTwinCollection(field: string, value: unknown): TwinCollection | undefined {
  return optionalObject(field, value);
}

function normalizeInitialTwin(value: unknown): InitialTwin | undefined {
  const twin = optionalObject("initialTwin", value);
  if (!twin) {
    return undefined;
  }
  const result: InitialTwin = {};
  const tags = normalizeTwinCollection("initialTwin.tags", twin.tags);
  if (tags) {
    result.tags = tags;
  }
  const properties = optionalObject("initialTwin.properties", twin.properties);
  if (properties) {
    const desired = normalizeTwinCollection("initialTwin.properties.desired", properties.desired);
    result.properties = desired ? { desired } : {};
  }
  return result;
}

function normalizeCommon(body: Record<string, unknown>, ctx: NormalizeContext): EnrollmentCommon {
  const existing = ctx.existing;
  const capabilities = optionalObject("capabilities", body.capabilities);
  const iotEdge =
    capabilities?.iotEdge === undefined ? false : requireBoolean("capabilities.iotEdge", capabilities.iotEdge);

  const status = body.provisioningStatus ?? "enabled";
  if (status !== "enabled" && status !== "disabled") {
    throw new DpsError("ArgumentInvalid", `provisioningStatus ${JSON.stringify(status)} must be enabled or disabled`);
  }

  const reprovision = optionalObject("reprovisionPolicy", body.reprovisionPolicy);
  const reprovisionPolicy = {
    updateHubAssignment:
      reprovision?.updateHubAssignment === undefined
        ? true
        : requireBoolean("reprovisionPolicy.updateHubAssignment", reprovision.updateHubAssignment),
    migrateDeviceData:
      reprovision?.migrateDeviceData === undefined
        ? true
        : requireBoolean("reprovisionPolicy.migrateDeviceData", reprovision.migrateDeviceData),
  };

  const allocationPolicy = body.allocationPolicy ?? undefined;
  if (allocationPolicy !== undefined && !allocationPolicies.includes(allocationPolicy as AllocationPolicy)) {
    throw new DpsError(
      "InvalidAllocation",
      `allocationPolicy ${JSON.stringify(allocationPolicy)} must be one of ${allocationPolicies.join(", ")}`,
    );
  }
  const iotHubs = normalizeHubs(body.iotHubs, ctx.linkedHubs);
  const iotHubHostName = optionalString("iotHubHostName", body.iotHubHostName);
  if (iotHubHostName !== undefined) {
    normalizeHubs([iotHubHostName], ctx.linkedHubs, "iotHubHostName");
  }
  // None is accepted, as the service does: the linked hubs then apply (see allocation.ts for more than one).
  if (allocationPolicy === "static" && (iotHubs?.length ?? 0) > 1) {
    throw new DpsError(
      "InvalidAllocation",
      `allocationPolicy static takes one hub in iotHubs at most (got ${iotHubs?.length ?? 0})`,
    );
  }
  const custom = optionalObject("customAllocationDefinition", body.customAllocationDefinition);
  let customAllocationDefinition: EnrollmentCommon["customAllocationDefinition"];
  if (allocationPolicy === "custom") {
    const webhookUrl = optionalString("customAllocationDefinition.webhookUrl", custom?.webhookUrl);
    const apiVersion = optionalString("customAllocationDefinition.apiVersion", custom?.apiVersion);
    if (!webhookUrl || !apiVersion) {
      throw new DpsError(
        "InvalidAllocation",
        "allocationPolicy custom needs customAllocationDefinition.webhookUrl and customAllocationDefinition.apiVersion",
      );
    }
    let url: URL;
    try {
      url = new URL(webhookUrl);
    } catch {
      throw new DpsError("InvalidAllocation", `customAllocationDefinition.webhookUrl '${webhookUrl}' is not a URL`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new DpsError("InvalidAllocation", "customAllocationDefinition.webhookUrl must be an https URL");
    }
    customAllocationDefinition = { webhookUrl, apiVersion };
  }

  const now = formatTimestamp(ctx.now);
  const common: EnrollmentCommon = {
    attestation: normalizeAttestation(ctx.kind, body.attestation, existing?.attestation),
    capabilities: { iotEdge },
    etag: newEtag(),
    provisioningStatus: status,
    reprovisionPolicy,
    createdDateTimeUtc: existing?.createdDateTimeUtc ?? now,
    lastUpdatedDateTimeUtc: now,
  };
  const initialTwin = normalizeInitialTwin(body.initialTwin);
  if (initialTwin) common.initialTwin = initialTwin;
  if (iotHubHostName !== undefined) common.iotHubHostName = iotHubHostName;
  if (allocationPolicy !== undefined) common.allocationPolicy = allocationPolicy as AllocationPolicy;
  if (iotHubs) common.iotHubs = iotHubs;
  if (customAllocationDefinition) common.customAllocationDefinition = customAllocationDefinition;
  const credentialPolicyName = optionalString("credentialPolicyName", body.credentialPolicyName);
  if (credentialPolicyName !== undefined) common.credentialPolicyName = credentialPolicyName;
  return common;
}

/** Turns a PUT body into the document to store, or throws a DpsError naming the field. */
export function normalizeDocument(body: unknown, ctx: NormalizeContext): StoredDocument {
  if (!isObject(body)) {
    throw new DpsError("InvalidRequestBody", "the request body must be a JSON object");
  }
  const field = idField[ctx.kind];
  const pathId = validateId(field, ctx.pathId);
  const bodyId = body[field] === undefined ? pathId : validateId(field, body[field]);
  if (bodyId !== pathId) {
    throw new DpsError(
      "ArgumentInvalid",
      `${field} '${String(body[field])}' does not match the id in the URL '${pathId}'`,
    );
  }
  const common = normalizeCommon(body, ctx);
  if (ctx.kind === "group") {
    return { enrollmentGroupId: pathId, ...common };
  }
  const doc: IndividualEnrollment = { registrationId: pathId, ...common };
  if (body.deviceId !== undefined && body.deviceId !== null && body.deviceId !== "") {
    doc.deviceId = validateDeviceId(body.deviceId);
  }
  const info = normalizeTwinCollection("optionalDeviceInformation", body.optionalDeviceInformation);
  if (info) doc.optionalDeviceInformation = info;
  return doc;
}

export function documentId(doc: StoredDocument): string {
  return "registrationId" in doc ? doc.registrationId : doc.enrollmentGroupId;
}

function presentCertificates(certs: X509Certificates | undefined): X509Certificates | undefined {
  if (!certs) return undefined;
  const strip = (entry: X509CertificateWithInfo | undefined): X509CertificateWithInfo | undefined =>
    entry ? { info: entry.info } : undefined;
  return { primary: strip(certs.primary), secondary: strip(certs.secondary) };
}

/** The attestation as returned: certificates reduced to `info`; symmetric keys only when asked for. */
export function presentAttestation(attestation: AttestationMechanism, includeKeys: boolean): AttestationMechanism {
  switch (attestation.type) {
    case "x509": {
      const x509 = attestation.x509 ?? {};
      const out: X509Attestation = {};
      if (x509.clientCertificates) out.clientCertificates = presentCertificates(x509.clientCertificates);
      if (x509.signingCertificates) out.signingCertificates = presentCertificates(x509.signingCertificates);
      if (x509.caReferences) out.caReferences = x509.caReferences;
      return { type: "x509", x509: out };
    }
    case "symmetricKey":
      return includeKeys ? attestation : { type: "symmetricKey", symmetricKey: {} };
    default:
      return attestation;
  }
}

/** A stored document as the API returns it. GET and query hide symmetric keys; PUT responses carry them. */
export function present<T extends StoredDocument>(doc: T, includeKeys: boolean): T {
  return JSON.parse(JSON.stringify({ ...doc, attestation: presentAttestation(doc.attestation, includeKeys) })) as T;
}
