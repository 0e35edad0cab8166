import { parseEventLog, parsePlanInputChanges } from "./events";

test("parseEventLog reads JSON lines and leaves out a torn last line", () => {
  const text =
    '{"sequence":1,"cancelEvent":{}}\n\n{"sequence":2,"summaryEvent":{"result":"succeeded"}}\n{"sequence":3,"diag';
  expect(parseEventLog(text)).toEqual([
    { sequence: 1, cancelEvent: {} },
    { sequence: 2, summaryEvent: { result: "succeeded" } },
  ]);
});

test("parsePlanInputChanges names added, deleted and updated inputs per resource, secrets included", () => {
  const plan = {
    manifest: {},
    resourcePlans: {
      "urn:a": {
        goal: {
          inputDiff: {
            adds: { endorsementKey: "AT…" },
            deletes: ["deviceId"],
            updates: {
              primaryKey: {
                "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                ciphertext: "v1:…",
              },
            },
          },
        },
        steps: ["update"],
      },
      "urn:b": { goal: { inputDiff: {} }, steps: ["same"] },
      "urn:c": { steps: ["delete"] },
    },
  };
  const changes = parsePlanInputChanges(JSON.stringify(plan));
  expect([...changes.entries()].map(([urn, names]) => [urn, [...names]])).toEqual([
    ["urn:a", ["endorsementKey", "deviceId", "primaryKey"]],
    ["urn:b", []],
  ]);
});
