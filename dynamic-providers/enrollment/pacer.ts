// One pacer per DPS in the provider process. The engine runs every resource of a run through one provider process,
// so every DPS service operation of an `up`, `refresh` or `destroy` (create, read, key read, update, delete) takes a
// slot here first: a run of thousands of enrollments stays under the DPS operations quota (1,000 a minute per unit)
// instead of each resource discovering 429 on its own and all of them retrying at once.
//
// The bucket is GCRA (a token bucket expressed as a "theoretical arrival time"): `perMinute` slots a minute with a
// burst of `burst`, handed out in call order. A 429 blocks every caller until its Retry-After and lowers the rate once
// per throttling episode (multiplicative decrease, with no burst after the block); every success raises the rate
// again by a small step (additive increase), never above the configured rate. So a quota lower than configured (a
// DPS with fewer units, another client using the same DPS) costs a few 429s, not failures.

export interface PacerOptions {
  /** The configured rate: operations per minute. */
  perMinute: number;
  /** Operations that may go at once after an idle spell (default: one second's worth, at least 1). */
  burst?: number;
  /** The rate never drops below this (default: 1 % of perMinute, at least 1 a minute). */
  minPerMinute?: number;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface PacerStats {
  /** Slots handed out. */
  operations: number;
  /** Answers other than 429 reported: operations that completed. */
  completed: number;
  /** Answers of 429 reported. */
  throttled: number;
  /** Throttling episodes (each lowered the rate once). */
  episodes: number;
  /** The current rate, operations per minute. */
  perMinute: number;
  /** Milliseconds from the first slot to the last answer. */
  activeMs: number;
}

/** Rate multiplier on a new throttling episode. */
const decrease = 0.7;
/** Rate step per success, as a fraction of the configured rate. */
const increase = 1 / 400;

export class Pacer {
  readonly configuredPerMinute: number;
  private rate: number;
  private readonly burst: number;
  private readonly minRate: number;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Theoretical arrival time: when the bucket would be empty again at the current rate. */
  private tat = Number.NEGATIVE_INFINITY;
  private blockedUntil = Number.NEGATIVE_INFINITY;
  /** When the DPS began answering nothing but 429 (undefined while its last answer was anything else). */
  private throttledSince: number | undefined;
  private firstSlot: number | undefined;
  private lastAnswer: number | undefined;
  private readonly counts = { operations: 0, completed: 0, throttled: 0, episodes: 0 };

  constructor(options: PacerOptions) {
    if (!(options.perMinute > 0) || !Number.isFinite(options.perMinute)) {
      throw new RangeError(`operations per minute must be a positive number, not ${options.perMinute}`);
    }
    this.configuredPerMinute = options.perMinute;
    this.rate = options.perMinute;
    this.burst = Math.max(1, Math.floor(options.burst ?? options.perMinute / 60));
    this.minRate = Math.min(options.perMinute, Math.max(1, options.minPerMinute ?? options.perMinute / 100));
    this.clock = options.clock ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  }

  private get interval(): number {
    return 60_000 / this.rate;
  }

  /** Waits for the next slot. Slots are reserved in call order; a 429 meanwhile sends the caller back in line. */
  async acquire(): Promise<void> {
    for (;;) {
      const now = this.clock();
      const tolerance = (this.burst - 1) * this.interval;
      const at = Math.max(now, this.blockedUntil, this.tat - tolerance);
      this.tat = Math.max(this.tat, at) + this.interval;
      if (at > now) await this.sleep(at - now);
      if (this.clock() >= this.blockedUntil) {
        this.firstSlot ??= this.clock();
        this.counts.operations++;
        return;
      }
    }
  }

  /** Reports an answer of 429; `retryAfterMs` from the service's Retry-After header when it sent one. */
  throttled(retryAfterMs?: number): void {
    const now = this.clock();
    this.lastAnswer = now;
    this.throttledSince ??= now;
    this.counts.throttled++;
    // Answers to requests sent together arrive together: only the first 429 of an episode lowers the rate.
    if (now >= this.blockedUntil) {
      this.counts.episodes++;
      this.rate = Math.max(this.minRate, this.rate * decrease);
    }
    const wait = retryAfterMs !== undefined && retryAfterMs >= 0 ? retryAfterMs : Math.max(1000, this.interval);
    this.blockedUntil = Math.max(this.blockedUntil, now + wait);
    // No burst after the block: the first caller goes at its end, the rest one interval apart.
    this.tat = Math.max(this.tat, this.blockedUntil + (this.burst - 1) * this.interval);
  }

  /** Reports a completed operation (anything but 429): the run is making progress. */
  succeeded(): void {
    this.lastAnswer = this.clock();
    this.throttledSince = undefined;
    this.counts.completed++;
    this.rate = Math.min(this.configuredPerMinute, this.rate + this.configuredPerMinute * increase);
  }

  /**
   * Milliseconds the DPS has answered nothing but 429: since the first 429 after the last completed operation, 0
   * when its last answer was another. Idle time is not a stall: a 429 after a quiet spell starts from 0.
   */
  stalledFor(): number {
    return this.throttledSince === undefined ? 0 : this.clock() - this.throttledSince;
  }

  stats(): PacerStats {
    const activeMs =
      this.firstSlot === undefined || this.lastAnswer === undefined
        ? 0
        : Math.round(Math.max(0, this.lastAnswer - this.firstSlot));
    return { ...this.counts, perMinute: Math.round(this.rate * 100) / 100, activeMs };
  }
}
