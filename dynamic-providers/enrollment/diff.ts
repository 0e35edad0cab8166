// `diff`: compares normalized values, never raw text, and ignores server-managed fields and write-only values.
import { diffedPropertiesOf, groupPropertyPolicies, propertyPolicies, type PropertyTable } from "./properties";
import type { EnrollmentInputs, EnrollmentOutputs, GroupInputs, GroupOutputs } from "./types";
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

/** What `diff` compares in a record of either kind: its properties by name. */
type Comparable = object;

/**
 * Compares old outputs with new inputs by a resource type's property table. `identity` names the properties whose
 * change means another enrollment altogether (its ID, its DPS): the new one can be created before the old one is
 * deleted.
 */
export function diffRecords(
  table: PropertyTable,
  identity: readonly string[],
  olds: Comparable,
  news: Comparable,
): EnrollmentDiff {
  const oldValues = olds as Record<string, unknown>;
  const newValues = news as Record<string, unknown>;
  const changed: string[] = [];
  for (const property of diffedPropertiesOf(table)) {
    // Keys DPS generated are not in the inputs: nothing to compare them with.
    if ((property === "primaryKey" || property === "secondaryKey") && newValues[property] === undefined) continue;
    let old = oldValues[property];
    let next = newValues[property];
    if (property === "primaryCertificate" || property === "secondaryCertificate") {
      // Outputs hold thumbprint references (older states the text): compare thumbprints.
      old = certificateRef(old as string | undefined);
      next = certificateRef(next as string | undefined);
    }
    if (canonical(old) !== canonical(next)) {
      changed.push(property);
    }
  }
  const replaces = changed.filter((p) => table[p] === "replace");
  return {
    changes: changed.length > 0,
    replaces,
    changed,
    changesInDps: changed.some((p) => table[p] !== "state"),
    // The same ID cannot exist twice in one DPS: replace in place by deleting first. A new ID, or another DPS, can
    // be created before the old one is deleted.
    deleteBeforeReplace: replaces.length > 0 && !replaces.some((p) => identity.includes(p)),
  };
}

export function diffEnrollment(olds: EnrollmentOutputs, news: EnrollmentInputs): EnrollmentDiff {
  return diffRecords(propertyPolicies, ["registrationId", "serviceHostName"], olds, news);
}

export function diffGroup(olds: GroupOutputs, news: GroupInputs): EnrollmentDiff {
  return diffRecords(groupPropertyPolicies, ["enrollmentGroupId", "serviceHostName"], olds, news);
}
