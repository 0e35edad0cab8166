// @dps-enrollments/enrollment-provider: DPS enrollments as Pulumi resources. What a program imports.
export { DpsEnrollments, type DpsEnrollmentsArgs } from "./dps-enrollments";
export { IndividualEnrollment, type AttestationArgs, type IndividualEnrollmentArgs } from "./individual-enrollment";
export { EnrollmentGroup, type EnrollmentGroupArgs, type GroupAttestationArgs } from "./enrollment-group";
export { deriveDeviceKey } from "./enrollment/device-key";
export {
  loadEnrollmentManifest,
  loadManifest,
  ManifestError,
  type LoadOptions,
  type LoadedManifest,
  type ManifestEntry,
  type ManifestGroupEntry,
  type SecretRef,
} from "./manifest/loader";
export { configNamespace } from "./enrollment/runtime";
export { providerVersion } from "./enrollment/version";
export type {
  AllocationPolicy,
  AttestationType,
  CertificateSummary,
  CustomAllocation,
  EnrollmentSpec,
  GroupAttestationType,
  GroupSpec,
  InitialTwin,
  RegistrationSummary,
  ReprovisionPolicy,
} from "./enrollment/types";
