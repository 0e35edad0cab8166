// The property table of IndividualEnrollment: which property is updated in place, forces replacement, is computed
// by DPS, is the provider's own setting, or is recorded in the state only. `diff` is driven by this table and the
// README prints it.
import type { EnrollmentOutputs } from "./types";

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

/** Properties compared by `diff`, in table order. */
export const diffedProperties = (Object.keys(propertyPolicies) as (keyof EnrollmentOutputs)[]).filter(
  (p) => propertyPolicies[p] === "replace" || propertyPolicies[p] === "update" || propertyPolicies[p] === "state",
);

/** Properties that hold secrets or say where the enrollment lives, not what it is: never in a content hash. */
const notContent: readonly (keyof EnrollmentOutputs)[] = [
  "primaryKey",
  "secondaryKey",
  "serviceHostName",
  "serviceAccessKeyName",
  "serviceAccessKey",
];

/** What DPS holds of an enrollment, less secrets: the content an ownership marker's hash covers (ownership.ts). */
export const contentProperties = diffedProperties.filter(
  (p) => (propertyPolicies[p] === "replace" || propertyPolicies[p] === "update") && !notContent.includes(p),
);
