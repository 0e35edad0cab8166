// Property values as the engine's events show them: secrets masked by a signature object (or "[secret]"), values not
// known until the update by a sentinel string; and flattening of nested inputs into paths, so a twin change reads
// `initialTwin.properties.desired.devicetype` rather than the whole object.
import { isPlainObject } from "../../../dynamic-providers/enrollment/normalize";

/** resource.SecretSig: the key and value that mark a serialized secret. */
const secretSignatureKey = "4dabf18193072939515e22adb298388d";
const secretSignatureValue = "1b47061264138c4ac30d75fd1eb44270";
/** resource.UnknownStringValue: an output of another resource that the preview cannot know yet. */
const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isSecret(value: unknown): boolean {
  return value === "[secret]" || (isPlainObject(value) && value[secretSignatureKey] === secretSignatureValue);
}

export function isUnknown(value: unknown): boolean {
  return value === unknownValue;
}

/** One leaf of a flattened property map: the dotted path, its top-level property and its value. */
export interface Leaf {
  path: string;
  property: string;
  value: unknown;
}

const plainKey = /^[A-Za-z_$][\w$-]*$/;

function join(prefix: string, key: string): string {
  if (plainKey.test(key)) return prefix === "" ? key : `${prefix}.${key}`;
  return `${prefix}[${JSON.stringify(key)}]`;
}

/**
 * The leaves of a property map: nested objects become paths; arrays, empty objects, secrets and scalars are leaves.
 * Keys starting with `__` (the dynamic provider's `__provider`, engine bookkeeping) are not properties.
 */
export function flattenProperties(properties: Record<string, unknown> | null | undefined): Map<string, Leaf> {
  const leaves = new Map<string, Leaf>();
  const visit = (property: string, path: string, value: unknown): void => {
    if (isPlainObject(value) && !isSecret(value) && Object.keys(value).length > 0) {
      for (const key of Object.keys(value).sort()) {
        if (value[key] !== undefined) visit(property, join(path, key), value[key]);
      }
    } else {
      leaves.set(path, { path, property, value });
    }
  };
  for (const key of Object.keys(properties ?? {}).sort()) {
    const value = properties?.[key];
    if (key.startsWith("__") || value === undefined) continue;
    visit(key, join("", key), value);
  }
  return leaves;
}

/** Whether a value holds a secret anywhere inside it. */
export function containsSecret(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (isPlainObject(value)) return Object.values(value).some(containsSecret);
  return false;
}
