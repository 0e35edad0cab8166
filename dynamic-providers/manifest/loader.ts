// The enrollment manifest (e.g. stacks/<stack>/enrollments.yaml): its structure checked against
// enrollments.schema.json, the `defaults:` merge, certificate paths relative to the manifest, keys as references to
// secret stack config, and the DPS rules of `check` — every problem at once, each as `file:line:column: entry:
// field: reason`. Pure apart from reading the manifest and its certificate files.
import * as fs from "node:fs";
import * as path from "node:path";

import { LineCounter, parseDocument, type Document } from "yaml";

import {
  certificateCommonName,
  isPlainObject,
  normalizeEnrollment,
  normalizeGroup,
  parseCertificateText,
  tpmGroupReason,
  type CheckFailure,
} from "../enrollment/normalize";
import type { EnrollmentSpec, GroupSpec } from "../enrollment/types";
import { entryModel, groupEntryModel, groupManifestFields, manifestPath, type SecretRef } from "./entries";
import { SourcePositions, type Path, type Position } from "./positions";
import { schemaProblems } from "./schema";

export type { SecretRef } from "./entries";

/** One manifest entry once loaded: the model with certificate text read, and key references still unresolved. */
export interface ManifestEntry {
  /** Where it came from, for messages: `individualEnrollments[2] (mydevice)`. */
  label: string;
  registrationId: string;
  spec: EnrollmentSpec<SecretRef>;
  adopt: boolean;
}

/** One enrollment group of a manifest once loaded, as ManifestEntry is for individual enrollments. */
export interface ManifestGroupEntry {
  /** Where it came from, for messages: `enrollmentGroups[0] (x509-devices)`. */
  label: string;
  enrollmentGroupId: string;
  spec: GroupSpec<SecretRef>;
  adopt: boolean;
}

/** Everything a manifest declares. */
export interface LoadedManifest {
  individualEnrollments: ManifestEntry[];
  enrollmentGroups: ManifestGroupEntry[];
}

/** Every problem of a manifest, each `file:line:column: entry: field: reason`. */
export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    super(`the enrollment manifest has ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
    this.name = "ManifestError";
  }
}

export interface LoadOptions {
  linkedHubs?: readonly string[];
  /** Hub name → host name: `iotHubs:` entries may name a hub by its name instead of its host name. */
  hubNames?: Readonly<Record<string, string>>;
  /** Display name of the manifest in messages (defaults to its path). */
  displayName?: string;
  /** Names of the CA certificates the DPS holds, when the program knows them: groups' CA references are checked. */
  caCertificateNames?: readonly string[];
}

/** The problems found so far, each at its place, sorted by place when reported. */
class Problems {
  private readonly list: (Position & { text: string })[] = [];

  constructor(private readonly name: string) {}

  at(position: Position, message: string): void {
    this.list.push({ ...position, text: `${this.name}:${position.line}:${position.column}: ${message}` });
  }

  /** Throws them all when there are any. */
  report(): void {
    if (this.list.length === 0) return;
    this.list.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new ManifestError(this.list.map((p) => p.text));
  }
}

function fieldName(steps: Path): string {
  return steps.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/** Certificate text: PEM as it is, anything else (a DER .cer) as base64 of its bytes. */
function readCertificate(file: string): string {
  const bytes = fs.readFileSync(file);
  const text = bytes.toString("utf8");
  return text.includes("-----BEGIN") ? text : bytes.toString("base64");
}

/** Whether one path is the other or inside it. */
function related(a: Path, b: Path): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return short.every((step, i) => step === long[i]);
}

/** The YAML document, or its syntax problems. */
function parse(text: string, problems: Problems): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  for (const error of doc.errors) {
    const { line, col } = lines.linePos(error.pos[0]);
    problems.at({ line, column: col }, error.message.split("\n")[0]);
  }
  problems.report();
  return { doc, lines };
}

/** An entry's registration ID as written, or its certificate's CN, when known. */
function knownId(raw: unknown, file: string): string | undefined {
  if (!isPlainObject(raw)) return undefined;
  if (typeof raw.registrationId === "string") return raw.registrationId;
  const x509 = isPlainObject(raw.attestation) && isPlainObject(raw.attestation.x509) ? raw.attestation.x509 : {};
  if (typeof x509.primaryCertificate !== "string") return undefined;
  try {
    const cert = parseCertificateText(readCertificate(path.resolve(path.dirname(file), x509.primaryCertificate)));
    return (cert && certificateCommonName(cert)?.toLowerCase()) || undefined;
  } catch {
    return undefined;
  }
}

/** The individual enrollments of a manifest (every problem of its groups reported too). */
export function loadManifest(file: string, options: LoadOptions = {}): ManifestEntry[] {
  return loadEnrollmentManifest(file, options).individualEnrollments;
}

/** How one list of the manifest is labelled and checked. */
interface ListKind<E> {
  key: "individualEnrollments" | "enrollmentGroups";
  idField: string;
  /** An entry's ID as written (or derived), when known. */
  knownId(raw: unknown): string | undefined;
  /** The fields `defaults:` may give this list's entries. */
  defaultFields?: readonly string[];
  check(merged: Record<string, unknown>, problem: (field: Path, reason: string) => void): Omit<E, "label"> | undefined;
}

export function loadEnrollmentManifest(file: string, options: LoadOptions = {}): LoadedManifest {
  const problems = new Problems(options.displayName ?? file);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ManifestError([`${options.displayName ?? file}: cannot read the manifest (${errorCode(err)})`]);
  }
  const { doc, lines } = parse(text, problems);
  const positions = new SourcePositions(doc, lines);
  const content: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (!isPlainObject(content)) {
    problems.at({ line: 1, column: 1 }, "expected a mapping with individualEnrollments: (and optionally defaults:)");
    problems.report();
    return { individualEnrollments: [], enrollmentGroups: [] };
  }
  const manifest = content;
  const defaults = isPlainObject(content.defaults) ? content.defaults : {};
  const schemaPaths: Path[] = [];
  const individual: ListKind<ManifestEntry> = {
    key: "individualEnrollments",
    idField: "registrationId",
    knownId: (raw) => knownId(raw, file),
    check: (merged, problem) => checkEntry(merged, file, options, problem),
  };
  const groups: ListKind<ManifestGroupEntry> = {
    key: "enrollmentGroups",
    idField: "enrollmentGroupId",
    knownId: (raw) =>
      isPlainObject(raw) && typeof raw.enrollmentGroupId === "string" ? raw.enrollmentGroupId : undefined,
    defaultFields: groupManifestFields,
    check: (merged, problem) => checkGroupEntry(merged, file, options, problem),
  };
  const labelsOf = <E>(kind: ListKind<E>): string[] =>
    (Array.isArray(manifest[kind.key]) ? (manifest[kind.key] as unknown[]) : []).map((raw, index) => {
      const id = kind.knownId(raw);
      return `${kind.key}[${index}]${id === undefined ? "" : ` (${id})`}`;
    });
  const labels = { individualEnrollments: labelsOf(individual), enrollmentGroups: labelsOf(groups) };

  // 1. Structure, from the schema.
  for (const problem of schemaProblems(content)) {
    const steps = problem.path;
    const where =
      problem.at === "parent"
        ? positions.position(steps.slice(0, -1))
        : positions.position(steps, { key: problem.at === "key" });
    const list = steps[0] === "individualEnrollments" || steps[0] === "enrollmentGroups" ? steps[0] : undefined;
    const [scope, field] =
      list !== undefined && typeof steps[1] === "number"
        ? [`${labels[list][steps[1]]}: `, steps.slice(2)]
        : steps[0] === "defaults"
          ? ["defaults: ", steps.slice(1)]
          : ["", steps];
    problems.at(where, `${scope}${field.length > 0 ? `${fieldName(field)}: ` : ""}${problem.reason}`);
    schemaPaths.push(steps);
  }

  /** 2 and 3 for one list: one entry per ID, then the rules of DPS in code, per entry as `defaults:` complete it. */
  function entriesOf<E>(kind: ListKind<E>): E[] {
    const list = Array.isArray(manifest[kind.key]) ? (manifest[kind.key] as unknown[]) : [];
    const listLabels = labels[kind.key];
    // DPS compares IDs case-insensitively, whatever else is wrong.
    const seen = new Map<string, number>();
    list.forEach((raw, index) => {
      const id = kind.knownId(raw);
      if (id === undefined) return;
      const previous = seen.get(id.toLowerCase());
      if (previous === undefined) {
        seen.set(id.toLowerCase(), index);
        return;
      }
      const where = positions.depth([kind.key, index, kind.idField]) === 3 ? [kind.idField] : [];
      problems.at(
        positions.position([kind.key, index, ...where]),
        `${listLabels[index]}: ${kind.idField}: '${id.toLowerCase()}' is also used by ${listLabels[previous]} ` +
          `(line ${positions.position([kind.key, previous]).line})`,
      );
    });

    const allowed = kind.defaultFields;
    const listDefaults = allowed
      ? Object.fromEntries(Object.entries(defaults).filter(([k]) => allowed.includes(k)))
      : defaults;
    const entries: E[] = [];
    list.forEach((raw, index) => {
      if (!isPlainObject(raw)) return;
      const entryPath: Path = [kind.key, index];
      /** Where a field of the merged entry is written: in the entry, else in `defaults:` (else, the entry). */
      const written = (field: Path): Path =>
        positions.depth([...entryPath, field[0]]) < entryPath.length + 1 &&
        positions.depth(["defaults", field[0]]) === 2
          ? ["defaults", ...field]
          : [...entryPath, ...field];
      // A field already reported (by the schema, or here) is not reported again from another angle.
      const reported = [...schemaPaths];
      const problem = (field: Path, reason: string): void => {
        const place = written(field);
        if (reported.some((other) => related(other, place))) return;
        reported.push(place);
        problems.at(positions.position(place), `${listLabels[index]}: ${fieldName(field)}: ${reason}`);
      };
      const checked = kind.check({ ...listDefaults, ...raw }, problem);
      // Any problem anywhere throws below: entries are returned only when there is none.
      if (checked) entries.push({ label: listLabels[index], ...checked } as E);
    });
    return entries;
  }
  const loaded = { individualEnrollments: entriesOf(individual), enrollmentGroups: entriesOf(groups) };
  problems.report();
  return loaded;
}

/** Certificate text for a path of the manifest, or a problem saying why it cannot be read. */
function certificateReader(file: string, problem: (field: Path, reason: string) => void) {
  return (field: Path, certificate: string): string | undefined => {
    try {
      return readCertificate(path.resolve(path.dirname(file), certificate));
    } catch (err) {
      problem(field, `cannot read ${certificate} (${errorCode(err)})`);
      return undefined;
    }
  };
}

/** `check`'s failures as problems at the manifest fields they come from. */
function reportFailures(
  failures: CheckFailure[],
  group: boolean,
  problem: (field: Path, reason: string) => void,
): void {
  for (const failure of failures) {
    // The model's attestationType is the manifest's attestation: missing, when the schema had nothing to say, or
    // (a group's) tpm, refused with its reason.
    const tpmGroup = failure.reason === tpmGroupReason;
    const field = tpmGroup ? ["attestation", "tpm"] : manifestPath(failure.property, group);
    const reason =
      failure.property === "attestationType" && !tpmGroup
        ? `is required (${group ? "x509 or symmetricKey" : "x509, tpm or symmetricKey"})`
        : failure.reason;
    problem(failure.index === undefined ? field : [...field, failure.index], reason);
  }
}

/** Hub names resolved to host names (anything with a dot is a host name, checked against linkedHubs later). */
function resolveHubNames(
  merged: Record<string, unknown>,
  options: LoadOptions,
  problem: (field: Path, reason: string) => void,
): void {
  const hubNames = options.hubNames;
  if (!hubNames || !Array.isArray(merged.iotHubs)) return;
  merged.iotHubs = (merged.iotHubs as unknown[]).map((hub, i) => {
    if (typeof hub !== "string" || hub.includes(".")) return hub;
    const hostName = Object.hasOwn(hubNames, hub) ? hubNames[hub] : undefined;
    if (hostName === undefined) {
      problem(["iotHubs", i], `unknown hub '${hub}' (this stack's hubs: ${Object.keys(hubNames).join(", ")})`);
    }
    return hostName ?? hub;
  });
}

/** A group entry (defaults merged) as the model, when the rules of DPS in code find nothing wrong with it. */
function checkGroupEntry(
  merged: Record<string, unknown>,
  file: string,
  options: LoadOptions,
  problem: (field: Path, reason: string) => void,
): Omit<ManifestGroupEntry, "label"> | undefined {
  resolveHubNames(merged, options, problem);
  const { spec, adopt } = groupEntryModel(merged, certificateReader(file, problem));
  // Keys are references here: `check` sees them, and their format, once the program resolves them.
  const keyless = { ...spec, primaryKey: undefined, secondaryKey: undefined };
  const checked = normalizeGroup(keyless, {
    linkedHubs: options.linkedHubs,
    caReferences: options.caCertificateNames,
  });
  reportFailures(checked.failures, true, problem);
  return checked.inputs && { enrollmentGroupId: checked.inputs.enrollmentGroupId, spec, adopt };
}

/** An entry (defaults merged) as the model, when the rules of DPS in code find nothing wrong with it. */
function checkEntry(
  merged: Record<string, unknown>,
  file: string,
  options: LoadOptions,
  problem: (field: Path, reason: string) => void,
): Omit<ManifestEntry, "label"> | undefined {
  resolveHubNames(merged, options, problem);
  const { spec, adopt } = entryModel(merged, certificateReader(file, problem));
  // Keys are references here: `check` sees them, and their format, once the program resolves them.
  const keyless = { ...spec, primaryKey: undefined, secondaryKey: undefined };
  const checked = normalizeEnrollment(keyless, { linkedHubs: options.linkedHubs });
  reportFailures(checked.failures, false, problem);
  return checked.inputs && { registrationId: checked.inputs.registrationId, spec, adopt };
}
