// The provider as the dynamic-provider host runs it: configure() resolves the DPS connection from the stack config,
// check and diff are the pure functions, the CRUD methods delegate to EnrollmentProvider. Loaded at run time by
// packages/enrollment-provider, so changing this code never changes the serialized provider in the state.
import * as path from "node:path";

import type * as pulumi from "@pulumi/pulumi";

import { createServiceClient } from "../service-client";
import { CertificateStash, certificateValidity } from "./certificates";
import { resolveConnection, resolveServiceTarget, type ConfigGetter } from "./connection";
import { diffEnrollment } from "./diff";
import { CreateJournal } from "./journal";
import { normalizeEnrollment, normalizeServiceTarget, type ServiceTarget } from "./normalize";
import { EnrollmentProvider } from "./provider";
import type { EnrollmentInputs, EnrollmentOutputs, EnrollmentSpec } from "./types";

/** The resource's raw inputs: the spec plus the provider's own settings. */
export type RawInputs = EnrollmentSpec &
  ServiceTarget & {
    adopt?: boolean;
    linkedHubs?: string[];
    primaryKey?: string;
    secondaryKey?: string;
  };

/** Pulumi's marker for a value not known during preview. */
const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function hasUnknown(value: unknown): boolean {
  return JSON.stringify(value ?? null).includes(unknown);
}

export interface Runtime {
  configure(req: { config: { get(key: string): string | undefined } }): Promise<void>;
  check(olds: RawInputs, news: RawInputs): Promise<pulumi.dynamic.CheckResult>;
  diff(id: string, olds: EnrollmentOutputs, news: EnrollmentInputs): Promise<pulumi.dynamic.DiffResult>;
  create(inputs: EnrollmentInputs): Promise<pulumi.dynamic.CreateResult>;
  read(id: string, props: EnrollmentOutputs): Promise<pulumi.dynamic.ReadResult>;
  update(id: string, olds: EnrollmentOutputs, news: EnrollmentInputs): Promise<pulumi.dynamic.UpdateResult>;
  delete(id: string, props: EnrollmentOutputs): Promise<void>;
}

export function createRuntime(projectDir: string = process.cwd()): Runtime {
  let get: ConfigGetter = () => undefined;
  const certificates = new CertificateStash();
  const journal = new CreateJournal(path.join(projectDir, ".dps-enrollments", "create-journal.jsonl"));
  // One provider (and client) per DPS and credentials: the stack's configured one, and any named by resources.
  const providers = new Map<string, Promise<EnrollmentProvider>>();
  const providerFor = (target: ServiceTarget): Promise<EnrollmentProvider> => {
    const key = target.serviceHostName
      ? `${target.serviceHostName}\n${target.serviceAccessKeyName ?? ""}\n${target.serviceAccessKey ?? ""}`
      : "";
    let provider = providers.get(key);
    if (!provider) {
      provider = (async () => {
        const options = target.serviceHostName
          ? await resolveServiceTarget(get, projectDir, {
              hostName: target.serviceHostName,
              accessKeyName: target.serviceAccessKeyName,
              accessKey: target.serviceAccessKey,
            })
          : await resolveConnection(get, projectDir);
        const client = createServiceClient(options);
        return new EnrollmentProvider({ client: () => client, journal, certificates });
      })();
      // A failed connection (e.g. bad config) is reported by every call, not cached.
      provider.catch(() => providers.delete(key));
      providers.set(key, provider);
    }
    return provider;
  };

  return {
    configure: (req) => {
      get = (key) => req.config.get(key);
      return Promise.resolve();
    },
    check: (_olds, news) => {
      if (hasUnknown(news)) return Promise.resolve({ inputs: news });
      const {
        adopt,
        linkedHubs,
        primaryKey,
        secondaryKey,
        serviceHostName,
        serviceAccessKeyName,
        serviceAccessKey,
        ...spec
      } = news;
      const attestation: unknown = spec.attestation;
      const symmetric = typeof attestation === "object" && attestation !== null && "symmetricKey" in attestation;
      if (symmetric && (primaryKey !== undefined || secondaryKey !== undefined)) {
        spec.attestation = { symmetricKey: { primaryKey, secondaryKey } };
      }
      const result = normalizeEnrollment(spec, { adopt: adopt === true, linkedHubs: linkedHubs ?? [] });
      const service = normalizeServiceTarget({ serviceHostName, serviceAccessKeyName, serviceAccessKey });
      const failures = [...result.failures, ...service.failures];
      if (!result.inputs || failures.length > 0) return Promise.resolve({ failures });
      const validity = certificateValidity(result.inputs);
      const inputs = { ...result.inputs, ...service.target, ...(validity ? { certificateValidity: validity } : {}) };
      return Promise.resolve({ inputs: certificates.stash(inputs) });
    },
    diff: (_id, olds, news) => {
      const diff = diffEnrollment(olds, news);
      return Promise.resolve({
        changes: diff.changes,
        replaces: diff.replaces,
        deleteBeforeReplace: diff.deleteBeforeReplace,
      });
    },
    create: async (inputs) => (await providerFor(inputs)).create(inputs),
    read: async (id, props) => (await providerFor(props)).read(id, props),
    update: async (id, olds, news) => (await providerFor(news)).update(id, olds, news),
    delete: async (id, props) => (await providerFor(props)).delete(id, props),
  };
}

const runtimes = new Map<string, Runtime>();

/**
 * One runtime per project directory and process. Pulumi deserializes each provider method with its own copy of the
 * captured variables, so the shim's methods share state only through this module (Node's module cache).
 */
export function sharedRuntime(projectDir: string): Runtime {
  let runtime = runtimes.get(projectDir);
  if (!runtime) {
    runtime = createRuntime(projectDir);
    runtimes.set(projectDir, runtime);
  }
  return runtime;
}
