// What every resource type of this package shares in one provider process: the stack configuration (handed over by
// `configure`, read in the package's fixed namespace), one DPS client per DPS and credentials, one pacer per DPS
// (pacing.ts: every request of every client to that DPS waits for it), the retry policy, the certificate stash
// between `check` and `create`/`update`. A resource type's provider (individual-enrollment-provider.ts; an
// enrollment group's next to it) takes its context from here.
import { createServiceClient, serviceHostName } from "../service-client";
import { CertificateStash } from "./certificates";
import { resolveConnection, resolveServiceTarget, type ConfigGetter } from "./connection";
import type { ServiceTarget } from "./normalize";
import { configuredOperationsPerMinute, defaultStallMs, PacerRegistry, pacingSummary } from "./pacing";
import type { ProviderContext } from "./provider";
import { defaultRetry, type RetryOptions } from "./retry";

/**
 * The namespace of the stack configuration the provider reads (`dps-enrollments:platform`, …), whatever the
 * consuming project is called: this project is named so, so its stack files need no change.
 */
export const configNamespace = "dps-enrollments";

/** The config a dynamic provider's `configure` receives (keys with a namespace are read as they are). */
export interface ProviderConfig {
  get(key: string): string | undefined;
}

export interface Runtime {
  configure(req: { config: ProviderConfig }): Promise<void>;
  /** The context of the DPS a resource names (`serviceHostName`), or of the stack's configured one. */
  context(target: ServiceTarget): Promise<ProviderContext>;
  /** Certificate text behind the `sha1:` references `check` puts in the inputs. */
  readonly certificates: CertificateStash;
  /** What is wrong with the provider's configuration (e.g. `dpsOperationsPerMinute`), for `check` to report. */
  configProblem(): string | undefined;
  /** The pacers of the DPSs this process has talked to. */
  pacers(): PacerRegistry;
}

export interface RuntimeOptions {
  retry?: RetryOptions;
  log?: (message: string) => void;
  /** How long a DPS may answer only 429 before an operation fails (default `defaultStallMs`). */
  stallMs?: number;
  /** Print the pacing figures when the process is ended (the provider process's runtime). */
  reportPacing?: boolean;
}

/** A runtime whose relative paths (config files) are anchored at `programDir`. */
export function createRuntime(programDir: string = process.cwd(), options: RuntimeOptions = {}): Runtime {
  let get: ConfigGetter = () => undefined;
  let pacers = new PacerRegistry(configuredOperationsPerMinute(get));
  let problem: string | undefined;
  let reporting = false;
  const certificates = new CertificateStash();
  const contexts = new Map<string, Promise<ProviderContext>>();
  return {
    certificates,
    configProblem: () => problem,
    pacers: () => pacers,
    configure: (req) => {
      get = (key) => req.config.get(`${configNamespace}:${key}`);
      contexts.clear();
      // Never a throw: the dynamic-provider host would not call configure again. check reports the problem.
      try {
        const perMinute = configuredOperationsPerMinute(get);
        problem = undefined;
        // Each resource type's provider object configures the runtime; the DPSs keep their pacers.
        if (pacers.perMinute !== perMinute) pacers = new PacerRegistry(perMinute);
      } catch (err) {
        problem = (err as Error).message;
      }
      return Promise.resolve();
    },
    context: (target) => {
      const key = target.serviceHostName
        ? `${target.serviceHostName}\n${target.serviceAccessKeyName ?? ""}\n${target.serviceAccessKey ?? ""}`
        : "";
      let context = contexts.get(key);
      if (!context) {
        context = (async (): Promise<ProviderContext> => {
          if (problem !== undefined) throw new Error(problem);
          const registry = pacers;
          const clientOptions = target.serviceHostName
            ? await resolveServiceTarget(get, programDir, {
                hostName: target.serviceHostName,
                accessKeyName: target.serviceAccessKeyName,
                accessKey: target.serviceAccessKey,
              })
            : await resolveConnection(get, programDir);
          const pacer = registry.get(serviceHostName(clientOptions));
          if (options.reportPacing && !reporting) {
            reporting = true;
            reportPacingAtEnd(() => pacers);
          }
          const client = createServiceClient({
            ...clientOptions,
            pacing: { pacer, stallMs: options.stallMs ?? defaultStallMs },
          });
          return {
            client: () => client,
            certificates,
            retry: options.retry ?? defaultRetry,
            log: options.log,
          };
        })();
        // A failed connection (e.g. bad config) is reported by every call, not cached.
        context.catch(() => contexts.delete(key));
        contexts.set(key, context);
      }
      return context;
    },
  };
}

let shared: Runtime | undefined;

/**
 * The provider process's runtime: every resource type's provider object, and every resource, shares it (Node's
 * module cache makes this module one per process). The engine starts the provider in the program's directory.
 */
export function sharedRuntime(): Runtime {
  shared ??= createRuntime(process.cwd(), { reportPacing: true });
  return shared;
}

/**
 * Prints each DPS's pacing figures to stderr when the engine ends the provider (SIGINT at the end of a run), which
 * the CLI shows for dynamic providers. Installed only once a DPS is used, so the program process, which loads this
 * package too, keeps Node's own SIGINT behaviour.
 */
function reportPacingAtEnd(pacers: () => PacerRegistry): void {
  process.once("SIGINT", () => {
    for (const line of pacingSummary(pacers().stats())) process.stderr.write(`${line}\n`);
    process.exit(0);
  });
}
