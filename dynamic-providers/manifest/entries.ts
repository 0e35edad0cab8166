// A manifest entry (already valid against the schema) as the enrollment model, and back: which manifest field each
// model property comes from, so a failure of `check` points at the line the user wrote. The tables are typed by the
// schema's own property names: a field added to enrollments.schema.json without a place in the model, or a model
// property without a manifest field, does not compile.
import type schemaDocument from "../enrollments.schema.json";
import { isPlainObject } from "../enrollment/normalize";
import type { EnrollmentSpec, GroupSpec } from "../enrollment/types";
import type { Path } from "./positions";

/** A symmetric key in a manifest: the name of a secret stack config value, never the key itself. */
export interface SecretRef {
  config: string;
}

type Fields = typeof schemaDocument.definitions.fields.properties;
type Kinds = Fields["attestation"]["properties"];
type GroupFields = typeof schemaDocument.definitions.groupFields.properties;
type GroupKinds = GroupFields["attestation"]["properties"];

/** Per attestation kind of the manifest: the model's type, and the model property of each of its fields. */
const attestationKinds: { [K in keyof Kinds]: { [F in keyof Kinds[K]["properties"]]: keyof EnrollmentSpec } } = {
  x509: { primaryCertificate: "primaryCertificate", secondaryCertificate: "secondaryCertificate" },
  tpm: { endorsementKey: "endorsementKey", storageRootKey: "storageRootKey" },
  symmetricKey: { primaryKey: "primaryKey", secondaryKey: "secondaryKey" },
};

/** A group's attestation kinds (tpm maps to the model's tpm type, which `check` refuses with its reason). */
const groupAttestationKinds: {
  [K in keyof GroupKinds]: GroupKinds[K] extends { properties: object }
    ? { [F in keyof GroupKinds[K]["properties"]]: keyof GroupSpec }
    : Record<string, never>;
} = {
  x509: {
    primaryCertificate: "primaryCertificate",
    secondaryCertificate: "secondaryCertificate",
    primaryCaReference: "primaryCaReference",
    secondaryCaReference: "secondaryCaReference",
  },
  symmetricKey: { primaryKey: "primaryKey", secondaryKey: "secondaryKey" },
  tpm: {},
};

/** Per manifest field: the model property it is copied to, or how it is taken apart. */
const entryFields: { [F in keyof Fields]: keyof EnrollmentSpec | "attestation" | "adopt" } = {
  registrationId: "registrationId",
  attestation: "attestation",
  deviceId: "deviceId",
  iotEdge: "iotEdge",
  allocationPolicy: "allocationPolicy",
  iotHubs: "iotHubs",
  customAllocation: "customAllocation",
  reprovisionPolicy: "reprovisionPolicy",
  initialTwin: "initialTwin",
  enabled: "enabled",
  optionalDeviceInformation: "optionalDeviceInformation",
  adopt: "adopt",
};

/** Per group field: the model property it is copied to, or how it is taken apart. */
const groupFields: { [F in keyof GroupFields]: keyof GroupSpec | "attestation" | "adopt" } = {
  enrollmentGroupId: "enrollmentGroupId",
  attestation: "attestation",
  iotEdge: "iotEdge",
  allocationPolicy: "allocationPolicy",
  iotHubs: "iotHubs",
  customAllocation: "customAllocation",
  reprovisionPolicy: "reprovisionPolicy",
  initialTwin: "initialTwin",
  enabled: "enabled",
  adopt: "adopt",
};

/** The manifest fields, as the loader knows them (the schema's, by the types above). */
export const manifestFields: readonly string[] = Object.keys(entryFields);

/** The fields of a group entry (`defaults:` merges only these into groups). */
export const groupManifestFields: readonly string[] = Object.keys(groupFields);

/** How entries of one list of the manifest become the model. */
interface EntryShape {
  fields: Readonly<Record<string, string>>;
  kinds: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Attestation fields that are file paths (read as certificate text). */
  files: readonly string[];
}

const individualShape: EntryShape = {
  fields: entryFields,
  kinds: attestationKinds,
  files: ["primaryCertificate", "secondaryCertificate"],
};
const groupShape: EntryShape = {
  fields: groupFields,
  kinds: groupAttestationKinds,
  files: ["primaryCertificate", "secondaryCertificate"],
};

/** What an entry becomes: the model (keys still references) and the provider setting `adopt`. */
export interface EntryModel {
  spec: EnrollmentSpec<SecretRef>;
  adopt: boolean;
}

/** An entry (defaults merged) as a model of `shape`. */
function modelOf(
  shape: EntryShape,
  entry: Record<string, unknown>,
  certificate: (path: Path, file: string) => string | undefined,
): { spec: Record<string, unknown>; adopt: boolean } {
  const spec: Record<string, unknown> = {};
  let adopt = false;
  for (const [name, value] of Object.entries(entry)) {
    const target = Object.hasOwn(shape.fields, name) ? shape.fields[name] : undefined;
    if (target === "adopt") {
      adopt = value === true;
    } else if (target === "attestation") {
      // The schema has said what is wrong with any other shape; the model then has no attestation.
      const kinds = isPlainObject(value) ? Object.entries(value) : [];
      const [kind, fields] = kinds.length === 1 ? kinds[0] : [];
      if (kind === undefined || !Object.hasOwn(shape.kinds, kind) || !isPlainObject(fields)) continue;
      spec.attestationType = kind;
      const properties = shape.kinds[kind];
      for (const [field, fieldValue] of Object.entries(fields)) {
        const property = Object.hasOwn(properties, field) ? properties[field] : undefined;
        if (property === undefined) continue;
        spec[property] =
          kind === "x509" && shape.files.includes(field) && typeof fieldValue === "string"
            ? certificate(["attestation", kind, field], fieldValue)
            : fieldValue;
      }
    } else if (target !== undefined) {
      spec[target] = value;
    }
  }
  return { spec, adopt };
}

/**
 * An entry (defaults merged) as the model. `certificate` turns a certificate path into its text, or undefined when
 * it cannot (and reports why).
 */
export function entryModel(
  entry: Record<string, unknown>,
  certificate: (path: Path, file: string) => string | undefined,
): EntryModel {
  const { spec, adopt } = modelOf(individualShape, entry, certificate);
  return { spec: spec as unknown as EnrollmentSpec<SecretRef>, adopt };
}

/** A group entry (defaults merged) as the group model. */
export function groupEntryModel(
  entry: Record<string, unknown>,
  certificate: (path: Path, file: string) => string | undefined,
): { spec: GroupSpec<SecretRef>; adopt: boolean } {
  const { spec, adopt } = modelOf(groupShape, entry, certificate);
  return { spec: spec as unknown as GroupSpec<SecretRef>, adopt };
}

/**
 * The manifest path a model property (as `check` names it, e.g. `customAllocation.webhookUrl`) comes from; `group`
 * for an entry of enrollmentGroups.
 */
export function manifestPath(property: string, group = false): Path {
  const [first, ...rest] = property.split(".");
  if (first === "attestationType") return ["attestation"];
  for (const [kind, fields] of Object.entries(group ? groupShape.kinds : attestationKinds)) {
    const field = Object.entries(fields).find(([, model]) => model === first)?.[0];
    if (field) return ["attestation", kind, field, ...rest];
  }
  return [first, ...rest];
}
