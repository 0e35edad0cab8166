// The provider objects as the dynamic-provider host calls them, one per resource type: `check` and `diff` are the
// pure functions, the CRUD methods run the kind's RecordProvider against the resource's DPS, all on a shared Runtime.
// Every method that is handed stored state first refuses state a newer provider wrote (version.ts).
import type * as pulumi from "@pulumi/pulumi";

import { certificateValidity, type CertificateSlots } from "./certificates";
import { diffEnrollment, type EnrollmentDiff } from "./diff";
import {
  normalizeEnrollment,
  normalizeServiceTarget,
  type CheckFailure,
  type CheckOptions,
  type ServiceTarget,
} from "./normalize";
import { propertyPolicies, type PropertyTable } from "./properties";
import { EnrollmentProvider, type ProviderContext } from "./provider";
import type { Runtime } from "./runtime";
import { didYouMean } from "./suggest";
import type { EnrollmentInputs, EnrollmentOutputs, EnrollmentSpec } from "./types";
import { providerVersion, refuseNewerState } from "./version";

/** The provider's own settings every resource type takes beside its model. */
export type ProviderSettings = ServiceTarget & {
  adopt?: boolean;
  linkedHubs?: string[];
  /** The owning stack, `<organization>/<project>/<stack>`, that the resource class sets (ownership.ts). */
  ownerStack?: string;
};

/** The resource's raw inputs, as a program sends them: the model plus the provider's own settings. */
export type RawInputs = EnrollmentSpec & ProviderSettings;

/** Every input a program may give: the property table's, less what DPS or the provider computes, plus `extra`. */
export function inputNamesOf(table: PropertyTable, extra: readonly string[]): string[] {
  return [
    ...Object.keys(table).filter((p) => table[p] !== "computed" && p !== "providerVersion"),
    "linkedHubs",
    ...extra,
  ];
}

export const rawInputNames: readonly string[] = inputNamesOf(propertyPolicies, []);

/** Pulumi's marker for a value not known during preview. */
const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function hasUnknown(value: unknown): boolean {
  return JSON.stringify(value ?? null).includes(unknown);
}

/** A dynamic provider object of one resource type, as `pulumi.dynamic.ResourceProvider` calls it. */
export interface ResourceProviderObject<Raw, I, O> {
  configure(req: pulumi.dynamic.ConfigureRequest): Promise<void>;
  check(olds: Raw, news: Raw): Promise<pulumi.dynamic.CheckResult<I>>;
  diff(id: string, olds: O, news: I): Promise<pulumi.dynamic.DiffResult>;
  create(inputs: I): Promise<pulumi.dynamic.CreateResult<O>>;
  /** `inputs`: the inputs the live record implies, for diffs after a refresh. */
  read(id: string, props: O): Promise<{ id?: string; props?: O; inputs?: I }>;
  update(id: string, olds: O, news: I): Promise<pulumi.dynamic.UpdateResult<O>>;
  delete(id: string, props: O): Promise<void>;
}

export type IndividualEnrollmentProvider = ResourceProviderObject<RawInputs, EnrollmentInputs, EnrollmentOutputs>;

/** The CRUD methods of a kind of record against one DPS (RecordProvider). */
export interface RecordMethods<I, O> {
  create(inputs: I): Promise<{ id: string; outs: O }>;
  read(id: string, props: O): Promise<{ id?: string; props?: O; inputs?: I }>;
  update(id: string, olds: O, news: I): Promise<{ outs: O }>;
  delete(id: string, props: O): Promise<void>;
}

/** What makes one resource type's provider object. */
export interface ResourceType<Raw, I, O> {
  /** The type's name in messages: `IndividualEnrollment`. */
  typeName: string;
  /** The record in messages: `enrollment`. */
  noun: string;
  inputNames: readonly string[];
  /** Provider settings (beyond ProviderSettings) that `check` reads as options, not as the model. */
  settings: readonly string[];
  normalize(spec: Omit<Raw, keyof ProviderSettings>, options: CheckOptions): { inputs?: I; failures: CheckFailure[] };
  diff(olds: O, news: I): EnrollmentDiff;
  provider(ctx: ProviderContext): RecordMethods<I, O>;
  /** Heard after every diff, e.g. to warn about what a change does to devices. */
  afterDiff?(id: string, olds: O, news: I, diff: EnrollmentDiff): void;
  /** Heard before every delete. */
  beforeDelete?(id: string, props: O): void;
}

export function createProviderObject<
  Raw extends ProviderSettings,
  I extends ServiceTarget & CertificateSlots,
  O extends ServiceTarget,
>(runtime: Runtime, type: ResourceType<Raw, I, O>): ResourceProviderObject<Raw, I, O> {
  const provider = async (target: ServiceTarget) => type.provider(await runtime.context(target));
  const stored = (id: string, state: O): void =>
    refuseNewerState(
      `${type.noun} '${id}' in this stack's state`,
      (state as { providerVersion?: string }).providerVersion,
    );
  return {
    configure: (req) => runtime.configure(req),
    check: (_olds, news) => {
      // A bad provider setting (e.g. dpsOperationsPerMinute) stops the preview at its first resource, once.
      const problem = runtime.configProblem();
      if (problem !== undefined) return Promise.reject(new Error(problem));
      if (hasUnknown(news)) return Promise.resolve({ inputs: { ...news, providerVersion } as unknown as I });
      const failures: CheckFailure[] = [];
      for (const name of Object.keys(news)) {
        if (name.startsWith("__") || type.inputNames.includes(name)) continue;
        failures.push({
          property: name,
          reason: `is not an input of ${type.typeName}${didYouMean(name, type.inputNames)}`,
        });
      }
      const { adopt, linkedHubs, ownerStack, serviceHostName, serviceAccessKeyName, serviceAccessKey, ...rest } = news;
      if (ownerStack !== undefined && (typeof ownerStack !== "string" || !/^[^/]+\/[^/]+\/[^/]+$/.test(ownerStack))) {
        failures.push({ property: "ownerStack", reason: "must be <organization>/<project>/<stack>" });
      }
      const options: Record<string, unknown> = {};
      const spec: Record<string, unknown> = { ...rest };
      for (const name of type.settings) {
        options[name] = spec[name];
        delete spec[name];
      }
      const result = type.normalize(spec as Omit<Raw, keyof ProviderSettings>, {
        ...options,
        adopt: adopt === true,
        linkedHubs: linkedHubs ?? [],
      });
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
        const diff = type.diff(olds, news);
        type.afterDiff?.(id, olds, news, diff);
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
      type.beforeDelete?.(id, props);
      return (await provider(props)).delete(id, props);
    },
  };
}

export const individualEnrollmentType: ResourceType<RawInputs, EnrollmentInputs, EnrollmentOutputs> = {
  typeName: "IndividualEnrollment",
  noun: "enrollment",
  inputNames: rawInputNames,
  settings: [],
  normalize: (spec, options) => normalizeEnrollment(spec, options),
  diff: diffEnrollment,
  provider: (ctx) => new EnrollmentProvider(ctx),
};

export function createIndividualEnrollmentProvider(runtime: Runtime): IndividualEnrollmentProvider {
  return createProviderObject(runtime, individualEnrollmentType);
}
