// The review of one stack, built from a preview's engine events and its plan: which resources change how, each
// changed property old → new (computed from old and new inputs, since dynamic providers report no property diff),
// policy findings and the program's errors and warnings. Pure: the I/O is in preview-run.ts.
import { canonical } from "../../../dynamic-providers/enrollment/diff";
import {
  CertificateIndex,
  certificateInfosIn,
  certificateReference,
  certificatesInFile,
  type CertificateInfo,
} from "./certificates";
import type { EngineEvent, EventResourceState, PlanInputChanges, StepMetadata } from "./events";
import { stripAnsi } from "./text";
import { containsSecret, flattenProperties, isUnknown, type Leaf } from "./values";

export type ChangeOp = "create" | "update" | "replace" | "delete";

export type ValueView =
  | { kind: "absent" }
  | { kind: "value"; json: string }
  | { kind: "secret" }
  | { kind: "unknown" }
  | { kind: "certificate"; thumbprint: string; info?: CertificateInfo };

export interface PropertyChange {
  path: string;
  before: ValueView;
  after: ValueView;
  /** A secret on either side: the review says that it changed and nothing else. */
  secret: boolean;
  /** The provider replaces the resource because of this property. */
  forcesReplacement: boolean;
}

export interface EnrollmentIdentity {
  registrationId: string;
  /** When the registration ID changes: the old one. */
  previousRegistrationId?: string;
  attestation?: string;
  /** When the attestation type changes: the old one. */
  previousAttestation?: string;
}

export interface ResourceChange {
  op: ChangeOp;
  urn: string;
  type: string;
  /** The resource's name in the program (the URN's last part). */
  name: string;
  enrollment?: EnrollmentIdentity;
  properties: PropertyChange[];
  /** Properties that force the replacement. */
  replaceReasons: string[];
  /** A replacement that deletes the old resource before creating the new one. */
  deleteBeforeReplace: boolean;
}

export type EnforcementLevel = "mandatory" | "advisory" | "remediate" | "disabled";

export interface PolicyFinding {
  urn?: string;
  /** Registration ID or resource name; undefined for stack-level findings. */
  resource?: string;
  policy: string;
  pack: string;
  level: EnforcementLevel;
  message: string;
  /** IDs of the policy exceptions that waived it. */
  exceptions: string[];
}

export interface PolicyPackRun {
  pack: string;
  version: string;
  /** Resources the pack analyzed. */
  resources: number;
  /** Policies that ran, passed or failed. */
  policies: string[];
}

export interface Counts {
  create: number;
  update: number;
  replace: number;
  delete: number;
  unchanged: number;
}

export type StackStatus = "no-changes" | "changes" | "failed" | "policy-violation";

export interface StackReview {
  project: string;
  stack: string;
  status: StackStatus;
  /** Real (custom) resources only, not the stack or component groupings. */
  counts: Counts;
  /** Sorted by name, then URN. */
  changes: ResourceChange[];
  policies: PolicyFinding[];
  policyPacks: PolicyPackRun[];
  errors: string[];
  warnings: string[];
}

export interface PreviewOutcome {
  project: string;
  stack: string;
  /** The CLI's exit code. */
  exitCode: number;
  events: readonly EngineEvent[];
  /** From the preview's plan; absent when it wrote none (a failed preview). */
  planChanges?: PlanInputChanges;
  /** The CLI's own error output: errors before the engine ran (no such stack, a wrong passphrase) end up only here. */
  stderr: string;
}

const enforcementLevels: Record<string, EnforcementLevel> = {
  mandatory: "mandatory",
  warning: "advisory",
  advisory: "advisory",
  remediate: "remediate",
  none: "disabled",
  disabled: "disabled",
};

function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

function isProviderOrStack(type: string): boolean {
  return type.startsWith("pulumi:providers:") || type === "pulumi:pulumi:Stack";
}

function stringProperty(state: EventResourceState | null | undefined, key: string): string | undefined {
  const value = state?.inputs?.[key] ?? state?.outputs?.[key];
  return typeof value === "string" ? value : undefined;
}

/** The attestation type, read generically: an `attestationType` property, or the single key of `attestation`. */
function attestationOf(state: EventResourceState | null | undefined): string | undefined {
  const type = stringProperty(state, "attestationType");
  if (type) return type;
  const attestation = state?.inputs?.attestation;
  if (attestation !== null && typeof attestation === "object" && !Array.isArray(attestation)) {
    const keys = Object.keys(attestation);
    if (keys.length === 1) return keys[0];
  }
  return undefined;
}

/**
 * Registration ID and attestation of an enrollment, read generically from its properties. Raw X.509 inputs (before
 * the provider's check) may hold no registration ID: it is the certificate's CN, and the resource's name.
 */
function identity(
  old: EventResourceState | null | undefined,
  next: EventResourceState | null | undefined,
  name: string,
): EnrollmentIdentity | undefined {
  const before = stringProperty(old, "registrationId");
  const after = stringProperty(next, "registrationId");
  const attestation = attestationOf(next) ?? attestationOf(old);
  const registrationId = after ?? before ?? (attestation !== undefined ? name : undefined);
  if (registrationId === undefined) return undefined;
  const previousAttestation = attestationOf(old);
  return {
    registrationId,
    ...(before !== undefined && after !== undefined && before !== after ? { previousRegistrationId: before } : {}),
    ...(attestation !== undefined ? { attestation } : {}),
    ...(next && old && previousAttestation !== undefined && previousAttestation !== attestation
      ? { previousAttestation }
      : {}),
  };
}

function certificateText(value: unknown): CertificateInfo | undefined {
  if (typeof value !== "string" || value.length < 200) return undefined;
  const pem = value.includes("-----BEGIN CERTIFICATE-----");
  if (!pem && !/^[A-Za-z0-9+/=\s]+$/.test(value)) return undefined;
  const found = certificatesInFile(pem ? Buffer.from(value) : Buffer.from(value, "base64"));
  return found.length === 1 ? found[0] : undefined;
}

function view(leaf: Leaf | undefined, certificates: CertificateIndex): ValueView {
  if (leaf === undefined) return { kind: "absent" };
  if (containsSecret(leaf.value)) return { kind: "secret" };
  if (isUnknown(leaf.value)) return { kind: "unknown" };
  const thumbprint = certificateReference(leaf.value);
  if (thumbprint !== undefined) {
    const info = certificates.get(thumbprint);
    return info ? { kind: "certificate", thumbprint, info } : { kind: "certificate", thumbprint };
  }
  // Certificate text (PEM or base64 DER), as inputs hold it before the provider's check: never shown as text.
  const text = certificateText(leaf.value);
  if (text) return { kind: "certificate", thumbprint: text.sha1Thumbprint, info: text };
  return { kind: "value", json: canonical(leaf.value) };
}

/**
 * Changed properties between two input maps. Secrets read the same masked value on both sides; whether one changed
 * is the engine's word (the plan's input diff names every changed property, secrets included).
 */
export function propertyChanges(
  oldInputs: Record<string, unknown> | null | undefined,
  newInputs: Record<string, unknown> | null | undefined,
  options: {
    engineChanged?: ReadonlySet<string>;
    replaceReasons?: readonly string[];
    certificates?: CertificateIndex;
  } = {},
): PropertyChange[] {
  const certificates = options.certificates ?? new CertificateIndex();
  const before = flattenProperties(oldInputs);
  const after = flattenProperties(newInputs);
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  const changes: PropertyChange[] = [];
  for (const path of paths) {
    const old = before.get(path);
    const next = after.get(path);
    const property = (old ?? next)!.property;
    const secret =
      (old !== undefined && containsSecret(old.value)) || (next !== undefined && containsSecret(next.value));
    const changed = secret
      ? // Without the engine's word (no plan), a secret counts as changed: never claim "unchanged" unseen.
        old === undefined || next === undefined || (options.engineChanged?.has(property) ?? true)
      : old === undefined || next === undefined || canonical(old.value) !== canonical(next.value);
    if (!changed) continue;
    changes.push({
      path,
      before: view(old, certificates),
      after: view(next, certificates),
      secret,
      forcesReplacement: options.replaceReasons?.includes(property) ?? false,
    });
  }
  return changes;
}

interface UrnSteps {
  ops: string[];
  metadata: Map<string, StepMetadata>;
}

function classify(ops: readonly string[]): ChangeOp | "unchanged" | undefined {
  if (ops.some((op) => op === "replace" || op === "create-replacement" || op === "delete-replaced")) return "replace";
  if (ops.includes("create") || ops.includes("import")) return "create";
  if (ops.includes("update")) return "update";
  if (ops.includes("delete")) return "delete";
  if (ops.some((op) => op === "same" || op === "read" || op === "refresh")) return "unchanged";
  return undefined;
}

function resourceChange(
  urn: string,
  op: ChangeOp,
  steps: UrnSteps,
  planChanges: PlanInputChanges | undefined,
  certificates: CertificateIndex,
  derivedInputs: ReadonlyMap<string, ReadonlySet<string>> | undefined,
): ResourceChange {
  const main =
    steps.metadata.get(op) ??
    steps.metadata.get(op === "replace" ? "create-replacement" : op) ??
    steps.metadata.get("delete-replaced") ??
    steps.metadata.get("import")!;
  const old = op === "create" ? undefined : (main.old ?? steps.metadata.get("delete-replaced")?.old);
  const next = op === "delete" ? undefined : main.new;
  const replaceReasons =
    op === "replace" ? [...(main.keys ?? steps.metadata.get("create-replacement")?.keys ?? [])] : [];
  // The old side's certificate details are what DPS returned for it (its outputs).
  const index = certificates.with(certificateInfosIn(old?.outputs));
  const deleteIndex = steps.ops.indexOf("delete-replaced");
  const createIndex = steps.ops.indexOf("create-replacement");
  const enrollment = identity(old, next, urnName(urn));
  const derived = derivedInputs?.get(main.type);
  return {
    op,
    urn,
    type: main.type,
    name: urnName(urn),
    ...(enrollment ? { enrollment } : {}),
    properties:
      op === "delete"
        ? []
        : propertyChanges(withoutDerived(old?.inputs, derived), withoutDerived(next?.inputs, derived), {
            engineChanged: planChanges ? (planChanges.get(urn) ?? new Set()) : undefined,
            replaceReasons,
            certificates: index,
          }),
    replaceReasons,
    deleteBeforeReplace: op === "replace" && deleteIndex >= 0 && createIndex >= 0 && deleteIndex < createIndex,
  };
}

function displayName(change: { name: string; enrollment?: EnrollmentIdentity }): string {
  return change.enrollment?.registrationId ?? change.name;
}

/**
 * A diagnostic's text without colour codes and without JavaScript stack frames (and the inspected error properties
 * that follow the last frame): the message is for the reviewer, the stack for the job log.
 */
export function messageOf(text: string): string {
  const lines: string[] = [];
  let inInspectedObject = false;
  for (const line of stripAnsi(text).split("\n")) {
    if (inInspectedObject) {
      inInspectedObject = line !== "}";
    } else if (/^\s+at \S/.test(line)) {
      inInspectedObject = line.endsWith(" {");
    } else {
      lines.push(line);
    }
  }
  return lines.join("\n").replace(/\s+$/, "");
}

export interface ReviewOptions {
  /** Certificates by thumbprint, for the new side of a change (the old side's are in its outputs). */
  certificates?: CertificateIndex;
  /**
   * Per resource type, inputs a provider derives from other inputs (e.g. the enrollment's certificate validity):
   * left out of the review and the fingerprint, since the inputs they come from are there.
   */
  derivedInputs?: ReadonlyMap<string, ReadonlySet<string>>;
}

function withoutDerived(
  inputs: Record<string, unknown> | null | undefined,
  derived: ReadonlySet<string> | undefined,
): Record<string, unknown> | undefined {
  if (!inputs || !derived) return inputs ?? undefined;
  return Object.fromEntries(Object.entries(inputs).filter(([key]) => !derived.has(key)));
}

export function buildStackReview(outcome: PreviewOutcome, options: ReviewOptions = {}): StackReview {
  const certificates = options.certificates ?? new CertificateIndex();
  const byUrn = new Map<string, UrnSteps>();
  const customUrns = new Set<string>();
  const names = new Map<string, string>();
  const errors: string[] = [];
  const warnings: string[] = [];
  // What programs and plugins wrote to stderr: the cause when a policy pack or the program fails to start.
  const stderrMessages: string[] = [];
  const policies: PolicyFinding[] = [];
  const packs = new Map<string, { version: string; resources: Set<string>; policies: Set<string> }>();

  for (const event of outcome.events) {
    const metadata = event.resourcePreEvent?.metadata;
    if (metadata && !isProviderOrStack(metadata.type)) {
      const steps: UrnSteps = byUrn.get(metadata.urn) ?? { ops: [], metadata: new Map<string, StepMetadata>() };
      steps.ops.push(metadata.op);
      steps.metadata.set(metadata.op, metadata);
      byUrn.set(metadata.urn, steps);
      if (metadata.new?.custom || metadata.old?.custom) customUrns.add(metadata.urn);
      // The new side names the resource (a replacement's delete-replaced step shows only the old registration ID).
      if (metadata.new || !names.has(metadata.urn)) {
        const id = identity(metadata.old, metadata.new, urnName(metadata.urn));
        names.set(metadata.urn, id?.registrationId ?? urnName(metadata.urn));
      }
    }
    const diagnostic = event.diagnosticEvent;
    if (diagnostic && !diagnostic.ephemeral && (diagnostic.severity === "error" || diagnostic.severity === "warning")) {
      const where = diagnostic.urn && !diagnostic.urn.includes("pulumi:pulumi:Stack") ? diagnostic.urn : undefined;
      const text = messageOf(diagnostic.message);
      const line = where ? `${names.get(where) ?? urnName(where)}: ${text}` : text;
      const list = diagnostic.severity === "error" ? errors : warnings;
      if (text !== "" && !list.includes(line)) list.push(line);
    }
    if (diagnostic && !diagnostic.ephemeral && diagnostic.severity === "info#err") {
      const text = messageOf(diagnostic.message);
      if (text !== "") stderrMessages.push(text);
    }
    const policy = event.policyEvent;
    if (policy) {
      const urn = policy.resourceUrn || undefined;
      policies.push({
        ...(urn ? { urn, resource: names.get(urn) ?? urnName(urn) } : {}),
        policy: policy.policyName,
        pack: policy.policyPackName,
        level: enforcementLevels[policy.enforcementLevel] ?? "advisory",
        message: messageOf(policy.message),
        exceptions: (policy.exceptions ?? []).map((e) => e.id),
      });
    }
    const summary = event.policyAnalyzeSummaryEvent;
    if (summary) {
      const pack = packs.get(summary.policyPackName) ?? {
        version: summary.policyPackVersion,
        resources: new Set<string>(),
        policies: new Set<string>(),
      };
      pack.resources.add(summary.resourceUrn);
      for (const name of [...(summary.passed ?? []), ...(summary.failed ?? [])]) pack.policies.add(name);
      packs.set(summary.policyPackName, pack);
    }
  }

  // Errors that happened before the engine ran (no such stack, no passphrase) reach only the CLI's own output.
  if (outcome.exitCode !== 0) {
    if (stderrMessages.length > 0) errors.push(stderrMessages.join("\n"));
    for (const line of stripAnsi(outcome.stderr).split("\n")) {
      const match = /^error: (.+)$/.exec(line.trim());
      if (match && !errors.some((e) => e.includes(match[1]))) errors.push(match[1]);
    }
    if (errors.length === 0) errors.push(`pulumi preview exited with code ${outcome.exitCode}`);
  }

  const counts: Counts = { create: 0, update: 0, replace: 0, delete: 0, unchanged: 0 };
  const changes: ResourceChange[] = [];
  for (const [urn, steps] of byUrn) {
    if (!customUrns.has(urn)) continue;
    const op = classify(steps.ops);
    if (op === undefined) continue;
    counts[op]++;
    if (op !== "unchanged") {
      changes.push(resourceChange(urn, op, steps, outcome.planChanges, certificates, options.derivedInputs));
    }
  }
  changes.sort((a, b) => displayName(a).localeCompare(displayName(b)) || a.urn.localeCompare(b.urn));
  for (const finding of policies) {
    if (finding.urn) finding.resource = names.get(finding.urn) ?? urnName(finding.urn);
  }
  policies.sort(
    (a, b) =>
      (a.resource ?? "").localeCompare(b.resource ?? "") ||
      a.policy.localeCompare(b.policy) ||
      a.message.localeCompare(b.message),
  );

  const violated = policies.some((p) => p.level === "mandatory" && p.exceptions.length === 0);
  const status: StackStatus =
    outcome.exitCode !== 0 ? (violated ? "policy-violation" : "failed") : changes.length > 0 ? "changes" : "no-changes";
  return {
    project: outcome.project,
    stack: outcome.stack,
    status,
    counts,
    changes,
    policies,
    policyPacks: [...packs.entries()]
      .map(([pack, run]) => ({
        pack,
        version: run.version,
        resources: run.resources.size,
        policies: [...run.policies].sort(),
      }))
      .sort((a, b) => a.pack.localeCompare(b.pack)),
    errors,
    warnings,
  };
}

/** Deletes and replacements: what removes an enrollment from DPS. */
export function destructiveChanges(review: StackReview): ResourceChange[] {
  return review.changes.filter((c) => c.op === "delete" || c.op === "replace");
}
