// Discrete-event time for tests of code that takes a clock and a sleep (the pacer): sleeps resolve in time order,
// and the clock jumps from one to the next.
export class VirtualTime {
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
