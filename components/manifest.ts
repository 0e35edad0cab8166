// The enrollment manifest (stacks/<stack>/enrollments.yaml): parsing, the `defaults:` merge, certificate paths
// relative to the manifest, keys as references to secret stack config, and validation whose every error names the
// file and the entry. Pure apart from reading the manifest and its certificate files.
import * as fs from "node:fs";
import * as path from "node:path";

import { parseDocument } from "yaml";

import { isPlainObject, normalizeEnrollment } from "../dynamic-providers/enrollment/normalize";
import type { EnrollmentSpec } from "../dynamic-providers/enrollment/types";

/** A symmetric key in a manifest: the name of a secret stack config value, never the key itself. */
export interface SecretRef {
  config: string;
}

/** One manifest entry once loaded: the spec with certificate text read, and key references still unresolved. */
export interface ManifestEntry {
  /** Where it came from, for messages: `file: individualEnrollments[2] (mydevice)`. */
  label: string;
  registrationId: string;
  spec: EnrollmentSpec;
  keys?: { primaryKey: SecretRef; secondaryKey: SecretRef };
  adopt: boolean;
}

export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    super(`the enrollment manifest has ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
    this.name = "ManifestError";
  }
}

const entryFields = new Set([
  "registrationId",
  "attestation",
  "deviceId",
  "iotEdge",
  "allocationPolicy",
  "iotHubs",
  "customAllocation",
  "reprovisionPolicy",
  "initialTwin",
  "enabled",
  "optionalDeviceInformation",
  "adopt",
]);

function secretRef(value: unknown): SecretRef | undefined {
  return isPlainObject(value) && typeof value.config === "string" && Object.keys(value).length === 1
    ? { config: value.config }
    : undefined;
}

export interface LoadOptions {
  linkedHubs?: readonly string[];
  /** Hub name → host name: `iotHubs:` entries may name a hub by its name instead of its host name. */
  hubNames?: Readonly<Record<string, string>>;
  /** Display name of the manifest in messages (defaults to its path). */
  displayName?: string;
}

export function loadManifest(file: string, options: LoadOptions = {}): ManifestEntry[] {
  const name = options.displayName ?? file;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ManifestError([
      `${name}: cannot read the manifest (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    ]);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ManifestError(doc.errors.map((e) => `${name}: ${e.message.split("\n")[0]}`));
  }
  const root: unknown = doc.toJS();
  if (!isPlainObject(root)) {
    throw new ManifestError([`${name}: expected a mapping with individualEnrollments: (and optionally defaults:)`]);
  }
  const problems: string[] = [];
  for (const key of Object.keys(root)) {
    if (key !== "defaults" && key !== "individualEnrollments") problems.push(`${name}: unknown top-level key '${key}'`);
  }
  const defaults = root.defaults ?? {};
  if (!isPlainObject(defaults)) problems.push(`${name}: defaults must be a mapping`);
  const list = root.individualEnrollments ?? [];
  if (!Array.isArray(list)) {
    throw new ManifestError([...problems, `${name}: individualEnrollments must be a list`]);
  }

  const entries: ManifestEntry[] = [];
  const seen = new Map<string, string>();
  list.forEach((raw: unknown, index) => {
    const where = `${name}: individualEnrollments[${index}]`;
    if (!isPlainObject(raw)) {
      problems.push(`${where}: must be a mapping`);
      return;
    }
    const merged: Record<string, unknown> = { ...(isPlainObject(defaults) ? defaults : {}), ...raw };
    const label = `${where}${typeof raw.registrationId === "string" ? ` (${raw.registrationId})` : ""}`;
    for (const key of Object.keys(merged)) {
      if (!entryFields.has(key)) problems.push(`${label}: unknown field '${key}'`);
    }
    const entryProblems: string[] = [];
    let keys: ManifestEntry["keys"];
    const attestation = merged.attestation;
    let specAttestation: EnrollmentSpec["attestation"] | undefined;
    if (isPlainObject(attestation) && isPlainObject(attestation.x509)) {
      const x509 = attestation.x509;
      const read = (field: string): string | undefined => {
        const value = x509[field];
        if (value === undefined) return undefined;
        if (typeof value !== "string") {
          entryProblems.push(`attestation.x509.${field}: must be a path to a certificate file`);
          return undefined;
        }
        const certPath = path.resolve(path.dirname(file), value);
        try {
          // PEM text as it is; anything else (a DER .cer) as base64 of its bytes.
          const bytes = fs.readFileSync(certPath);
          const asText = bytes.toString("utf8");
          return asText.includes("-----BEGIN") ? asText : bytes.toString("base64");
        } catch (err) {
          entryProblems.push(
            `attestation.x509.${field}: cannot read ${value} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
          );
          return undefined;
        }
      };
      const primary = read("primaryCertificate");
      const secondary = read("secondaryCertificate");
      // A missing primary, or content that is not a certificate, is reported by normalizeEnrollment below.
      specAttestation = {
        x509: { primaryCertificate: primary as string, ...(secondary ? { secondaryCertificate: secondary } : {}) },
      };
    } else if (isPlainObject(attestation) && isPlainObject(attestation.symmetricKey)) {
      const sym = attestation.symmetricKey;
      if (sym.primaryKey === undefined && sym.secondaryKey === undefined) {
        specAttestation = { symmetricKey: {} };
      } else {
        const primary = secretRef(sym.primaryKey);
        const secondary = secretRef(sym.secondaryKey);
        if (!primary || !secondary) {
          entryProblems.push(
            "attestation.symmetricKey: keys must be references to secret stack config, e.g. primaryKey: {config: myDevicePrimaryKey}, never literal keys",
          );
        } else {
          keys = { primaryKey: primary, secondaryKey: secondary };
        }
        specAttestation = { symmetricKey: {} };
      }
    } else {
      specAttestation = attestation as EnrollmentSpec["attestation"];
    }

    const hubNames = options.hubNames;
    if (hubNames && Array.isArray(merged.iotHubs)) {
      // A name resolves to its host name; anything with a dot is a host name, checked against linkedHubs below.
      merged.iotHubs = merged.iotHubs.map((hub: unknown) => {
        if (typeof hub !== "string" || hub.includes(".")) return hub;
        const hostName = Object.hasOwn(hubNames, hub) ? hubNames[hub] : undefined;
        if (hostName === undefined) {
          entryProblems.push(`iotHubs: unknown hub '${hub}' (this stack's hubs: ${Object.keys(hubNames).join(", ")})`);
        }
        return hostName ?? hub;
      });
    }
    const { adopt, ...rest } = merged;
    const spec = { ...rest, attestation: specAttestation } as EnrollmentSpec;
    if (adopt !== undefined && typeof adopt !== "boolean") entryProblems.push("adopt: must be true or false");
    if (entryProblems.length === 0) {
      const checked = normalizeEnrollment(spec, { linkedHubs: options.linkedHubs });
      for (const f of checked.failures) entryProblems.push(`${f.property}: ${f.reason}`);
      if (checked.inputs) {
        const id = checked.inputs.registrationId;
        const previous = seen.get(id);
        if (previous) entryProblems.push(`registrationId '${id}' is also used by ${previous}`);
        seen.set(id, label);
        entries.push({ label, registrationId: id, spec, keys, adopt: adopt === true });
      }
    }
    problems.push(...entryProblems.map((p) => `${label}: ${p}`));
  });
  if (problems.length > 0) throw new ManifestError(problems);
  return entries;
}
