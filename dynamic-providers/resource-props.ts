// What both resource types register with the engine: the args as the model (each property keeps its name from here
// to the state, so the engine keeps keys secret in the state: it re-marks secret outputs by input property name),
// keys secret whether the program marked them or not, and the outputs DPS computes seeded as unknown.
import * as pulumi from "@pulumi/pulumi";

/** The outputs DPS computes for both kinds, and the provider's version. */
const computed = [
  "etag",
  "createdDateTimeUtc",
  "lastUpdatedDateTimeUtc",
  "primaryCertificateInfo",
  "secondaryCertificateInfo",
  "providerVersion",
] as const;

function secret(value: pulumi.Input<string> | undefined): pulumi.Output<string> | undefined {
  return value === undefined ? undefined : pulumi.secret(value);
}

/**
 * The props and options of an enrollment resource. `extraOutputs` are the kind's own computed outputs. Keys given
 * with another attestation type still travel (secret), for `check` to refuse them by name.
 */
export function enrollmentProps(
  args: object & { serviceAccessKey?: pulumi.Input<string> },
  extraOutputs: readonly string[],
  opts: pulumi.CustomResourceOptions | undefined,
): { props: pulumi.Inputs; opts: pulumi.CustomResourceOptions } {
  const outputs = Object.fromEntries([...computed, ...extraOutputs].map((name) => [name, undefined]));
  const given = args as { primaryKey?: pulumi.Input<string>; secondaryKey?: pulumi.Input<string> };
  const keys = { primaryKey: secret(given.primaryKey), secondaryKey: secret(given.secondaryKey) };
  return {
    props: { ...outputs, ...args, ...keys, serviceAccessKey: secret(args.serviceAccessKey) },
    opts: pulumi.mergeOptions(opts, { additionalSecretOutputs: ["primaryKey", "secondaryKey", "serviceAccessKey"] }),
  };
}
