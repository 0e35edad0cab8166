// The provider's request loop (pacedSend) under a virtual clock: against the emulator's own throttle (the token
// bucket that answers 429 with Retry-After), against scripted answers for Retry-After and stalls; one pacer per DPS;
// the rate from the stack config.
import { DpsError } from "../../emulator/errors";
import { Throttle } from "../../emulator/middleware";
import { VirtualTime } from "../../tests/support/virtual-time";
import { Pacer } from "./pacer";
import {
  configuredOperationsPerMinute,
  defaultStallMs,
  PacerRegistry,
  pacedSend,
  pacingSummary,
  parsePacingLine,
  ThrottleStallError,
} from "./pacing";

/** An error as Microsoft's SDK rejects with it: the HTTP response attached (headers in lower case, as Node has them). */
function sdkError(status: number, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(`HTTP ${status}`), { response: { statusCode: status, headers } });
}

function throttleAnswer(err: unknown): Error {
  const e = err as DpsError;
  return sdkError(e.status, { "retry-after": e.headers["Retry-After"] });
}

interface Run {
  completed: number;
  seconds: number;
  /** The longest any one operation took, from its first slot to its answer, ms. */
  longestMs: number;
  pacer: Pacer;
}

/** `operations` operations through `workers` parallel callers of pacedSend; the server allows `quota` a minute. */
async function simulate(options: {
  configured: number;
  quota: number;
  operations: number;
  workers: number;
  latencyMs?: number;
  stallMs?: number;
}): Promise<Run> {
  const time = new VirtualTime();
  const server = new Throttle(options.quota, time.clock);
  const pacer = new Pacer({ perMinute: options.configured, clock: time.clock, sleep: time.sleep });
  let next = 0;
  let completed = 0;
  let longestMs = 0;
  const send = async (): Promise<void> => {
    await time.sleep(options.latencyMs ?? 20);
    try {
      server.take();
    } catch (err) {
      throw throttleAnswer(err);
    }
  };
  const worker = async (): Promise<void> => {
    while (next < options.operations) {
      next++;
      const started = time.now;
      const stallMs = options.stallMs ?? defaultStallMs;
      await pacedSend(send, { pacer, host: "sim.azure-devices-provisioning.net", stallMs });
      longestMs = Math.max(longestMs, time.now - started);
      completed++;
    }
  };
  const workers = Array.from({ length: options.workers }, worker);
  await time.run(() => completed === options.operations);
  await Promise.all(workers);
  return { completed, seconds: time.now / 1000, longestMs, pacer };
}

describe("pacedSend against the emulator's throttle", () => {
  test("configured at the quota: 5,000 operations by 16 callers use the quota with no 429", async () => {
    const run = await simulate({ configured: 1000, quota: 1000, operations: 5000, workers: 16 });
    expect(run.completed).toBe(5000);
    // The server's bucket starts full (a minute's worth) but the pacer never leans on it: a burst of 16, then one
    // every 60 ms: the 5,000th goes at (5,000 − 16) × 60 ms and completes 20 ms later.
    expect(run.seconds).toBe(299.06);
    expect(run.pacer.stats()).toEqual({
      operations: 5000,
      completed: 5000,
      throttled: 0,
      episodes: 0,
      perMinute: 1000,
      activeMs: 299_060,
    });
  });

  test("configured above the quota: everything completes, the pacer settles near the quota", async () => {
    const run = await simulate({ configured: 1000, quota: 300, operations: 3000, workers: 16 });
    expect(run.completed).toBe(3000);
    // The first minute rides the server's full bucket (300 + 300 a minute); after that the pacer settles.
    const afterBurst = ((run.completed - 300) / run.seconds) * 60;
    expect(afterBurst).toBeGreaterThan(0.95 * 300);
    expect(afterBurst).toBeLessThanOrEqual(300);
    // Deterministic under virtual time: one 429 every ten seconds or so, each answered by waiting, none failing.
    const stats = run.pacer.stats();
    expect(stats.throttled).toBe(53);
    expect(stats.operations).toBe(3053);
    expect(stats.completed).toBe(3000);
    expect(Math.round(run.seconds)).toBe(541);
  });
});

describe("pacedSend", () => {
  const host = "my-dps.azure-devices-provisioning.net";

  test("a 429 holds every caller until its Retry-After, then each goes in its turn at the lowered rate", async () => {
    const time = new VirtualTime();
    const pacer = new Pacer({ perMinute: 600, clock: time.clock, sleep: time.sleep });
    const sent: [number, number][] = [];
    // The DPS answers 429 with Retry-After 3 to everything sent before t = 3 s.
    const send = (caller: number) => async (): Promise<string> => {
      sent.push([caller, Math.round(time.now)]);
      await time.sleep(20);
      if (time.now < 3000) throw sdkError(429, { "retry-after": "3" });
      return `done ${caller}`;
    };
    const results: string[] = [];
    const calls = [0, 1, 2, 3].map((caller) =>
      pacedSend(send(caller), { pacer, host, stallMs: defaultStallMs }).then((r) => void results.push(r)),
    );
    await time.run(() => results.length === 4);
    await Promise.all(calls);
    // All four go at once (the burst), all get 429 at 20 ms: none goes again before 20 ms + 3 s, then one every
    // 142.857 ms (600 × 0.7 = 420 a minute), no burst.
    expect(sent).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 0],
      [0, 3020],
      [1, 3163],
      [2, 3306],
      [3, 3449],
    ]);
    expect(results).toEqual(["done 0", "done 1", "done 2", "done 3"]);
    // One episode for the four answers that came together; each success adds 600/400 to the rate.
    expect(pacer.stats()).toEqual({
      operations: 8,
      completed: 4,
      throttled: 4,
      episodes: 1,
      perMinute: 426,
      activeMs: 3469,
    });
  });

  test("only a stall fails: no answer but 429 from the DPS for the whole window, with the DPS and the time", async () => {
    const time = new VirtualTime();
    const pacer = new Pacer({ perMinute: 600, clock: time.clock, sleep: time.sleep });
    const sent: number[] = [];
    const send = async (): Promise<never> => {
      sent.push(time.now);
      await time.sleep(20);
      throw sdkError(429, { "retry-after": "10" });
    };
    let failure: unknown;
    const call = pacedSend(send, { pacer, host, stallMs: 60_000 }).catch((err: unknown) => (failure = err));
    await time.run(() => failure !== undefined);
    await call;
    expect(sent).toEqual([0, 10_020, 20_040, 30_060, 40_080, 50_100, 60_120]);
    expect(failure).toBeInstanceOf(ThrottleStallError);
    expect((failure as Error).message).toBe(
      "DPS my-dps.azure-devices-provisioning.net has answered every request with 429 (throttled) for 60 s: no " +
        "operation on it has completed since, so this one was given up. Another client is probably using the " +
        "DPS's whole operations quota; run again when it is done, or lower dps-enrollments:dpsOperationsPerMinute " +
        "to this stack's share of the quota.",
    );
  });

  test("operations wait far longer than the stall window, 429s included, while the DPS makes progress", async () => {
    // 16 callers share about one operation a second once the server's bucket is spent; the window is 5 s.
    const run = await simulate({ configured: 600, quota: 60, operations: 120, workers: 16, stallMs: 5_000 });
    expect(run.completed).toBe(120);
    // One operation waited 57 s for an answer other than 429, eleven times the window, and did not fail.
    expect(Math.round(run.longestMs)).toBe(57_484);
    expect(run.pacer.stats()).toEqual({
      operations: 133,
      completed: 120,
      throttled: 13,
      episodes: 12,
      perMinute: 69.68,
      activeMs: 107_419,
    });
  });

  test("a 429 after a quiet spell longer than the window is waited out, not taken for a stall", async () => {
    const time = new VirtualTime();
    const pacer = new Pacer({ perMinute: 600, clock: time.clock, sleep: time.sleep });
    // Ten minutes without a request (e.g. while the engine waits on other resources), then one 429.
    time.now = 600_000;
    let answers = 0;
    const send = async (): Promise<string> => {
      await time.sleep(20);
      if (answers++ === 0) throw sdkError(429, { "retry-after": "2" });
      return "created";
    };
    let result: string | undefined;
    const call = pacedSend(send, { pacer, host, stallMs: 60_000 }).then((r) => (result = r));
    await time.run(() => result !== undefined);
    await call;
    // The 429 at 600,020 ms, Retry-After 2 s, the second answer 20 ms after that.
    expect([result, time.now]).toEqual(["created", 602_040]);
  });

  test("any other answer is progress and goes back at once; a request with no answer is not progress", async () => {
    let now = 0;
    const pacer = new Pacer({ perMinute: 600, clock: () => now });
    pacer.throttled(0);
    now = 1_000;
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    await expect(pacedSend(() => Promise.reject(reset), { pacer, host, stallMs: defaultStallMs })).rejects.toBe(reset);
    expect(pacer.stalledFor()).toBe(1_000);
    await expect(
      pacedSend(() => Promise.reject(sdkError(404)), { pacer, host, stallMs: defaultStallMs }),
    ).rejects.toThrow("HTTP 404");
    expect(pacer.stalledFor()).toBe(0);
    expect(pacer.stats()).toMatchObject({ operations: 2, completed: 1, throttled: 1 });
  });
});

describe("PacerRegistry", () => {
  test("one pacer per DPS host, whatever its case; a 429 from one DPS holds none of the others' callers", async () => {
    const time = new VirtualTime();
    const registry = new PacerRegistry(
      600,
      (perMinute) => new Pacer({ perMinute, clock: time.clock, sleep: time.sleep }),
    );
    const a = registry.get("dps-a.azure-devices-provisioning.net");
    expect(registry.get("DPS-A.azure-devices-provisioning.net")).toBe(a);
    const b = registry.get("dps-b.azure-devices-provisioning.net");
    expect(b).not.toBe(a);
    a.throttled(5_000);
    const granted: [string, number][] = [];
    const calls = [
      a.acquire().then(() => void granted.push(["a", time.now])),
      b.acquire().then(() => void granted.push(["b", time.now])),
    ];
    await time.run(() => granted.length === 2);
    await Promise.all(calls);
    expect(granted).toEqual([
      ["b", 0],
      ["a", 5_000],
    ]);
    // Only pacers that handed out a slot report figures.
    registry.get("dps-c.azure-devices-provisioning.net");
    expect(registry.stats().map((s) => s.host)).toEqual([
      "dps-a.azure-devices-provisioning.net",
      "dps-b.azure-devices-provisioning.net",
    ]);
  });

  test("the pacing line names the DPS and gives what it achieved against what was configured", () => {
    const lines = pacingSummary([
      {
        host: "my-dps.azure-devices-provisioning.net",
        configuredPerMinute: 1000,
        stats: { operations: 650, completed: 600, throttled: 50, episodes: 7, perMinute: 301.4, activeMs: 95_000 },
      },
    ]);
    expect(lines).toEqual([
      "dps-enrollments pacing: DPS my-dps.azure-devices-provisioning.net: 600 operations in 95.0 s (379 a minute; " +
        "configured 1000, now 301), 50 answered 429 in 7 episode(s)",
    ]);
    expect(parsePacingLine(lines[0])).toEqual({
      host: "my-dps.azure-devices-provisioning.net",
      completed: 600,
      seconds: 95,
      perMinute: 379,
      configuredPerMinute: 1000,
      throttled: 50,
      episodes: 7,
    });
    expect(parsePacingLine("dps-enrollments pacing: something else")).toBeUndefined();
  });
});

describe("configuredOperationsPerMinute", () => {
  const config =
    (values: Record<string, string>) =>
    (key: string): string | undefined =>
      values[key];

  test.each([
    [{}, 1000],
    [{ platform: "emulator" }, 1000],
    [{ platform: "existing", dpsCapacity: "3" }, 1000],
    [{ platform: "azure" }, 1000],
    [{ platform: "azure", dpsCapacity: "3" }, 3000],
    [{ platform: "azure", dpsCapacity: "3", dpsOperationsPerMinute: "0" }, 3000],
    [{ platform: "azure", dpsCapacity: "3", dpsOperationsPerMinute: "" }, 3000],
    [{ platform: "azure", dpsCapacity: "3", dpsOperationsPerMinute: "500" }, 500],
    [{ dpsOperationsPerMinute: " 250 " }, 250],
    // Typed config may arrive as a number.
    [{ platform: "azure", dpsCapacity: 2 as unknown as string }, 2000],
  ])("%j: %d a minute", (values, expected) => {
    expect(configuredOperationsPerMinute(config(values))).toBe(expected);
  });

  test.each([
    [{ dpsOperationsPerMinute: "-5" }, "dpsOperationsPerMinute must be a whole number from 0 to 1000000 (got '-5')"],
    [
      { dpsOperationsPerMinute: "12.5" },
      "dpsOperationsPerMinute must be a whole number from 0 to 1000000 (got '12.5')",
    ],
    [
      { dpsOperationsPerMinute: "fast" },
      "dpsOperationsPerMinute must be a whole number from 0 to 1000000 (got 'fast')",
    ],
    [
      { dpsOperationsPerMinute: "2000000" },
      "dpsOperationsPerMinute must be a whole number from 0 to 1000000 (got '2000000')",
    ],
    [{ platform: "azure", dpsCapacity: "0" }, "dpsCapacity must be a whole number from 1 to 1000 (got '0')"],
  ])("%j is refused, naming the key", (values, message) => {
    expect(() => configuredOperationsPerMinute(config(values))).toThrow(`config dps-enrollments:${message}`);
  });
});
