// DpsEnrollments: every entry of an enrollment manifest as an IndividualEnrollment resource, named after its
// registration ID, with keys taken from secret stack config.
import * as pulumi from "@pulumi/pulumi";

import { IndividualEnrollment } from "../dynamic-providers/individual-enrollment";
import { loadManifest, type ManifestEntry } from "./manifest";

export interface DpsEnrollmentsArgs {
  /** Path of the manifest (YAML). */
  manifest: string;
  /** Name shown in messages, e.g. the path relative to the project. */
  manifestDisplayName?: string;
  /** Host names of the DPS's linked hubs, for validation at preview. */
  linkedHubs: string[];
  /**
   * The DPS to talk to, passed to every enrollment; omitted: the one in the stack config (emulator or existing).
   * Microsoft Entra ID unless an access key (secret) is given.
   */
  service?: { hostName: pulumi.Input<string>; accessKeyName?: pulumi.Input<string>; accessKey?: pulumi.Input<string> };
  /** Hub name → host name, so manifest `iotHubs:` entries may name hubs by name. */
  hubNames?: Record<string, string>;
  /** Reads a secret stack config value named by a manifest key reference. */
  secretConfig?: (key: string) => pulumi.Output<string>;
}

export class DpsEnrollments extends pulumi.ComponentResource {
  readonly enrollments: Record<string, IndividualEnrollment> = {};
  readonly registrationIds: pulumi.Output<string[]>;

  constructor(name: string, args: DpsEnrollmentsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dps-enrollments:enrollments:DpsEnrollments", name, {}, opts);
    const config = new pulumi.Config();
    const secret = args.secretConfig ?? ((key: string) => config.requireSecret(key));
    const entries: ManifestEntry[] = loadManifest(args.manifest, {
      linkedHubs: args.linkedHubs,
      hubNames: args.hubNames,
      displayName: args.manifestDisplayName,
    });
    const service = args.service
      ? {
          serviceHostName: args.service.hostName,
          serviceAccessKeyName: args.service.accessKeyName,
          serviceAccessKey: args.service.accessKey === undefined ? undefined : pulumi.secret(args.service.accessKey),
        }
      : {};
    for (const entry of entries) {
      const attestation = entry.keys
        ? {
            symmetricKey: {
              primaryKey: secret(entry.keys.primaryKey.config),
              secondaryKey: secret(entry.keys.secondaryKey.config),
            },
          }
        : entry.spec.attestation;
      this.enrollments[entry.registrationId] = new IndividualEnrollment(
        entry.registrationId,
        { ...entry.spec, attestation, adopt: entry.adopt, linkedHubs: args.linkedHubs, ...service },
        // A component's dependsOn does not reach its children: each enrollment waits itself (e.g. for the DPS
        // data-plane role assignment, which no input refers to).
        { parent: this, dependsOn: opts?.dependsOn },
      );
    }
    this.registrationIds = pulumi.output(entries.map((e) => e.registrationId));
    this.registerOutputs({ registrationIds: this.registrationIds });
  }
}
