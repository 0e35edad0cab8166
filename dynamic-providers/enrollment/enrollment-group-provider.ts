// The EnrollmentGroup provider object: the individual enrollment's provider (individual-enrollment-provider.ts) with
// the group's model, table and service calls, and a warning whenever a change takes provisioning away from devices
// that registered through a group (disabling or deleting it).
import { diffGroup } from "./diff";
import {
  createProviderObject,
  inputNamesOf,
  type ProviderSettings,
  type ResourceProviderObject,
  type ResourceType,
} from "./individual-enrollment-provider";
import { normalizeGroup } from "./normalize";
import { groupPropertyPolicies } from "./properties";
import { GroupProvider } from "./provider";
import type { Runtime } from "./runtime";
import type { GroupInputs, GroupOutputs, GroupSpec } from "./types";

/** A group's raw inputs: the model, the provider's settings, and the CA certificate names the DPS holds. */
export type RawGroupInputs = GroupSpec &
  ProviderSettings & {
    /** Names of the CA certificates the DPS holds, when the program knows them: caReferences are checked. */
    caCertificateNames?: string[];
  };

export const groupInputNames: readonly string[] = inputNamesOf(groupPropertyPolicies, ["caCertificateNames"]);

/** What happens to a group's devices when the group is disabled (DPS keeps everything; devices stop provisioning). */
export function disabledGroupNotice(id: string): string {
  return (
    `enrollment group '${id}' is being disabled: devices that registered through it keep their IoT hub ` +
    "identities and their registration records, and go on connecting to their hubs, but none of them can register " +
    "(provision or reprovision) again, and no new device of the group can, until the group is enabled again"
  );
}

/** What happens to a group's devices when the group is deleted. */
export function deletedGroupNotice(id: string): string {
  return (
    `enrollment group '${id}' is being deleted: devices that registered through it keep their IoT hub identities ` +
    "and go on connecting to their hubs; their registration records stay in DPS (they count against its quota " +
    "until deleted), and none of them can register again unless another enrollment matches it"
  );
}

/** Warnings reach the CLI as the provider process's stderr, which the engine shows with the operation. */
function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

export const enrollmentGroupType: ResourceType<RawGroupInputs, GroupInputs, GroupOutputs> = {
  typeName: "EnrollmentGroup",
  noun: "enrollment group",
  inputNames: groupInputNames,
  settings: ["caCertificateNames"],
  normalize: (spec, options) =>
    normalizeGroup(spec, {
      ...options,
      caReferences: (options as { caCertificateNames?: string[] }).caCertificateNames,
    }),
  diff: diffGroup,
  provider: (ctx) => new GroupProvider(ctx),
  afterDiff: (id, olds, news, diff) => {
    // A replaced group is deleted (its own warning then) and created afresh.
    if (olds.enabled && !news.enabled && diff.replaces.length === 0) warn(disabledGroupNotice(id));
  },
  beforeDelete: (id) => warn(deletedGroupNotice(id)),
};

export type EnrollmentGroupProvider = ResourceProviderObject<RawGroupInputs, GroupInputs, GroupOutputs>;

export function createEnrollmentGroupProvider(runtime: Runtime): EnrollmentGroupProvider {
  return createProviderObject(runtime, enrollmentGroupType);
}
