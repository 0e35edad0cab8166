// @dps-enrollments/enrollment-provider: DPS enrollments as Pulumi resources. What a program imports.
export { DpsEnrollments, type DpsEnrollmentsArgs } from "./dps-enrollments";
export { IndividualEnrollment, type AttestationArgs, type IndividualEnrollmentArgs } from "./individual-enrollment";
export { loadManifest, ManifestError, type LoadOptions, type ManifestEntry, type SecretRef } from "./manifest/loader";
export { configNamespace } from "./enrollment/runtime";
export { providerVersion } from "./enrollment/version";
export type {
  AllocationPolicy,
  AttestationType,
  CertificateSummary,
  CustomAllocation,
  EnrollmentSpec,
  InitialTwin,
  RegistrationSummary,
  ReprovisionPolicy,
} from "./enrollment/types";
