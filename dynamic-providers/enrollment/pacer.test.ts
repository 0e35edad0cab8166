// The pacer under a virtual clock against the emulator's own throttle (the token bucket that answers 429 with
// Retry-After): workers acquire a slot, "send" an operation and report the answer, as the provider's retry loop does.
import { DpsError } from "../../emulator/errors";
import { Throttle } from "../../emulator/middleware";
import { Pacer } from "./pacer";

/** Discrete-event time: sleeps resolve in time order, and the clock jumps from one to the next. */
class VirtualTime {
  now = 0;
  private seq = 0;
  private timers: { at: number; seq: number; resolve: () => void }[] = [];

  readonly clock = (): number => this.now;
  readonly sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => this.timers.push({ at: this.now + Math.max(0, ms), seq: this.seq++, resolve }));

  /** Runs until `done()`; every promise chain runs to its next sleep before time moves. */
  async run(done: () => boolean): Promise<void> {
    for (;;) {
      await new Promise((r) => setImmediate(r));
      if (done()) return;
      if (this.timers.length === 0) throw new Error("nothing is waiting: the simulation is stuck");
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift()!;
      this.now = Math.max(this.now, next.at);
      next.resolve();
    }
  }
}

interface Run {
  completed: number;
  throttled: number;
  seconds: number;
  perMinute: number;
  pacer: Pacer;
}

/** `operations` operations through `workers` parallel callers; the server allows `quota` a minute. */
async function simulate(options: {
  configured: number;
  quota: number;
  operations: number;
  workers: number;
  latencyMs?: number;
}): Promise<Run> {
  const time = new VirtualTime();
  const server = new Throttle(options.quota, time.clock);
  const pacer = new Pacer({ perMinute: options.configured, clock: time.clock, sleep: time.sleep });
  let next = 0;
  let completed = 0;
  let throttled = 0;
  const worker = async (): Promise<void> => {
    while (next < options.operations) {
      next++;
      for (;;) {
        await pacer.acquire();
        await time.sleep(options.latencyMs ?? 20);
        try {
          server.take();
          pacer.succeeded();
          completed++;
          break;
        } catch (err) {
          const retryAfter = Number((err as DpsError).headers["Retry-After"]);
          throttled++;
          pacer.throttled(retryAfter * 1000);
        }
      }
    }
  };
  const workers = Array.from({ length: options.workers }, worker);
  await time.run(() => completed === options.operations);
  await Promise.all(workers);
  const seconds = time.now / 1000;
  return { completed, throttled, seconds, perMinute: (completed / seconds) * 60, pacer };
}

describe("Pacer", () => {
  test("a burst of one second's worth, then one slot per interval, in call order", async () => {
    const time = new VirtualTime();
    const pacer = new Pacer({ perMinute: 600, clock: time.clock, sleep: time.sleep });
    const granted: [number, number][] = [];
    const all = Array.from({ length: 13 }, async (_, i) => {
      await pacer.acquire();
      granted.push([i, time.now]);
    });
    await time.run(() => granted.length === 13);
    await Promise.all(all);
    // 600 a minute: a burst of 10 at once, then one every 100 ms.
    expect(granted).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
      [5, 0],
      [6, 0],
      [7, 0],
      [8, 0],
      [9, 0],
      [10, 100],
      [11, 200],
      [12, 300],
    ]);
    expect(pacer.stats()).toEqual({ operations: 13, throttled: 0, episodes: 0, perMinute: 600 });
  });

  test("a 429 blocks every caller until Retry-After, lowers the rate once per episode and drops the burst", async () => {
    const time = new VirtualTime();
    const pacer = new Pacer({ perMinute: 600, clock: time.clock, sleep: time.sleep });
    for (let i = 0; i < 10; i++) await pacer.acquire();
    // Three answers of 429 for requests sent together: one episode.
    pacer.throttled(2000);
    pacer.throttled(2000);
    pacer.throttled(2000);
    const granted: number[] = [];
    const all = Array.from({ length: 3 }, async () => {
      await pacer.acquire();
      granted.push(time.now);
    });
    await time.run(() => granted.length === 3);
    await Promise.all(all);
    // 600 × 0.7 = 420 a minute: one slot every 142.857 ms after the 2 s block, no burst.
    expect(granted.map((t) => Math.round(t))).toEqual([2000, 2143, 2286]);
    expect(pacer.stats()).toEqual({ operations: 13, throttled: 3, episodes: 1, perMinute: 420 });
  });

  test("a caller already waiting for its slot when a 429 arrives waits for the block's end", async () => {
    const time = new VirtualTime();
    const pacer = new Pacer({ perMinute: 60, burst: 1, clock: time.clock, sleep: time.sleep });
    await pacer.acquire();
    let grantedAt: number | undefined;
    const waiting = pacer.acquire().then(() => (grantedAt = time.now));
    await new Promise((r) => setImmediate(r));
    pacer.throttled(5000);
    await time.run(() => grantedAt !== undefined);
    await waiting;
    expect(grantedAt).toBe(5000);
  });

  test("successes raise the rate again, never above the configured rate", () => {
    const time = new VirtualTime();
    const pacer = new Pacer({ perMinute: 1000, clock: time.clock, sleep: time.sleep });
    pacer.throttled(1000);
    expect(pacer.stats().perMinute).toBe(700);
    for (let i = 0; i < 40; i++) pacer.succeeded();
    expect(pacer.stats().perMinute).toBe(800);
    for (let i = 0; i < 1000; i++) pacer.succeeded();
    expect(pacer.stats().perMinute).toBe(1000);
  });

  test("the rate never drops below the floor", () => {
    const pacer = new Pacer({ perMinute: 1000, minPerMinute: 100 });
    let now = 0;
    const fast = new Pacer({ perMinute: 1000, minPerMinute: 100, clock: () => now });
    for (let i = 0; i < 20; i++) {
      now += 10_000;
      fast.throttled(1000);
    }
    expect(fast.stats()).toEqual({ operations: 0, throttled: 20, episodes: 20, perMinute: 100 });
    expect(pacer.stats().perMinute).toBe(1000);
  });

  test("sinceProgress counts from the last success", () => {
    let now = 1_000;
    const pacer = new Pacer({ perMinute: 60, clock: () => now });
    now = 4_000;
    expect(pacer.sinceProgress()).toBe(3_000);
    pacer.succeeded();
    now = 4_500;
    expect(pacer.sinceProgress()).toBe(500);
  });

  test.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY])("refuses %p operations per minute", (perMinute) => {
    expect(() => new Pacer({ perMinute })).toThrow(`operations per minute must be a positive number, not ${perMinute}`);
  });

  test("configured at the quota: 5,000 operations by 16 callers use the quota with no 429", async () => {
    const run = await simulate({ configured: 1000, quota: 1000, operations: 5000, workers: 16 });
    expect(run.completed).toBe(5000);
    expect(run.throttled).toBe(0);
    // The server's bucket starts full (a minute's worth) but the pacer never leans on it: a burst of 16, then one
    // every 60 ms: the 5,000th goes at (5,000 − 16) × 60 ms and completes 20 ms later.
    expect(run.seconds).toBe(299.06);
  });

  test("configured above the quota: everything completes, the pacer settles near the quota", async () => {
    const run = await simulate({ configured: 1000, quota: 300, operations: 3000, workers: 16 });
    expect(run.completed).toBe(3000);
    // The first minute rides the server's full bucket (300 + 300 a minute); after that the pacer settles.
    const afterBurst = ((run.completed - 300) / run.seconds) * 60;
    expect(afterBurst).toBeGreaterThan(0.95 * 300);
    expect(afterBurst).toBeLessThanOrEqual(300);
    // Deterministic under virtual time: one 429 every ten seconds or so, each answered by waiting, none failing.
    expect(run.throttled).toBe(53);
    expect(Math.round(run.seconds)).toBe(541);
  });
});
