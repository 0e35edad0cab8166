// The one model of an individual enrollment, from manifest to wire. A program's args, the inputs `check` returns,
// the state's inputs and outputs all have this flat shape: the attestation's type is a field, and its certificates,
// endorsement key and symmetric keys are top-level fields of their own. Flat is what Pulumi needs: the engine keeps
// a secret input secret in the outputs only at the same property path, and `additionalSecretOutputs` (DPS-generated
// keys) names top-level properties only. Two edges change the shape, each in one place: the manifest's
// `attestation: { x509: … }` (manifest/entries.ts) and DPS's document (wire.ts).

export type AttestationType = "x509" | "tpm" | "symmetricKey";
/** An enrollment group's attestation: DPS has no TPM groups (a TPM's endorsement key is one device's own). */
export type GroupAttestationType = Exclude<AttestationType, "tpm">;
export type AllocationPolicy = "hashed" | "geoLatency" | "static" | "custom";
export type ReprovisionPolicy = "reprovisionAndMigrateData" | "reprovisionAndResetData" | "never";

export interface InitialTwin {
  tags?: Record<string, unknown>;
  properties?: { desired?: Record<string, unknown> };
}

export interface CustomAllocation {
  webhookUrl: string;
  apiVersion: string;
}

/**
 * An enrollment as a program declares it (the fields of the portal's "Add individual enrollment"), before `check`
 * fills in defaults. `T` is what a key holds: the key itself, or (in a manifest) a reference to secret config.
 */
export interface EnrollmentSpec<Key = string> {
  /** Registration ID; for X.509 it defaults to the primary certificate's CN and must equal it when given. */
  registrationId?: string;
  attestationType: AttestationType;
  /** X.509: certificates as PEM or base64 DER text. */
  primaryCertificate?: string;
  secondaryCertificate?: string;
  /** TPM: base64 endorsement key and storage root key. */
  endorsementKey?: string;
  storageRootKey?: string;
  /** Symmetric key: both keys (base64), or neither for DPS to generate them. Always secret. */
  primaryKey?: Key;
  secondaryKey?: Key;
  /** IoT Hub device ID; DPS uses the registration ID when omitted. */
  deviceId?: string;
  iotEdge?: boolean;
  allocationPolicy?: AllocationPolicy;
  /** Host names of the linked IoT hubs the device may be assigned to. */
  iotHubs?: string[];
  customAllocation?: CustomAllocation;
  reprovisionPolicy?: ReprovisionPolicy;
  initialTwin?: InitialTwin;
  enabled?: boolean;
  optionalDeviceInformation?: Record<string, unknown>;
}

/** `check`'s output: every default filled in, certificates as `sha1:` references (the text stays in memory). */
export interface EnrollmentInputs {
  registrationId: string;
  attestationType: AttestationType;
  primaryCertificate?: string;
  secondaryCertificate?: string;
  endorsementKey?: string;
  storageRootKey?: string;
  /** Symmetric keys when the program gives them (secret inputs; DPS generates them otherwise). */
  primaryKey?: string;
  secondaryKey?: string;
  deviceId?: string;
  iotEdge: boolean;
  allocationPolicy?: AllocationPolicy;
  iotHubs: string[];
  customAllocation?: CustomAllocation;
  reprovisionPolicy: ReprovisionPolicy;
  initialTwin?: { tags: Record<string, unknown>; properties: { desired: Record<string, unknown> } };
  enabled: boolean;
  optionalDeviceInformation?: Record<string, unknown>;
  /** Take over an enrollment that already exists in DPS instead of failing on 409 (Pulumi's import cannot work). */
  adopt: boolean;
  /**
   * The stack that owns the enrollment, `<organization>/<project>/<stack>` (the resource class sets it): the provider
   * writes it into DPS as an ownership marker, so a later run from any clone can finish this stack's interrupted
   * work and never takes another stack's enrollment (ownership.ts). Absent: no marker is written.
   */
  ownerStack?: string;
  /** The DPS holding this enrollment when not the stack's configured one (platform azure): its service host name. */
  serviceHostName?: string;
  /** Shared access policy for serviceHostName; without a key, Microsoft Entra ID (DefaultAzureCredential). */
  serviceAccessKeyName?: string;
  /** Secret. */
  serviceAccessKey?: string;
  /**
   * Derived by `check` from the certificates, which the inputs hold as thumbprint references only: each one's
   * validity, primary first, so policies and reviews can judge it. Not secret, never compared by `diff`.
   */
  certificateValidity?: CertificateValidity[];
  /** The version of the provider package that checked these inputs (absent in states written before 0.2.0). */
  providerVersion?: string;
}

/** [notBefore, notAfter] of a certificate in seconds since the epoch (compact: the state budget is 4 KB). */
export type CertificateValidity = [notBefore: number, notAfter: number];

export interface CertificateSummary {
  subject: string;
  sha1Thumbprint: string;
  sha256Thumbprint: string;
  notAfter: string;
}

export interface RegistrationSummary {
  status: string;
  substatus?: string;
  assignedHub?: string;
  deviceId?: string;
  lastUpdatedDateTimeUtc?: string;
}

/**
 * Outputs: the inputs the later methods need, plus what DPS computed. Certificates are `sha1:<THUMBPRINT>`
 * references, as in the inputs; `providerVersion` is the version of the provider that last wrote the record.
 */
export interface EnrollmentOutputs extends EnrollmentInputs {
  etag: string;
  createdDateTimeUtc: string;
  lastUpdatedDateTimeUtc: string;
  primaryCertificateInfo?: CertificateSummary;
  secondaryCertificateInfo?: CertificateSummary;
  registrationState?: RegistrationSummary;
}

/** The fields individual enrollments and enrollment groups share: how DPS assigns a device, and with what twin. */
type SharedField =
  | "primaryCertificate"
  | "secondaryCertificate"
  | "primaryKey"
  | "secondaryKey"
  | "iotEdge"
  | "allocationPolicy"
  | "iotHubs"
  | "customAllocation"
  | "reprovisionPolicy"
  | "initialTwin"
  | "enabled";

/** What the provider records beside the shared fields, for both kinds. */
type SharedInputs = Pick<
  EnrollmentInputs,
  | SharedField
  | "adopt"
  | "ownerStack"
  | "serviceHostName"
  | "serviceAccessKeyName"
  | "serviceAccessKey"
  | "certificateValidity"
  | "providerVersion"
>;

/**
 * An enrollment group as a program declares it: the shared fields, a group ID, and an X.509 attestation by signing
 * certificate (a root or intermediate CA, PEM or base64 DER text) or by the name of a CA certificate the DPS holds.
 */
export interface GroupSpec<Key = string> extends Pick<EnrollmentSpec<Key>, SharedField> {
  enrollmentGroupId: string;
  attestationType: GroupAttestationType;
  /** X.509 by reference: the name of a CA certificate uploaded to (and verified on) the DPS. */
  primaryCaReference?: string;
  secondaryCaReference?: string;
}

/** `check`'s output for a group: every default filled in, certificates as `sha1:` references. */
export interface GroupInputs extends SharedInputs {
  enrollmentGroupId: string;
  attestationType: GroupAttestationType;
  primaryCaReference?: string;
  secondaryCaReference?: string;
}

/** A group's outputs: its inputs plus what DPS computed (groups have no registration state of their own). */
export interface GroupOutputs extends GroupInputs {
  etag: string;
  createdDateTimeUtc: string;
  lastUpdatedDateTimeUtc: string;
  primaryCertificateInfo?: CertificateSummary;
  secondaryCertificateInfo?: CertificateSummary;
}
