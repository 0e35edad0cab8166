// `diff`: compares normalized values, never raw text, and ignores server-managed fields and write-only values.
import { diffedProperties, propertyPolicies } from "./properties";
import type { EnrollmentInputs, EnrollmentOutputs } from "./types";
import { certificateRef } from "./wire";

export interface EnrollmentDiff {
  changes: boolean;
  replaces: string[];
  /** Properties that differ, for messages and tests. */
  changed: string[];
  /** Whether a property DPS holds differs (not only the state's own, e.g. providerVersion). */
  changesInDps: boolean;
  deleteBeforeReplace: boolean;
}

/** JSON with object keys sorted, so key order never reads as a change. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

export function diffEnrollment(olds: EnrollmentOutputs, news: EnrollmentInputs): EnrollmentDiff {
  const changed: string[] = [];
  for (const property of diffedProperties) {
    // Keys DPS generated are not in the inputs: nothing to compare them with.
    if ((property === "primaryKey" || property === "secondaryKey") && news[property] === undefined) continue;
    let old: unknown = olds[property];
    let next: unknown = news[property as keyof EnrollmentInputs];
    if (property === "primaryCertificate" || property === "secondaryCertificate") {
      // Outputs hold thumbprint references (older states the text): compare thumbprints.
      old = certificateRef(old as string | undefined);
      next = certificateRef(next as string | undefined);
    }
    if (canonical(old) !== canonical(next)) {
      changed.push(property);
    }
  }
  const replaces = changed.filter((p) => propertyPolicies[p as keyof EnrollmentOutputs] === "replace");
  return {
    changes: changed.length > 0,
    replaces,
    changed,
    changesInDps: changed.some((p) => propertyPolicies[p as keyof EnrollmentOutputs] !== "state"),
    // The same registration ID cannot exist twice in one DPS: replace in place by deleting first. A new ID, or
    // another DPS, can be created before the old one is deleted.
    deleteBeforeReplace:
      replaces.length > 0 && !replaces.includes("registrationId") && !replaces.includes("serviceHostName"),
  };
}
