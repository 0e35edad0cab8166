// The review of stacks: for each, the emulator when its platform needs one, a preview, and the model built from it.
// The library behind `npm run review` and `npm run deploy`; tests call it with a scratch project and environment.
import * as fs from "node:fs";
import * as path from "node:path";

import { propertyPolicies } from "../../../dynamic-providers/enrollment/properties";
import {
  describeCertificate,
  ensureDevCertificates,
  localCertificateStoreIn,
  localDevices,
  localGroupDevices,
} from "../../dev-certs";
import { ensureEmulator } from "../emulator";
import { CertificateIndex } from "./certificates";
import { buildStackReview, type StackReview } from "./model";
import { readStackSettings, scanCertificateFiles, type StackSettings } from "./project-files";
import { ensureStack, runPreview } from "./pulumi-run";

/** Inputs the enrollment provider derives in `check` (its property table's "computed" entries), by type token. */
const derivedInputs = new Map([
  [
    "pulumi-nodejs:dynamic/dps:IndividualEnrollment",
    new Set(Object.entries(propertyPolicies).flatMap(([key, policy]) => (policy === "computed" ? [key] : []))),
  ],
]);

export interface ReviewEnvironment {
  /** The Pulumi project directory. */
  workDir: string;
  /** Environment of the CLI runs (backend, passphrase, …). */
  env: NodeJS.ProcessEnv;
  /** Progress messages (the CLI writes them to stderr). */
  log?: (line: string) => void;
}

export interface StackPreview {
  settings: StackSettings;
  /** The environment the stack's CLI runs use (the `local` stack's backend is the checkout's). */
  env: NodeJS.ProcessEnv;
  review: StackReview;
  /** The preview's plan, when `planFile` was asked for and the preview succeeded. */
  planFile?: string;
}

/**
 * The `local` stack lives in the checkout's file backend, as `npm start` keeps it (scripts/toolchain.sh,
 * dps::use_local_backend): it describes this machine's emulator, and a team-wide one in PULUMI_BACKEND_URL's shared
 * state would have every checkout overwrite the others'.
 */
function localStackEnv(workDir: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const backend = path.join(workDir, ".pulumi-state");
  fs.mkdirSync(backend, { recursive: true });
  return { ...env, PULUMI_BACKEND_URL: `file://${backend}` };
}

/** Previews one stack and builds its review. */
export async function previewStack(
  stack: string,
  environment: ReviewEnvironment,
  planFile?: string,
): Promise<StackPreview> {
  const { workDir } = environment;
  const log = environment.log ?? (() => undefined);
  const settings = readStackSettings(workDir, stack);
  const env = stack === "local" ? localStackEnv(workDir, environment.env) : environment.env;
  if (stack === "local") {
    // The local manifest references the checkout's development certificates, which git ignores: a fresh clone (a CI
    // runner) has none until they are made, as npm start makes them.
    const made = ensureDevCertificates(localCertificateStoreIn(workDir), {
      devices: localDevices,
      groupDevices: localGroupDevices,
    }).filter((c) => c.created);
    for (const c of made) log(`development certificate ${describeCertificate(c)}`);
  }
  if (settings.platform === "emulator") {
    await ensureEmulator(settings.emulatorDataDir, log);
    // The emulator's state is disposable: a fresh checkout (a CI runner) previews against a new stack.
    if (await ensureStack(settings, workDir, env)) log(`created stack ${stack} (platform emulator)`);
  }
  log(`pulumi preview --stack ${stack}`);
  const run = await runPreview(settings, { workDir, env, planFile });
  const certificates = new CertificateIndex(
    scanCertificateFiles([workDir, ...(settings.manifest ? [path.dirname(settings.manifest)] : [])]),
  );
  const review = buildStackReview(run, { certificates, derivedInputs });
  return { settings, env, review, ...(run.planFile ? { planFile: run.planFile } : {}) };
}

/** Previews the stacks one after the other (they may share an emulator and a backend lock). */
export async function reviewStacks(stacks: readonly string[], environment: ReviewEnvironment): Promise<StackReview[]> {
  const reviews: StackReview[] = [];
  for (const stack of stacks) reviews.push((await previewStack(stack, environment)).review);
  return reviews;
}
