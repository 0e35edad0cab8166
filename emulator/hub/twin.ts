// Device twins as an IoT hub keeps them (pure: no I/O): tags, desired and reported properties with their `$version`
// and per-key `$metadata`, the twin's version and etag, the service's merge-patch update, and the JSON IoT Hub
// returns for GET /twins/{id}.
import { HubError } from "./errors";

export type TwinCollection = Record<string, unknown>;

/**
 * Metadata of one properties section, shaped like it: every object level carries `$lastUpdated` (and, for desired
 * properties, `$lastUpdatedVersion`) beside the metadata of its keys.
 */
export type MetadataNode = { $lastUpdated: string; $lastUpdatedVersion?: number } & { [key: string]: unknown };

export interface StoredTwin {
  /** Incremented by every change of tags or properties. */
  version: number;
  tags: TwinCollection;
  desired: TwinCollection;
  desiredVersion: number;
  desiredMetadata: MetadataNode;
  reported: TwinCollection;
  reportedVersion: number;
  reportedMetadata: MetadataNode;
}

/** IoT Hub allows JSON objects nested 10 levels below tags and below properties.desired. */
const maxDepth = 10;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Metadata for a whole value written at `now` in desired-properties `version` (undefined for reported and tags). */
function metadataFor(value: unknown, now: string, version?: number): MetadataNode {
  const node: MetadataNode =
    version === undefined ? { $lastUpdated: now } : { $lastUpdated: now, $lastUpdatedVersion: version };
  if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      node[key] = metadataFor(child, now, version);
    }
  }
  return node;
}

/**
 * Checks a twin collection as IoT Hub does: keys without `.`, `$`, spaces or control characters, at most 10 levels.
 * `nullAllowed` for patches, where null removes a key.
 */
function checkCollection(field: string, value: unknown, nullAllowed: boolean, depth = 0): TwinCollection {
  if (!isObject(value)) {
    throw new HubError("ArgumentInvalid", `${field} must be a JSON object`);
  }
  if (depth > maxDepth) {
    throw new HubError("ArgumentInvalid", `${field} is nested deeper than ${maxDepth} levels`);
  }
  for (const [key, child] of Object.entries(value)) {
    // eslint-disable-next-line no-control-regex
    if (key.length === 0 || /[.$ \u0000-\u001f\u007f-\u009f]/.test(key)) {
      throw new HubError(
        "ArgumentInvalid",
        `${field}: key '${key}' may not contain '.', '$', spaces or control characters`,
      );
    }
    if (child === null && !nullAllowed) {
      throw new HubError("ArgumentInvalid", `${field}.${key} is null: null only removes a key in a patch`);
    }
    if (isObject(child)) {
      checkCollection(`${field}.${key}`, child, nullAllowed, depth + 1);
    }
  }
  return value;
}

/** The twin of a new device identity: the initial tags and desired properties, all at version 1. */
export function newTwin(
  initial: { tags?: TwinCollection; desired?: TwinCollection } | undefined,
  now: string,
): StoredTwin {
  const tags = structuredClone(initial?.tags ?? {});
  const desired = structuredClone(initial?.desired ?? {});
  return {
    version: 1,
    tags,
    desired,
    desiredVersion: 1,
    desiredMetadata: metadataFor(desired, now, 1),
    reported: {},
    reportedVersion: 1,
    reportedMetadata: { $lastUpdated: now },
  };
}

/** Merges `patch` into `target` (null removes), recording `$lastUpdated` in `metadata` on every level it touches. */
function mergeInto(
  target: TwinCollection,
  patch: TwinCollection,
  metadata: MetadataNode | undefined,
  now: string,
  version?: number,
): void {
  if (metadata) {
    metadata.$lastUpdated = now;
    if (version !== undefined) metadata.$lastUpdatedVersion = version;
  }
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    if (value === null) {
      delete target[key];
      if (metadata) delete metadata[key];
    } else if (isObject(value) && isObject(current)) {
      let child: MetadataNode | undefined;
      if (metadata) {
        child = isObject(metadata[key]) ? (metadata[key] as MetadataNode) : metadataFor(current, now, version);
        metadata[key] = child;
      }
      mergeInto(current, value, child, now, version);
    } else {
      // Nulls inside a new object remove nothing; they are dropped, as IoT Hub stores no null leaves.
      const clean = withoutNulls(value);
      target[key] = clean;
      if (metadata) metadata[key] = metadataFor(clean, now, version);
    }
  }
}

function withoutNulls(value: unknown): unknown {
  if (!isObject(value)) return structuredClone(value);
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, child]) => child !== null)
      .map(([key, child]) => [key, withoutNulls(child)]),
  );
}

/**
 * The service's twin update (PATCH /twins/{id}): `tags` and `properties.desired` merge into the twin, null removing
 * a key; reported properties belong to the device. Returns the new twin; `twin` is not changed.
 */
export function patchTwin(twin: StoredTwin, patch: unknown, now: string): StoredTwin {
  if (!isObject(patch)) {
    throw new HubError("ArgumentInvalid", "the twin patch must be a JSON object");
  }
  const properties = patch.properties === undefined || patch.properties === null ? undefined : patch.properties;
  if (properties !== undefined && !isObject(properties)) {
    throw new HubError("ArgumentInvalid", "properties must be a JSON object");
  }
  if (properties?.reported !== undefined) {
    throw new HubError(
      "ArgumentInvalid",
      "properties.reported cannot be updated by a service: the device reports them",
    );
  }
  const tags = patch.tags === undefined || patch.tags === null ? undefined : checkCollection("tags", patch.tags, true);
  const desired =
    properties?.desired === undefined || properties.desired === null
      ? undefined
      : checkCollection("properties.desired", properties.desired, true);
  const next = structuredClone(twin);
  if (tags === undefined && desired === undefined) {
    return next;
  }
  next.version += 1;
  if (tags !== undefined) {
    // Tags carry no metadata in IoT Hub's twin JSON.
    mergeInto(next.tags, tags, undefined, now);
  }
  if (desired !== undefined) {
    next.desiredVersion += 1;
    mergeInto(next.desired, desired, next.desiredMetadata, now, next.desiredVersion);
  }
  return next;
}

/** Checks an initial twin's collections (from DPS) as a patch would. */
export function checkInitialTwin(tags: unknown, desired: unknown): void {
  if (tags !== undefined) checkCollection("initialTwin.tags", tags, false);
  if (desired !== undefined) checkCollection("initialTwin.properties.desired", desired, false);
}

/** The twin etag: base64 of its version as eight big-endian bytes, the form IoT Hub's etags have ("AAAAAAAAAAE="). */
export function twinEtag(twin: StoredTwin): string {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(twin.version));
  return bytes.toString("base64");
}

/** The `properties` object of a twin's JSON: each section with its `$metadata` and `$version`. */
export function twinProperties(twin: StoredTwin): Record<string, TwinCollection> {
  return {
    desired: {
      ...structuredClone(twin.desired),
      $metadata: structuredClone(twin.desiredMetadata),
      $version: twin.desiredVersion,
    },
    reported: {
      ...structuredClone(twin.reported),
      $metadata: structuredClone(twin.reportedMetadata),
      $version: twin.reportedVersion,
    },
  };
}
