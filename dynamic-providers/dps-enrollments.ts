// DpsEnrollments: every entry of an enrollment manifest as an IndividualEnrollment resource, named after its
// registration ID, and every enrollment group as an EnrollmentGroup, named after its group ID, with keys taken from
// secret stack config.
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";

import { EnrollmentGroup, type EnrollmentGroupArgs } from "./enrollment-group";
import { IndividualEnrollment, type IndividualEnrollmentArgs } from "./individual-enrollment";
import { loadEnrollmentManifest, ManifestError, type LoadedManifest, type SecretRef } from "./manifest/loader";

export interface DpsEnrollmentsArgs {
  /** Path of the manifest (YAML), relative to the program's directory. */
  manifest: string;
  /** Name shown in messages (default: `manifest` as given). */
  manifestDisplayName?: string;
  /** Host names of the DPS's linked hubs, so manifests are checked against them at preview (default: unchecked). */
  linkedHubs?: string[];
  /**
   * The DPS to talk to, passed to every enrollment; omitted: the one in the stack config (`dps-enrollments:platform`
   * emulator or existing). Microsoft Entra ID unless an access key (secret) is given.
   */
  service?: { hostName: pulumi.Input<string>; accessKeyName?: pulumi.Input<string>; accessKey?: pulumi.Input<string> };
  /** Hub name → host name, so manifest `iotHubs:` entries may name hubs by name. */
  hubNames?: Record<string, string>;
  /** Names of the CA certificates the DPS holds, so groups' CA references are checked at preview (default: unchecked). */
  caCertificateNames?: string[];
  /**
   * Reads the secret stack config value a manifest key reference names (default: the program's config, in its
   * project's namespace unless the reference has one, `namespace:name`).
   */
  secretConfig?: (key: string) => pulumi.Output<string>;
}

function programSecret(key: string): pulumi.Output<string> {
  const split = key.indexOf(":");
  return split < 0
    ? new pulumi.Config().requireSecret(key)
    : new pulumi.Config(key.slice(0, split)).requireSecret(key.slice(split + 1));
}

export class DpsEnrollments extends pulumi.ComponentResource {
  readonly enrollments: Record<string, IndividualEnrollment> = {};
  /** The manifest's enrollment groups by group ID. */
  readonly enrollmentGroups: Record<string, EnrollmentGroup> = {};
  readonly registrationIds: pulumi.Output<string[]>;
  readonly enrollmentGroupIds: pulumi.Output<string[]>;

  constructor(name: string, args: DpsEnrollmentsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dps-enrollments:enrollments:DpsEnrollments", name, {}, opts);
    const secret = args.secretConfig ?? programSecret;
    let manifest: LoadedManifest;
    try {
      manifest = loadEnrollmentManifest(path.resolve(args.manifest), {
        linkedHubs: args.linkedHubs,
        hubNames: args.hubNames,
        displayName: args.manifestDisplayName ?? args.manifest,
        caCertificateNames: args.caCertificateNames,
      });
    } catch (err) {
      // The problems are the message: no stack trace, reported once (see tests/provider/manifest-errors.test.ts).
      if (err instanceof ManifestError) throw new pulumi.RunError(err.message);
      throw err;
    }
    const service = args.service
      ? {
          serviceHostName: args.service.hostName,
          serviceAccessKeyName: args.service.accessKeyName,
          serviceAccessKey: args.service.accessKey,
        }
      : {};
    const key = (ref: SecretRef | undefined): pulumi.Output<string> | undefined =>
      ref === undefined ? undefined : secret(ref.config);
    const entries = manifest.individualEnrollments;
    // A component's dependsOn does not reach its children: each resource waits itself (e.g. for the DPS
    // data-plane role assignment, which no input refers to).
    const childOptions = { parent: this, dependsOn: opts?.dependsOn };
    for (const entry of entries) {
      const enrollment = {
        ...entry.spec,
        primaryKey: key(entry.spec.primaryKey),
        secondaryKey: key(entry.spec.secondaryKey),
      } as IndividualEnrollmentArgs;
      this.enrollments[entry.registrationId] = new IndividualEnrollment(
        entry.registrationId,
        { ...enrollment, adopt: entry.adopt, linkedHubs: args.linkedHubs, ...service },
        childOptions,
      );
    }
    for (const entry of manifest.enrollmentGroups) {
      const group = {
        ...entry.spec,
        primaryKey: key(entry.spec.primaryKey),
        secondaryKey: key(entry.spec.secondaryKey),
      } as EnrollmentGroupArgs;
      this.enrollmentGroups[entry.enrollmentGroupId] = new EnrollmentGroup(
        entry.enrollmentGroupId,
        {
          ...group,
          adopt: entry.adopt,
          linkedHubs: args.linkedHubs,
          caCertificateNames: args.caCertificateNames,
          ...service,
        },
        childOptions,
      );
    }
    this.registrationIds = pulumi.output(entries.map((e) => e.registrationId));
    this.enrollmentGroupIds = pulumi.output(manifest.enrollmentGroups.map((e) => e.enrollmentGroupId));
    this.registerOutputs({ registrationIds: this.registrationIds, enrollmentGroupIds: this.enrollmentGroupIds });
  }
}
