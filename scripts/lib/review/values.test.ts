import { containsSecret, flattenProperties, isSecret, isUnknown } from "./values";

const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "[secret]" };

test("secrets as the event log and the JSON display mask them", () => {
  expect(isSecret(secret)).toBe(true);
  expect(isSecret("[secret]")).toBe(true);
  expect(isSecret({ ciphertext: "[secret]" })).toBe(false);
  expect(isSecret("secret")).toBe(false);
  expect(containsSecret({ a: [1, { b: secret }] })).toBe(true);
  expect(containsSecret({ a: [1, { b: "x" }] })).toBe(false);
});

test("values not known until the update", () => {
  expect(isUnknown("04da6b54-80e4-46f7-96ec-b56ff0331ba9")).toBe(true);
  expect(isUnknown("04da6b54")).toBe(false);
});

test("flattenProperties: nested paths, arrays and empty objects as leaves, __ keys and undefined left out", () => {
  const leaves = flattenProperties({
    __provider: "exports.handler = …",
    registrationId: "cam-01",
    initialTwin: { tags: {}, properties: { desired: { devicetype: "waterflow", "odd key": 1, nested: { n: null } } } },
    iotHubs: ["a", "b"],
    primaryKey: secret,
    gone: undefined,
  });
  expect([...leaves.values()]).toEqual([
    { path: "initialTwin.properties.desired.devicetype", property: "initialTwin", value: "waterflow" },
    { path: "initialTwin.properties.desired.nested.n", property: "initialTwin", value: null },
    { path: 'initialTwin.properties.desired["odd key"]', property: "initialTwin", value: 1 },
    { path: "initialTwin.tags", property: "initialTwin", value: {} },
    { path: "iotHubs", property: "iotHubs", value: ["a", "b"] },
    { path: "primaryKey", property: "primaryKey", value: secret },
    { path: "registrationId", property: "registrationId", value: "cam-01" },
  ]);
});

test("flattenProperties of nothing", () => {
  expect(flattenProperties(undefined).size).toBe(0);
  expect(flattenProperties(null).size).toBe(0);
});
