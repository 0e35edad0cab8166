// The pacer under a virtual clock: slots, bursts, blocks on 429 and the rate's recovery (pacing.test.ts runs it
// against the emulator's own throttle through the provider's request loop).
import { VirtualTime } from "../../tests/support/virtual-time";
import { Pacer } from "./pacer";

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
    expect(pacer.stats()).toEqual({
      operations: 13,
      completed: 0,
      throttled: 0,
      episodes: 0,
      perMinute: 600,
      activeMs: 0,
    });
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
    expect(pacer.stats()).toEqual({
      operations: 13,
      completed: 0,
      throttled: 3,
      episodes: 1,
      perMinute: 420,
      activeMs: 0,
    });
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
    expect(fast.stats()).toEqual({
      operations: 0,
      completed: 0,
      throttled: 20,
      episodes: 20,
      perMinute: 100,
      activeMs: 0,
    });
    expect(pacer.stats().perMinute).toBe(1000);
  });

  test("stalledFor counts from the first 429 after the last completed operation", () => {
    let now = 1_000;
    const pacer = new Pacer({ perMinute: 60, clock: () => now });
    now = 600_000;
    // Idle time is no stall.
    expect(pacer.stalledFor()).toBe(0);
    pacer.throttled(1000);
    now = 603_000;
    pacer.throttled(1000);
    now = 604_500;
    expect(pacer.stalledFor()).toBe(4_500);
    pacer.succeeded();
    expect(pacer.stalledFor()).toBe(0);
  });

  test("stats count completed operations and the time from the first slot to the last answer", async () => {
    const time = new VirtualTime();
    const pacer = new Pacer({ perMinute: 60, burst: 1, clock: time.clock, sleep: time.sleep });
    time.now = 500;
    await pacer.acquire();
    time.now = 700;
    pacer.succeeded();
    const second = pacer.acquire();
    await time.run(() => time.now === 1500);
    await second;
    time.now = 1800;
    pacer.throttled(2000);
    // The success cannot raise the rate above the configured 60; the 429 lowers it to 60 × 0.7.
    expect(pacer.stats()).toEqual({
      operations: 2,
      completed: 1,
      throttled: 1,
      episodes: 1,
      perMinute: 42,
      activeMs: 1300,
    });
  });

  test.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY])("refuses %p operations per minute", (perMinute) => {
    expect(() => new Pacer({ perMinute })).toThrow(`operations per minute must be a positive number, not ${perMinute}`);
  });
});
