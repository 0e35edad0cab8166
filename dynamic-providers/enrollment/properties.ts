// The property table of IndividualEnrollment: which property is updated in place, forces replacement, is computed
// by DPS, is the provider's own setting, or is recorded in the state only. `diff` is driven by this table and the
// README prints it.
import type { EnrollmentOutputs, GroupOutputs } from "./types";

/**
 * replace: a change replaces the enrollment; update: a change updates it in DPS; state: a change is an update of
 * the state alone, with no call to DPS; setting: the provider's own, never a change; computed: DPS's.
 */
export type PropertyPolicy = "replace" | "update" | "state" | "computed" | "setting";

export const propertyPolicies: Record<keyof EnrollmentOutputs, PropertyPolicy> = {
  registrationId: "replace",
  attestationType: "replace",
  primaryCertificate: "update",
  secondaryCertificate: "update",
  endorsementKey: "update",
  storageRootKey: "update",
  primaryKey: "update",
  secondaryKey: "update",
  deviceId: "update",
  iotEdge: "update",
  allocationPolicy: "update",
  iotHubs: "update",
  customAllocation: "update",
  reprovisionPolicy: "update",
  initialTwin: "update",
  enabled: "update",
  optionalDeviceInformation: "update",
  adopt: "setting",
  // The stack whose ownership marker the provider writes into DPS (ownership.ts); set by the resource class.
  ownerStack: "setting",
  // Another DPS means another enrollment: created there, then deleted here.
  serviceHostName: "replace",
  // New credentials are stored by an update that re-sends the unchanged enrollment with them.
  serviceAccessKeyName: "update",
  serviceAccessKey: "update",
  // A new provider version shows in the preview as what it is; the enrollment in DPS is not touched.
  providerVersion: "state",
  etag: "computed",
  createdDateTimeUtc: "computed",
  lastUpdatedDateTimeUtc: "computed",
  primaryCertificateInfo: "computed",
  secondaryCertificateInfo: "computed",
  registrationState: "computed",
  // Derived by check from the certificates (whose thumbprints diff compares).
  certificateValidity: "computed",
};

/**
 * The property table of EnrollmentGroup: the individual enrollment's for every field the two share (a group has no
 * registration ID, device ID, TPM keys, device information or registration state of its own).
 */
export const groupPropertyPolicies: Record<keyof GroupOutputs, PropertyPolicy> = {
  enrollmentGroupId: "replace",
  attestationType: propertyPolicies.attestationType,
  // Signing certificates and CA references: rotation updates the group in place, its devices keep registering.
  primaryCertificate: propertyPolicies.primaryCertificate,
  secondaryCertificate: propertyPolicies.secondaryCertificate,
  primaryCaReference: "update",
  secondaryCaReference: "update",
  primaryKey: propertyPolicies.primaryKey,
  secondaryKey: propertyPolicies.secondaryKey,
  iotEdge: propertyPolicies.iotEdge,
  allocationPolicy: propertyPolicies.allocationPolicy,
  iotHubs: propertyPolicies.iotHubs,
  customAllocation: propertyPolicies.customAllocation,
  reprovisionPolicy: propertyPolicies.reprovisionPolicy,
  initialTwin: propertyPolicies.initialTwin,
  enabled: propertyPolicies.enabled,
  adopt: propertyPolicies.adopt,
  ownerStack: propertyPolicies.ownerStack,
  serviceHostName: propertyPolicies.serviceHostName,
  serviceAccessKeyName: propertyPolicies.serviceAccessKeyName,
  serviceAccessKey: propertyPolicies.serviceAccessKey,
  providerVersion: propertyPolicies.providerVersion,
  etag: propertyPolicies.etag,
  createdDateTimeUtc: propertyPolicies.createdDateTimeUtc,
  lastUpdatedDateTimeUtc: propertyPolicies.lastUpdatedDateTimeUtc,
  primaryCertificateInfo: propertyPolicies.primaryCertificateInfo,
  secondaryCertificateInfo: propertyPolicies.secondaryCertificateInfo,
  certificateValidity: propertyPolicies.certificateValidity,
};

/** A resource type's property table. */
export type PropertyTable = Readonly<Record<string, PropertyPolicy>>;

/** Properties a table has `diff` compare, in table order. */
export function diffedPropertiesOf(table: PropertyTable): string[] {
  return Object.keys(table).filter((p) => table[p] === "replace" || table[p] === "update" || table[p] === "state");
}

/** Properties compared by `diff`, in table order. */
export const diffedProperties = diffedPropertiesOf(propertyPolicies) as (keyof EnrollmentOutputs)[];

/** Properties that hold secrets or say where the record lives, not what it is: never in a content hash. */
const notContent: readonly string[] = [
  "primaryKey",
  "secondaryKey",
  "serviceHostName",
  "serviceAccessKeyName",
  "serviceAccessKey",
];

/** What DPS holds of a record of the table's type, less secrets: what an ownership marker's hash covers. */
export function contentPropertiesOf(table: PropertyTable): string[] {
  return diffedPropertiesOf(table).filter(
    (p) => (table[p] === "replace" || table[p] === "update") && !notContent.includes(p),
  );
}

/** An individual enrollment's content properties. */
export const contentProperties = contentPropertiesOf(propertyPolicies) as (keyof EnrollmentOutputs)[];
