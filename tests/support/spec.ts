// Validates response bodies against the official OpenAPI documents in ../shared/specs (never copied into the
// project). Two known defects of the 2021-10-01 document are corrected, each for a stated reason.
import * as fs from "node:fs";
import * as path from "node:path";

import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

import { projectRoot } from "../../scripts/lib/pulumi-cli";

/** The official documents: beside the checkout in ../shared/specs, or where DPS_SPECS_DIR says. */
export const specsDir = process.env.DPS_SPECS_DIR ?? path.resolve(projectRoot, "..", "shared", "specs");

type Json = Record<string, unknown>;

function loadSpec(file: string): Json {
  const full = path.join(specsDir, file);
  if (!fs.existsSync(full)) {
    throw new Error(
      `the official DPS OpenAPI document ${full} is missing: the tests read ../shared/specs beside the checkout ` +
        "(see its SOURCES.md); set DPS_SPECS_DIR to where the documents are",
    );
  }
  return JSON.parse(fs.readFileSync(full, "utf8")) as Json;
}

/**
 * The 2021-10-01 service document's id pattern `^([a-z0-9-._:][a-z0-9-])$` matches two-character ids only (its own
 * description: "alphanumeric, lowercase, and may contain hyphens", up to 128), and its TwinCollection allows only
 * objects as values although twins hold any JSON (`"devicetype": "waterflow"`). Both are corrected; nothing else is.
 */
function correctKnownDefects(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(correctKnownDefects);
    return;
  }
  if (typeof node !== "object" || node === null) return;
  const record = node as Json;
  if (record.pattern === "^([a-z0-9-._:][a-z0-9-])$") {
    record.pattern = "^[a-z0-9-._:]*[a-z0-9-]$";
  }
  Object.values(record).forEach(correctKnownDefects);
}

function validatorFor(file: string): (definition: string) => ValidateFunction {
  const spec = loadSpec(file);
  correctKnownDefects(spec);
  const definitions = spec.definitions as Record<string, Json>;
  if (definitions.TwinCollection) {
    definitions.TwinCollection.additionalProperties = {};
  }
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addFormat("int32", true).addFormat("int64", true).addFormat("byte", true);
  ajv.addSchema({ $id: "spec", definitions }, "spec");
  const cache = new Map<string, ValidateFunction>();
  return (definition) => {
    let validate = cache.get(definition);
    if (!validate) {
      if (!definitions[definition]) throw new Error(`${file} has no definition ${definition}`);
      validate = ajv.compile({ $ref: `spec#/definitions/${definition}` });
      cache.set(definition, validate);
    }
    return validate;
  };
}

const serviceValidators = validatorFor("dps-service-2021-10-01.json");
const deviceValidators = validatorFor("dps-device-2021-10-01.json");

/** Throws with ajv's errors when `body` does not validate against `definition` of the service API document. */
export function expectServiceSchema(definition: string, body: unknown): void {
  const validate = serviceValidators(definition);
  if (!validate(body)) {
    throw new Error(`response does not match ${definition}: ${JSON.stringify(validate.errors, null, 2)}`);
  }
}

/** The same for the device API document. */
export function expectDeviceSchema(definition: string, body: unknown): void {
  const validate = deviceValidators(definition);
  if (!validate(body)) {
    throw new Error(`response does not match device ${definition}: ${JSON.stringify(validate.errors, null, 2)}`);
  }
}
