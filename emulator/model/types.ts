// Wire shapes of the DPS service and device APIs (api-version 2021-10-01), as the emulator stores and returns them.
import type { CertificateInfo } from "../certificates";

export type TwinCollection = Record<string, unknown>;

export interface X509CertificateWithInfo {
  /** Stored as base64 DER; never returned. */
  certificate?: string;
  info?: CertificateInfo;
}

export interface X509Certificates {
  primary?: X509CertificateWithInfo;
  secondary?: X509CertificateWithInfo;
}

export interface X509Attestation {
  clientCertificates?: X509Certificates;
  signingCertificates?: X509Certificates;
  caReferences?: { primary?: string; secondary?: string };
}

export type AttestationType = "none" | "tpm" | "x509" | "symmetricKey";

export interface AttestationMechanism {
  type: AttestationType;
  tpm?: { endorsementKey: string; storageRootKey?: string };
  x509?: X509Attestation;
  symmetricKey?: { primaryKey?: string; secondaryKey?: string };
}

export type AllocationPolicy = "hashed" | "geoLatency" | "static" | "custom";

export interface ReprovisionPolicy {
  updateHubAssignment: boolean;
  migrateDeviceData: boolean;
}

export interface InitialTwin {
  tags?: TwinCollection;
  properties?: { desired?: TwinCollection };
}

export interface EnrollmentCommon {
  attestation: AttestationMechanism;
  capabilities: { iotEdge: boolean };
  iotHubHostName?: string;
  initialTwin?: InitialTwin;
  etag: string;
  provisioningStatus: "enabled" | "disabled";
  reprovisionPolicy: ReprovisionPolicy;
  createdDateTimeUtc: string;
  lastUpdatedDateTimeUtc: string;
  allocationPolicy?: AllocationPolicy;
  iotHubs?: string[];
  customAllocationDefinition?: { webhookUrl: string; apiVersion: string };
  credentialPolicyName?: string;
}

export interface IndividualEnrollment extends EnrollmentCommon {
  registrationId: string;
  deviceId?: string;
  optionalDeviceInformation?: TwinCollection;
  registrationState?: DeviceRegistrationState;
}

export interface EnrollmentGroup extends EnrollmentCommon {
  enrollmentGroupId: string;
}

export type EnrollmentKind = "enrollment" | "group";

export type RegistrationStatus = "unassigned" | "assigning" | "assigned" | "failed" | "disabled";
export type RegistrationSubstatus =
  "initialAssignment" | "deviceDataMigrated" | "deviceDataReset" | "reprovisionedToInitialAssignment";

export interface DeviceRegistrationState {
  registrationId: string;
  createdDateTimeUtc: string;
  assignedHub?: string;
  deviceId?: string;
  status: RegistrationStatus;
  substatus?: RegistrationSubstatus;
  errorCode?: number;
  errorMessage?: string;
  lastUpdatedDateTimeUtc: string;
  etag: string;
  payload?: unknown;
}

/** A registration record as stored: the service-API state plus what the device API needs to reprovision. */
export interface RegistrationRecord extends DeviceRegistrationState {
  enrollmentGroupId?: string;
  attestationType: AttestationType;
  /** Hubs this device was ever assigned to, first one first (reprovisionedToInitialAssignment). */
  hubHistory: string[];
}
