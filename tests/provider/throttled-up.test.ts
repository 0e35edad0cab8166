// `pulumi up` against a DPS that allows fewer operations than it is asked for: the emulator as its own process with
// `--throttle 300`, 600 new enrollments, `up --parallel 16`. The provider paces itself at its default (1,000 a
// minute for the emulator platform), so it meets the throttle once the emulator's first minute is spent; every 429 is
// waited out in the one pacer of the provider process, and the run completes: everything created once, no error.
import { throttledUp } from "../../scripts/lib/bench/throttled";

const enrollments = 600;

test("600 enrollments against --throttle 300: all created, none twice, every 429 waited out by the pacer", async () => {
  const run = await throttledUp({
    enrollments,
    throttle: 300,
    parallel: 16,
    // Checkpoints skipped, so that the DPS quota, not the file backend, sets the pace of this test.
    env: { PULUMI_SKIP_CHECKPOINTS: "true" },
  });
  expect(run.errors).toEqual([]);
  expect(run.result).toBe("succeeded");
  // The enrollments, the component and the stack.
  expect(run.created).toBe(enrollments + 2);
  expect(run.inDps).toBe(enrollments);
  expect(run.inState).toBe(enrollments);

  // Creates only, each answered 200 exactly once; the rest of the requests were the throttle's 429s.
  const { operations, throttled } = run.emulator;
  expect(Object.keys(operations)).toEqual(["IndividualEnrollment_CreateOrUpdate"]);
  expect(operations.IndividualEnrollment_CreateOrUpdate).toEqual({ "200": enrollments, "429": throttled });
  // 1,000 a minute against 300 (and a first minute's 300 in the emulator's bucket): the throttle is met.
  expect(throttled).toBeGreaterThan(0);

  // The provider's own figures, printed once when the engine ends it, agree with the emulator's.
  expect(run.pacing).toHaveLength(1);
  expect(run.provider).toMatchObject({
    host: "localhost",
    completed: enrollments,
    configuredPerMinute: 1000,
    throttled,
  });
});
