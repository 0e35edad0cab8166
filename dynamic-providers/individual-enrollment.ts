// IndividualEnrollment: one DPS individual enrollment as a Pulumi resource (dynamic provider, type token
// `pulumi-nodejs:dynamic/dps:IndividualEnrollment`). See enrollment/properties.ts for what updates in place,
// what replaces and what DPS computes.
import * as pulumi from "@pulumi/pulumi";

// The package's own root index.js, by name: its module.exports is the provider object, and Pulumi serializes an
// object that is a module.exports under node_modules as a require() of it, not as code.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import provider = require("@dps-enrollments/enrollment-provider/index.js");
import { propertyPolicies } from "./enrollment/properties";
import { DpsRecordResource, type DpsRecordArgs } from "./resource-props";
import type { AttestationType, RegistrationSummary } from "./enrollment/types";

/** The attestation: its type, and that type's fields (the others are refused). */
export type AttestationArgs =
  | {
      readonly attestationType: "x509";
      /** The device's certificate, PEM or base64 DER text; its CN is the registration ID. */
      readonly primaryCertificate: pulumi.Input<string>;
      readonly secondaryCertificate?: pulumi.Input<string>;
    }
  | {
      readonly attestationType: "tpm";
      /** Base64. */
      readonly endorsementKey: pulumi.Input<string>;
      readonly storageRootKey?: pulumi.Input<string>;
    }
  | {
      readonly attestationType: "symmetricKey";
      /** Both (base64, always kept secret), or neither for DPS to generate them. */
      readonly primaryKey?: pulumi.Input<string>;
      readonly secondaryKey?: pulumi.Input<string>;
    };

export type IndividualEnrollmentArgs = AttestationArgs &
  DpsRecordArgs & {
    /** Registration ID; for X.509 it defaults to the primary certificate's CN. */
    readonly registrationId?: pulumi.Input<string>;
    readonly deviceId?: pulumi.Input<string>;
    readonly optionalDeviceInformation?: pulumi.Input<Record<string, unknown>>;
  };

export class IndividualEnrollment extends DpsRecordResource {
  declare readonly registrationId: pulumi.Output<string>;
  declare readonly attestationType: pulumi.Output<AttestationType>;
  declare readonly deviceId: pulumi.Output<string | undefined>;
  declare readonly registrationState: pulumi.Output<RegistrationSummary | undefined>;

  constructor(name: string, args: IndividualEnrollmentArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, args, propertyPolicies, opts, "IndividualEnrollment");
  }
}
