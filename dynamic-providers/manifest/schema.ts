// The manifest's structure: enrollments.schema.json, validated with ajv, its errors turned into problems that name
// the field and the reason in the manifest's own terms (never a secret's value), with "did you mean" for misspelt
// keys and enum values in the wrong case.
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";

import schemaDocument from "../enrollments.schema.json";
import { didYouMean } from "../enrollment/suggest";
import type { Path } from "./positions";

/** A problem the schema finds: where (path in the document), what (field) and why. */
export interface SchemaProblem {
  /** Path of the field the problem is about (a missing field's path too). */
  path: Path;
  /** Where to point: the field's key (unknown fields), the field's value, or its mapping (missing fields). */
  at: "key" | "value" | "parent";
  reason: string;
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false });
    // Annotations for editors and for these messages; they validate nothing.
    ajv.addVocabulary(["patternMessage", "dependenciesMessage", "enumDescriptions"]);
    compiled = ajv.compile(schemaDocument);
  }
  return compiled;
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null) return "nothing";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

const typeWords: Record<string, string> = {
  string: "a string",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
  number: "a number",
  integer: "a whole number",
};

function pathOf(pointer: string): (string | number)[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function list(values: readonly unknown[]): string {
  return values.map(String).join(", ");
}

interface AnnotatedSchema {
  properties?: Record<string, unknown>;
  patternMessage?: string;
  dependenciesMessage?: string;
}

function problemOf(error: ErrorObject): SchemaProblem {
  const path = pathOf(error.instancePath);
  const parent = (error.parentSchema ?? {}) as AnnotatedSchema;
  const data: unknown = error.data;
  const secret = error.schemaPath.startsWith("#/definitions/secretRef");
  switch (error.keyword) {
    case "additionalProperties": {
      const name = String((error.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys(parent.properties ?? {});
      const hint = didYouMean(name, allowed);
      return {
        path: [...path, name],
        at: "key",
        reason: `unknown field${hint || ` (expected ${allowed.length > 1 ? "one of " : ""}${list(allowed)})`}`,
      };
    }
    case "required":
      return {
        path: [...path, (error.params as { missingProperty: string }).missingProperty],
        at: "parent",
        reason: "is required",
      };
    case "dependencies": {
      const { missingProperty } = error.params as { missingProperty: string };
      return {
        path: [...path, missingProperty],
        at: "parent",
        reason: parent.dependenciesMessage ?? "is required",
      };
    }
    case "type": {
      const expected = typeWords[String((error.params as { type: string }).type)] ?? String(error.params.type);
      // A key given as a literal: say what a reference looks like, and never repeat the value.
      if (secret) {
        const name = String(path[path.length - 1]);
        return {
          path,
          at: "value",
          reason: `must be a reference to secret stack config, e.g. ${name}: { config: myDevice${name[0].toUpperCase()}${name.slice(1)} }, never a literal key`,
        };
      }
      return { path, at: "value", reason: `must be ${expected} (got ${typeName(data)})` };
    }
    case "enum": {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      if (typeof data !== "string") {
        return { path, at: "value", reason: `must be one of ${list(allowed)} (got ${typeName(data)})` };
      }
      const hint = didYouMean(data, allowed.map(String));
      return { path, at: "value", reason: `'${data}' is not one of ${list(allowed)}${hint}` };
    }
    case "pattern":
      return {
        path,
        at: "value",
        reason: `'${String(data)}' ${parent.patternMessage ?? `does not match ${String(error.schema)}`}`,
      };
    case "minLength":
      return { path, at: "value", reason: "must not be empty" };
    case "maxLength":
      return {
        path,
        at: "value",
        reason: `'${String(data)}' is longer than ${String(error.schema)} characters`,
      };
    case "minProperties":
    case "maxProperties":
      return {
        path,
        at: "value",
        reason: `give exactly one of ${list(Object.keys(parent.properties ?? {}))}`,
      };
    case "uniqueItems": {
      const { j } = error.params as { i: number; j: number };
      const item = Array.isArray(data) ? (data as unknown[])[j] : undefined;
      return { path: [...path, j], at: "value", reason: `'${String(item)}' is listed twice` };
    }
    default:
      return { path, at: "value", reason: error.message ?? error.keyword };
  }
}

/** Every problem the schema finds in a manifest's parsed content, in document order of ajv's walk. */
export function schemaProblems(content: unknown): SchemaProblem[] {
  const validate = validator();
  if (validate(content)) return [];
  const seen = new Set<string>();
  const problems: SchemaProblem[] = [];
  for (const error of validate.errors ?? []) {
    const problem = problemOf(error);
    const key = `${JSON.stringify(problem.path)}\n${problem.reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}
