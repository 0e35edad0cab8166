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
  parseCertificateText,
} from "../enrollment/normalize";
import type { EnrollmentSpec } from "../enrollment/types";
import { entryModel, manifestPath, type SecretRef } from "./entries";
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

export function loadManifest(file: string, options: LoadOptions = {}): ManifestEntry[] {
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
    return [];
  }
  const list = Array.isArray(content.individualEnrollments) ? (content.individualEnrollments as unknown[]) : [];
  const ids = list.map((raw) => knownId(raw, file));
  const labels = ids.map((id, index) => `individualEnrollments[${index}]${id === undefined ? "" : ` (${id})`}`);

  // 1. Structure, from the schema.
  const schemaPaths: Path[] = [];
  for (const problem of schemaProblems(content)) {
    const steps = problem.path;
    const where =
      problem.at === "parent"
        ? positions.position(steps.slice(0, -1))
        : positions.position(steps, { key: problem.at === "key" });
    const inEntry = steps[0] === "individualEnrollments" && typeof steps[1] === "number";
    const [scope, field] = inEntry
      ? [`${labels[steps[1] as number]}: `, steps.slice(2)]
      : steps[0] === "defaults"
        ? ["defaults: ", steps.slice(1)]
        : ["", steps];
    problems.at(where, `${scope}${field.length > 0 ? `${fieldName(field)}: ` : ""}${problem.reason}`);
    schemaPaths.push(steps);
  }

  // 2. One enrollment per registration ID (DPS compares them case-insensitively), whatever else is wrong.
  const seen = new Map<string, number>();
  ids.forEach((id, index) => {
    if (id === undefined) return;
    const previous = seen.get(id.toLowerCase());
    if (previous === undefined) {
      seen.set(id.toLowerCase(), index);
      return;
    }
    const where = positions.depth(["individualEnrollments", index, "registrationId"]) === 3 ? ["registrationId"] : [];
    problems.at(
      positions.position(["individualEnrollments", index, ...where]),
      `${labels[index]}: registrationId: '${id.toLowerCase()}' is also used by ${labels[previous]} ` +
        `(line ${positions.position(["individualEnrollments", previous]).line})`,
    );
  });

  // 3. The rules of DPS (and of files and names) in code, per entry as `defaults:` complete it.
  const defaults = isPlainObject(content.defaults) ? content.defaults : {};
  const entries: ManifestEntry[] = [];
  list.forEach((raw, index) => {
    if (!isPlainObject(raw)) return;
    const entryPath: Path = ["individualEnrollments", index];
    /** Where a field of the merged entry is written: in the entry, else in `defaults:` (else, the entry). */
    const written = (field: Path): Path =>
      positions.depth([...entryPath, field[0]]) < entryPath.length + 1 && positions.depth(["defaults", field[0]]) === 2
        ? ["defaults", ...field]
        : [...entryPath, ...field];
    // A field already reported (by the schema, or here) is not reported again from another angle.
    const reported = [...schemaPaths];
    const problem = (field: Path, reason: string): void => {
      const place = written(field);
      if (reported.some((other) => related(other, place))) return;
      reported.push(place);
      problems.at(positions.position(place), `${labels[index]}: ${fieldName(field)}: ${reason}`);
    };
    const checked = checkEntry({ ...defaults, ...raw }, file, options, problem);
    // Any problem anywhere throws below: entries are returned only when there is none.
    if (checked) entries.push({ label: labels[index], ...checked });
  });
  problems.report();
  return entries;
}

/** An entry (defaults merged) as the model, when the rules of DPS in code find nothing wrong with it. */
function checkEntry(
  merged: Record<string, unknown>,
  file: string,
  options: LoadOptions,
  problem: (field: Path, reason: string) => void,
): Omit<ManifestEntry, "label"> | undefined {
  const hubNames = options.hubNames;
  if (hubNames && Array.isArray(merged.iotHubs)) {
    // A name resolves to its host name; anything with a dot is a host name, checked against linkedHubs below.
    merged.iotHubs = (merged.iotHubs as unknown[]).map((hub, i) => {
      if (typeof hub !== "string" || hub.includes(".")) return hub;
      const hostName = Object.hasOwn(hubNames, hub) ? hubNames[hub] : undefined;
      if (hostName === undefined) {
        problem(["iotHubs", i], `unknown hub '${hub}' (this stack's hubs: ${Object.keys(hubNames).join(", ")})`);
      }
      return hostName ?? hub;
    });
  }
  const { spec, adopt } = entryModel(merged, (field, certificate) => {
    try {
      return readCertificate(path.resolve(path.dirname(file), certificate));
    } catch (err) {
      problem(field, `cannot read ${certificate} (${errorCode(err)})`);
      return undefined;
    }
  });
  // Keys are references here: `check` sees them, and their format, once the program resolves them.
  const keyless = { ...spec, primaryKey: undefined, secondaryKey: undefined };
  const checked = normalizeEnrollment(keyless, { linkedHubs: options.linkedHubs });
  for (const failure of checked.failures) {
    const field = manifestPath(failure.property);
    // The model's attestationType is the manifest's attestation: missing, when the schema had nothing to say.
    const reason = failure.property === "attestationType" ? "is required (x509, tpm or symmetricKey)" : failure.reason;
    problem(failure.index === undefined ? field : [...field, failure.index], reason);
  }
  return checked.inputs && { registrationId: checked.inputs.registrationId, spec, adopt };
}
