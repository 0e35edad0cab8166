// dps-enrollments:dpsOperationsPerMinute through the real CLI: the rate reaches the provider through its configure
// step, never through an enrollment's inputs, so changing it updates no enrollment and sends nothing to DPS; a bad
// value stops the preview with the key named, before any request.
import { emulatorStats } from "../../scripts/lib/emulator-stats";
import { startFixtureStack, type FixtureStack } from "../support/fixture-stack";

const primaryKey = Buffer.alloc(32, 0x3c).toString("base64");
const secondaryKey = Buffer.alloc(32, 0x4d).toString("base64");

let fixture: FixtureStack;

beforeAll(async () => {
  fixture = await startFixtureStack("pacing-config", (emulator) => ({
    platform: { value: "emulator" },
    emulatorDataDir: { value: emulator.dataDir },
    primaryKey: { value: primaryKey, secret: true },
    secondaryKey: { value: secondaryKey, secret: true },
    dpsOperationsPerMinute: { value: "600" },
  }));
});

afterAll(() => fixture?.dispose());

test("a change of dpsOperationsPerMinute changes no enrollment; a bad value is refused naming the key", async () => {
  const { emulator, stack, capture } = fixture;
  expect((await stack.up({ onOutput: capture })).summary.resourceChanges).toEqual({ create: 3 });
  const before = await emulatorStats(emulator.connection);
  // Two creates (DPS returns generated keys with the PUT), nothing throttled.
  expect(before).toEqual({
    operations: { IndividualEnrollment_CreateOrUpdate: { "200": 2 } },
    throttled: 0,
  });

  await stack.setConfig("dpsOperationsPerMinute", { value: "120" });
  expect((await stack.preview({ onOutput: capture })).changeSummary).toEqual({ same: 3 });
  expect((await stack.up({ onOutput: capture })).summary.resourceChanges).toEqual({ same: 3 });
  expect(await emulatorStats(emulator.connection)).toEqual(before);

  await stack.setConfig("dpsOperationsPerMinute", { value: "-5" });
  await expect(stack.preview({ onOutput: capture })).rejects.toThrow(
    "config dps-enrollments:dpsOperationsPerMinute must be a whole number from 0 to 1000000 (got '-5')",
  );
  expect(await emulatorStats(emulator.connection)).toEqual(before);
});
