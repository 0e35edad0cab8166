// The IndividualEnrollment resource's shapes: what a program gives (plain, before `check`), what `check` makes of it
// (normalized inputs, the only thing `diff`/`create`/`update` see), and what the provider stores as outputs.

export type AllocationPolicy = "hashed" | "geoLatency" | "static" | "custom";
export type ReprovisionPolicy = "reprovisionAndMigrateData" | "reprovisionAndResetData" | "never";

/** The attestation mechanism, one of three. Certificates are PEM or base64 DER text. */
export type AttestationArgs =
  | { x509: { primaryCertificate: string; secondaryCertificate?: string } }
  | { tpm: { endorsementKey: string; storageRootKey?: string } }
  | { symmetricKey: { primaryKey?: string; secondaryKey?: string } };

export interface InitialTwinArgs {
  tags?: Record<string, unknown>;
  properties?: { desired?: Record<string, unknown> };
}

/** An enrollment as a program describes it (the fields of the portal's "Add individual enrollment"). */
export interface EnrollmentSpec {
  /** Registration ID; for X.509 it defaults to the primary certificate's CN and must equal it when given. */
  registrationId?: string;
  attestation: AttestationArgs;
  /** IoT Hub device ID; DPS uses the registration ID when omitted. */
  deviceId?: string;
  iotEdge?: boolean;
  allocationPolicy?: AllocationPolicy;
  /** Host names of the linked IoT hubs the device may be assigned to. */
  iotHubs?: string[];
  customAllocation?: { webhookUrl: string; apiVersion: string };
  reprovisionPolicy?: ReprovisionPolicy;
  initialTwin?: InitialTwinArgs;
  enabled?: boolean;
  optionalDeviceInformation?: Record<string, unknown>;
}

/** `check`'s output: every default filled in, keys and certificates lifted to the top level. */
export interface EnrollmentInputs {
  registrationId: string;
  attestationType: "x509" | "tpm" | "symmetricKey";
  /** X.509: certificates as base64 DER (one canonical form whether PEM or DER was given). */
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
  customAllocation?: { webhookUrl: string; apiVersion: string };
  reprovisionPolicy: ReprovisionPolicy;
  initialTwin?: { tags: Record<string, unknown>; properties: { desired: Record<string, unknown> } };
  enabled: boolean;
  optionalDeviceInformation?: Record<string, unknown>;
  /** Take over an enrollment that already exists in DPS instead of failing on 409 (Pulumi's import cannot work). */
  adopt: boolean;
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
 * references here, not the text (the inputs keep the text).
 */
export interface EnrollmentOutputs extends EnrollmentInputs {
  etag: string;
  createdDateTimeUtc: string;
  lastUpdatedDateTimeUtc: string;
  primaryCertificateInfo?: CertificateSummary;
  secondaryCertificateInfo?: CertificateSummary;
  registrationState?: RegistrationSummary;
}
