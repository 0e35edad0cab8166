// The IndividualEnrollment provider object as the dynamic-provider host calls it: `check` and `diff` are the pure
// functions, the CRUD methods run EnrollmentProvider against the resource's DPS, all on a shared Runtime. Every
// method that is handed stored state first refuses state a newer provider wrote (version.ts).
import type * as pulumi from "@pulumi/pulumi";

import { certificateValidity } from "./certificates";
import { diffEnrollment } from "./diff";
import { normalizeEnrollment, normalizeServiceTarget, type CheckFailure, type ServiceTarget } from "./normalize";
import { propertyPolicies } from "./properties";
import { EnrollmentProvider } from "./provider";
import type { Runtime } from "./runtime";
import { didYouMean } from "./suggest";
import type { EnrollmentInputs, EnrollmentOutputs, EnrollmentSpec } from "./types";
import { providerVersion, refuseNewerState } from "./version";

/** The resource's raw inputs, as a program sends them: the model plus the provider's own settings. */
export type RawInputs = EnrollmentSpec &
  ServiceTarget & {
    adopt?: boolean;
    linkedHubs?: string[];
    ownerStack?: string;
  };

/** Every input a program may give: the property table's, less what DPS or the provider computes, plus linkedHubs. */
export const rawInputNames: readonly string[] = [
  ...(Object.keys(propertyPolicies) as (keyof EnrollmentOutputs)[]).filter(
    (p) => propertyPolicies[p] !== "computed" && p !== "providerVersion",
  ),
  "linkedHubs",
];

/** Pulumi's marker for a value not known during preview. */
const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function hasUnknown(value: unknown): boolean {
  return JSON.stringify(value ?? null).includes(unknown);
}

export interface IndividualEnrollmentProvider {
  configure(req: pulumi.dynamic.ConfigureRequest): Promise<void>;
  check(olds: RawInputs, news: RawInputs): Promise<pulumi.dynamic.CheckResult<EnrollmentInputs>>;
  diff(id: string, olds: EnrollmentOutputs, news: EnrollmentInputs): Promise<pulumi.dynamic.DiffResult>;
  create(inputs: EnrollmentInputs): Promise<pulumi.dynamic.CreateResult<EnrollmentOutputs>>;
  /** `inputs`: the inputs the live enrollment implies, for diffs after a refresh. */
  read(
    id: string,
    props: EnrollmentOutputs,
  ): Promise<{ id?: string; props?: EnrollmentOutputs; inputs?: EnrollmentInputs }>;
  update(
    id: string,
    olds: EnrollmentOutputs,
    news: EnrollmentInputs,
  ): Promise<pulumi.dynamic.UpdateResult<EnrollmentOutputs>>;
  delete(id: string, props: EnrollmentOutputs): Promise<void>;
}

export function createIndividualEnrollmentProvider(runtime: Runtime): IndividualEnrollmentProvider {
  const provider = async (target: ServiceTarget): Promise<EnrollmentProvider> =>
    new EnrollmentProvider(await runtime.context(target));
  const stored = (id: string, state: EnrollmentOutputs): void =>
    refuseNewerState(`enrollment '${id}' in this stack's state`, state.providerVersion);
  return {
    configure: (req) => runtime.configure(req),
    check: (_olds, news) => {
      // A bad provider setting (e.g. dpsOperationsPerMinute) stops the preview at its first resource, once.
      const problem = runtime.configProblem();
      if (problem !== undefined) return Promise.reject(new Error(problem));
      if (hasUnknown(news)) return Promise.resolve({ inputs: { ...news, providerVersion } as EnrollmentInputs });
      const failures: CheckFailure[] = [];
      for (const name of Object.keys(news)) {
        if (name.startsWith("__") || rawInputNames.includes(name)) continue;
        failures.push({
          property: name,
          reason: `is not an input of IndividualEnrollment${didYouMean(name, rawInputNames)}`,
        });
      }
      const { adopt, linkedHubs, ownerStack, serviceHostName, serviceAccessKeyName, serviceAccessKey, ...spec } = news;
      if (ownerStack !== undefined && (typeof ownerStack !== "string" || !/^[^/]+\/[^/]+\/[^/]+$/.test(ownerStack))) {
        failures.push({ property: "ownerStack", reason: "must be <organization>/<project>/<stack>" });
      }
      const result = normalizeEnrollment(spec, { adopt: adopt === true, linkedHubs: linkedHubs ?? [] });
      const service = normalizeServiceTarget({ serviceHostName, serviceAccessKeyName, serviceAccessKey });
      failures.push(...result.failures, ...service.failures);
      if (!result.inputs || failures.length > 0) {
        return Promise.resolve({ failures: failures.map(({ property, reason }) => ({ property, reason })) });
      }
      // The certificates' validity beside their references (the stash keeps the text), for policies and reviews.
      const validity = certificateValidity(result.inputs);
      const inputs = runtime.certificates.stash({
        ...result.inputs,
        ...service.target,
        ...(ownerStack ? { ownerStack } : {}),
        ...(validity ? { certificateValidity: validity } : {}),
        providerVersion,
      });
      return Promise.resolve({ inputs });
    },
    // A promise's executor turns a throw (a refused state) into a rejection, like the async methods'.
    diff: (id, olds, news) =>
      new Promise((resolve) => {
        stored(id, olds);
        const diff = diffEnrollment(olds, news);
        resolve({ changes: diff.changes, replaces: diff.replaces, deleteBeforeReplace: diff.deleteBeforeReplace });
      }),
    create: async (inputs) => (await provider(inputs)).create(inputs),
    read: async (id, props) => {
      stored(id, props);
      return (await provider(props)).read(id, props);
    },
    update: async (id, olds, news) => {
      stored(id, olds);
      return (await provider(news)).update(id, olds, news);
    },
    delete: async (id, props) => {
      stored(id, props);
      return (await provider(props)).delete(id, props);
    },
  };
}
