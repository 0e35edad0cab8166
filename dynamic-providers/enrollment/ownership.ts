// Ownership recorded in DPS itself, as Kubernetes tools label what they manage: every document the provider writes
// carries a marker naming the stack that wrote it and a hash of the non-secret content it wrote. A run killed
// before its state was saved (SIGKILL, a lost CI runner, PULUMI_SKIP_CHECKPOINTS) leaves DPS ahead of the state; the
// next run — from any clone, on any machine — reads the marker and finishes its own work: a create answered 409
// takes the enrollment when the marker names this stack, an update or delete answered 412 goes on when the
// stack's own write moved the etag. Nothing unmarked, or marked by another stack, is ever taken without `adopt`.
//
// The module is resource-type neutral: a type whose documents hold a free-form collection (an individual
// enrollment's `optionalDeviceInformation`) carries the marker there; a type without one (enrollment groups) decides
// with `marker: undefined, markers: false`, which accepts only content identical to what is being written.
import { createHash } from "node:crypto";

import { canonical } from "./diff";

/** The reserved key of the marker inside a document's free-form collection; manifests may not use it. */
export const markerKey = "dps-enrollments";

export interface OwnerMarker {
  /** The owning stack, `<organization>/<project>/<stack>`. */
  stack: string;
  /** sha256 (hex) of the canonical non-secret content the owner last wrote. */
  hash: string;
}

/** sha256 of the canonical JSON of `content` (key order never matters). Never pass secrets: the hash is in DPS. */
export function contentHash(content: unknown): string {
  return createHash("sha256").update(canonical(content)).digest("hex");
}

/** The marker a collection carries, when it carries a well-formed one. */
export function readMarker(collection: Record<string, unknown> | undefined): OwnerMarker | undefined {
  const value = collection?.[markerKey] as Partial<OwnerMarker> | undefined;
  if (typeof value !== "object" || value === null) return undefined;
  return typeof value.stack === "string" && typeof value.hash === "string"
    ? { stack: value.stack, hash: value.hash }
    : undefined;
}

/** The collection without the marker (undefined when nothing else is left): what the user declared. */
export function withoutMarker(collection: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!collection || !(markerKey in collection)) return collection;
  const { [markerKey]: _marker, ...rest } = collection;
  return Object.keys(rest).length > 0 ? rest : undefined;
}

/** The user's collection with the marker beside their own keys. */
export function withMarker(
  collection: Record<string, unknown> | undefined,
  marker: OwnerMarker,
): Record<string, unknown> {
  return { ...(collection ?? {}), [markerKey]: { stack: marker.stack, hash: marker.hash } };
}

export interface OwnershipQuestion {
  /** The stack asking, `<organization>/<project>/<stack>`; undefined when the program did not say (no marker). */
  stack: string | undefined;
  /** The marker of the live document, if any. */
  marker: OwnerMarker | undefined;
  /** contentHash of the live document's non-secret content (marker left out). */
  liveHash: string;
  /** contentHash of what this stack is about to write. */
  desiredHash: string;
  /** The user asked to take it over (`adopt: true`). */
  adopt: boolean;
  /** Whether this resource type carries markers (false: enrollment groups, which have no free-form collection). */
  markers: boolean;
  /** Whether this stack's state already holds the resource (an update or delete), not a create. */
  known: boolean;
}

export type Ownership =
  /** The stack's own: marked by it and untouched since, or identical to what it writes (unmarked types, known). */
  | { verdict: "ours"; because: "marker" | "identical" }
  /** Taken over on request; `previousOwner` when another stack's marker is replaced. */
  | { verdict: "adopt"; previousOwner?: string }
  /** Not the stack's: nobody's marker, another stack's, or the stack's own changed in DPS since it wrote it. */
  | { verdict: "refuse"; because: "unmarked" | "foreign" | "changed"; owner?: string };

/** Whether a live document is this stack's to finish writing (the table is in the README). */
export function decideOwnership(q: OwnershipQuestion): Ownership {
  const own = q.stack !== undefined && q.marker?.stack === q.stack;
  if (own && (q.marker?.hash === q.liveHash || q.liveHash === q.desiredHash))
    return { verdict: "ours", because: "marker" };
  if (q.adopt) return q.marker && !own ? { verdict: "adopt", previousOwner: q.marker.stack } : { verdict: "adopt" };
  if (own) return { verdict: "refuse", because: "changed" };
  if (q.marker) return { verdict: "refuse", because: "foreign", owner: q.marker.stack };
  // Unmarked and identical: an unmarked type's own interrupted write, or a record this stack already holds (written
  // before markers existed). A type with markers never takes an unmarked document it is creating.
  if (q.liveHash === q.desiredHash && (!q.markers || q.known)) return { verdict: "ours", because: "identical" };
  return { verdict: "refuse", because: "unmarked" };
}

/** What to call the resource in messages, e.g. `{ what: "enrollment 'dev-1'", noun: "enrollment" }`. */
export interface Subject {
  what: string;
  noun: string;
}

/** The message of a refused create, naming what to do. */
export function createRefusal(subject: Subject, refusal: Extract<Ownership, { verdict: "refuse" }>): string {
  const adopt =
    `To take it over, set \`adopt: true\` on this ${subject.noun} (the manifest entry or the resource's args) and ` +
    `run \`pulumi up\` again; Pulumi's \`import\` does not work with dynamic providers.`;
  if (refusal.because === "foreign") {
    return (
      `${subject.what} already exists in DPS and belongs to stack '${refusal.owner}' (its ownership marker says ` +
      `so); this stack does not manage it. ${adopt}`
    );
  }
  if (refusal.because === "changed") {
    return (
      `${subject.what} already exists in DPS with this stack's ownership marker, but was changed in DPS since this ` +
      `stack wrote it; nothing was overwritten. ${adopt}`
    );
  }
  return `${subject.what} already exists in DPS and this stack does not manage it. ${adopt}`;
}
