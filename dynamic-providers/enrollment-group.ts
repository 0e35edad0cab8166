// EnrollmentGroup: one DPS enrollment group as a Pulumi resource (dynamic provider, type token
// `pulumi-nodejs:dynamic/dps:EnrollmentGroup`), named by its group ID. See enrollment/properties.ts
// (groupPropertyPolicies) for what updates in place, what replaces and what DPS computes.
import * as pulumi from "@pulumi/pulumi";

// The package's own root file, by name: its module.exports is the provider object (see individual-enrollment.ts).
// eslint-disable-next-line @typescript-eslint/no-require-imports
import provider = require("@dps-enrollments/enrollment-provider/enrollment-group.js");
import { groupPropertyPolicies } from "./enrollment/properties";
import { DpsRecordResource, type DpsRecordArgs } from "./resource-props";
import type { GroupAttestationType } from "./enrollment/types";

/** A group's attestation: its type, and that type's fields (the others are refused). DPS has no TPM groups. */
export type GroupAttestationArgs =
  | {
      readonly attestationType: "x509";
      /**
       * The CA certificate (root or intermediate) that signed the devices' certificates, PEM or base64 DER text;
       * or, instead, `primaryCaReference`.
       */
      readonly primaryCertificate?: pulumi.Input<string>;
      readonly secondaryCertificate?: pulumi.Input<string>;
      /** The name of a CA certificate the DPS holds (uploaded and verified), instead of a signing certificate. */
      readonly primaryCaReference?: pulumi.Input<string>;
      readonly secondaryCaReference?: pulumi.Input<string>;
    }
  | {
      readonly attestationType: "symmetricKey";
      /** Both (base64, always kept secret), or neither for DPS to generate them. Devices derive their keys. */
      readonly primaryKey?: pulumi.Input<string>;
      readonly secondaryKey?: pulumi.Input<string>;
    };

export type EnrollmentGroupArgs = GroupAttestationArgs &
  DpsRecordArgs & {
    readonly enrollmentGroupId: pulumi.Input<string>;
    /** Names of the CA certificates the DPS holds, so `check` can refuse an unknown CA reference. */
    readonly caCertificateNames?: pulumi.Input<pulumi.Input<string>[]>;
  };

export class EnrollmentGroup extends DpsRecordResource {
  declare readonly enrollmentGroupId: pulumi.Output<string>;
  declare readonly attestationType: pulumi.Output<GroupAttestationType>;
  declare readonly primaryCaReference: pulumi.Output<string | undefined>;
  declare readonly secondaryCaReference: pulumi.Output<string | undefined>;

  constructor(name: string, args: EnrollmentGroupArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, args, groupPropertyPolicies, opts, "EnrollmentGroup");
  }
}
