import { HubError } from "./errors";
import { newTwin, patchTwin, twinEtag, twinProperties, type StoredTwin } from "./twin";

const t0 = "2026-01-01T00:00:00.0000000Z";
const t1 = "2026-01-02T00:00:00.0000000Z";

describe("newTwin", () => {
  test("holds the initial tags and desired properties at version 1, with metadata on every level", () => {
    expect(newTwin({ tags: { site: "lab" }, desired: { a: 1, nested: { b: "x" } } }, t0)).toEqual({
      version: 1,
      tags: { site: "lab" },
      desired: { a: 1, nested: { b: "x" } },
      desiredVersion: 1,
      desiredMetadata: {
        $lastUpdated: t0,
        $lastUpdatedVersion: 1,
        a: { $lastUpdated: t0, $lastUpdatedVersion: 1 },
        nested: { $lastUpdated: t0, $lastUpdatedVersion: 1, b: { $lastUpdated: t0, $lastUpdatedVersion: 1 } },
      },
      reported: {},
      reportedVersion: 1,
      reportedMetadata: { $lastUpdated: t0 },
    });
  });

  test("copies what it is given", () => {
    const desired = { nested: { b: "x" } };
    const twin = newTwin({ desired }, t0);
    desired.nested.b = "changed";
    expect(twin.desired).toEqual({ nested: { b: "x" } });
  });
});

/** `depth` objects nested below the root: { l1: { l2: … { ld: { leaf: 1 } } } }. */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let level = depth; level >= 1; level--) value = { [`l${level}`]: value };
  return value;
}

describe("patchTwin", () => {
  const initial = (): StoredTwin =>
    newTwin(
      { tags: { site: "lab", place: { floor: 1, room: "a" } }, desired: { a: 1, nested: { b: "x", c: "y" } } },
      t0,
    );

  test("merges tags and desired properties level by level; null removes a key; metadata marks what changed", () => {
    const before = initial();
    const after = patchTwin(
      before,
      {
        tags: { place: { floor: 2 }, owner: "ops" },
        properties: { desired: { a: null, nested: { c: "z" }, d: [1, 2] } },
      },
      t1,
    );
    expect(after).toEqual({
      version: 2,
      tags: { site: "lab", place: { floor: 2, room: "a" }, owner: "ops" },
      desired: { nested: { b: "x", c: "z" }, d: [1, 2] },
      desiredVersion: 2,
      desiredMetadata: {
        $lastUpdated: t1,
        $lastUpdatedVersion: 2,
        nested: {
          $lastUpdated: t1,
          $lastUpdatedVersion: 2,
          b: { $lastUpdated: t0, $lastUpdatedVersion: 1 },
          c: { $lastUpdated: t1, $lastUpdatedVersion: 2 },
        },
        d: { $lastUpdated: t1, $lastUpdatedVersion: 2 },
      },
      reported: {},
      reportedVersion: 1,
      reportedMetadata: { $lastUpdated: t0 },
    });
    // The twin it was given is unchanged.
    expect(before).toEqual(initial());
  });

  test("a value replaces an object and an object a value; nulls inside a new object are dropped", () => {
    const after = patchTwin(initial(), { properties: { desired: { a: { deep: 1, gone: null }, nested: 5 } } }, t1);
    expect(after.desired).toEqual({ a: { deep: 1 }, nested: 5 });
    expect(after.desiredMetadata.a).toEqual({
      $lastUpdated: t1,
      $lastUpdatedVersion: 2,
      deep: { $lastUpdated: t1, $lastUpdatedVersion: 2 },
    });
  });

  test("tags alone change the twin's version, not the desired properties' version; an empty patch changes nothing", () => {
    const tagged = patchTwin(initial(), { tags: { site: "plant" } }, t1);
    expect([tagged.version, tagged.desiredVersion]).toEqual([2, 1]);
    expect(patchTwin(initial(), {}, t1)).toEqual(initial());
    expect(patchTwin(initial(), { properties: {} }, t1)).toEqual(initial());
  });

  test("objects ten levels below tags or desired properties are accepted", () => {
    const after = patchTwin(initial(), { tags: nested(10), properties: { desired: nested(10) } }, t1);
    expect(after.desired.l1).toEqual(nested(10).l1);
  });

  test.each<[string, unknown, string]>([
    ["a patch that is not an object", [1], "the twin patch must be a JSON object"],
    ["properties that are not an object", { properties: 5 }, "properties must be a JSON object"],
    [
      "reported properties",
      { properties: { reported: { a: 1 } } },
      "properties.reported cannot be updated by a service: the device reports them",
    ],
    ["tags that are not an object", { tags: "x" }, "tags must be a JSON object"],
    [
      "a key with a dot",
      { properties: { desired: { nested: { "a.b": 1 } } } },
      "properties.desired.nested: key 'a.b' may not contain '.', '$', spaces or control characters",
    ],
    [
      "a key with a dollar",
      { tags: { $version: 1 } },
      "tags: key '$version' may not contain '.', '$', spaces or control characters",
    ],
    [
      "objects eleven levels below tags",
      { tags: nested(11) },
      "tags.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11 is nested deeper than 10 levels",
    ],
  ])("refuses %s with 400 ArgumentInvalid", (_name, patch, message) => {
    let error: unknown;
    try {
      patchTwin(initial(), patch, t1);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(HubError);
    expect([(error as HubError).status, (error as HubError).code, (error as HubError).message]).toEqual([
      400,
      "ArgumentInvalid",
      message,
    ]);
  });
});

describe("twin JSON", () => {
  test("the etag is base64 of the version as eight big-endian bytes", () => {
    expect(twinEtag(newTwin(undefined, t0))).toBe("AAAAAAAAAAE=");
    expect(twinEtag({ ...newTwin(undefined, t0), version: 258 })).toBe("AAAAAAAAAQI=");
  });

  test("properties carry $metadata and $version per section", () => {
    expect(twinProperties(newTwin({ desired: { a: 1 } }, t0))).toEqual({
      desired: {
        a: 1,
        $metadata: { $lastUpdated: t0, $lastUpdatedVersion: 1, a: { $lastUpdated: t0, $lastUpdatedVersion: 1 } },
        $version: 1,
      },
      reported: { $metadata: { $lastUpdated: t0 }, $version: 1 },
    });
  });
});
