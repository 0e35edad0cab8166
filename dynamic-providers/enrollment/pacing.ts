// How the provider process paces its DPS operations: one Pacer per DPS (service host), every request through
// `pacedSend`, and the rate from the stack's configuration. service-client.ts calls `pacedSend` for every HTTP request
// the SDK client makes (create, get, update, delete, key reads, query pages), so every resource type inherits it.
//
// A 429 is never an operation's failure while the DPS makes progress: the request waits for its slot again (the
// pacer has blocked every caller until Retry-After and slowed down). Only a stall — no answer but 429 from that DPS
// for `stallMs` — fails it: then something else holds the whole quota, and waiting longer would only hide that.
import { Pacer, type PacerStats } from "./pacer";
import { errorStatus, retryAfterMs } from "./retry";

/** DPS's operations quota: 1,000 a minute per unit (dps-api.md §9). */
export const operationsPerUnit = 1000;

/**
 * How long a DPS may answer nothing but 429 before an operation fails: three whole quota windows (DPS counts its
 * quota per minute, and Retry-After is seconds), long enough for another client's burst to pass, short enough that a
 * run that cannot progress says so within minutes.
 */
export const defaultStallMs = 180_000;

export interface PacingOptions {
  pacer: Pacer;
  /** The DPS's service host name, for messages. */
  host: string;
  stallMs: number;
}

/** An operation given up after its DPS answered only 429 for the whole stall window. */
export class ThrottleStallError extends Error {
  constructor(host: string, stalledMs: number) {
    super(
      `DPS ${host} has answered every request with 429 (throttled) for ${Math.round(stalledMs / 1000)} s: no ` +
        `operation on it has completed since, so this one was given up. Another client is probably using the ` +
        `DPS's whole operations quota; run again when it is done, or lower dps-enrollments:dpsOperationsPerMinute ` +
        `to this stack's share of the quota.`,
    );
    this.name = "ThrottleStallError";
  }
}

/**
 * Sends one request in its turn: waits for a slot, and on 429 tells the pacer (which blocks every caller until
 * Retry-After) and waits for a slot again, until the request gets another answer or the DPS stalls. Any other HTTP
 * answer, error or not, is progress; a request that got no answer (connection lost) is neither and is rethrown.
 */
export async function pacedSend<T>(send: () => Promise<T>, options: PacingOptions): Promise<T> {
  const { pacer } = options;
  for (;;) {
    await pacer.acquire();
    try {
      const result = await send();
      pacer.succeeded();
      return result;
    } catch (err) {
      const status = errorStatus(err);
      if (status !== 429) {
        if (status !== undefined) pacer.succeeded();
        throw err;
      }
      pacer.throttled(retryAfterMs(err));
      const stalled = pacer.stalledFor();
      if (stalled >= options.stallMs) throw new ThrottleStallError(options.host, stalled);
    }
  }
}

/** One pacer per DPS service host (host names compare case-insensitively), all at the same configured rate. */
export class PacerRegistry {
  private readonly pacers = new Map<string, Pacer>();

  constructor(
    readonly perMinute: number,
    private readonly make: (perMinute: number) => Pacer = (perMinute) => new Pacer({ perMinute }),
  ) {}

  get(host: string): Pacer {
    const key = host.toLowerCase();
    let pacer = this.pacers.get(key);
    if (!pacer) {
      pacer = this.make(this.perMinute);
      this.pacers.set(key, pacer);
    }
    return pacer;
  }

  /** Each DPS's figures, for the pacers that handed out at least one slot. */
  stats(): { host: string; stats: PacerStats; configuredPerMinute: number }[] {
    return [...this.pacers]
      .map(([host, pacer]) => ({ host, stats: pacer.stats(), configuredPerMinute: pacer.configuredPerMinute }))
      .filter((entry) => entry.stats.operations > 0);
  }
}

/** The stack configuration keys pacing reads, in the provider's namespace (`dps-enrollments:`). */
export const pacingConfigKeys = { rate: "dpsOperationsPerMinute", capacity: "dpsCapacity" } as const;

const maxPerMinute = 1_000_000;

/**
 * Operations a minute from the stack config: `dpsOperationsPerMinute` when set (0 or empty: the default), else
 * 1,000 × the DPS's units — `dpsCapacity` with `platform: azure`, which provisions the DPS; one unit otherwise, as
 * the provider cannot see another DPS's units. Throws naming the key when a value is not a whole number in range.
 */
export function configuredOperationsPerMinute(get: (key: string) => string | undefined): number {
  const whole = (key: string, text: string, min: number, max: number): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
      throw new Error(`config dps-enrollments:${key} must be a whole number from ${min} to ${max} (got '${text}')`);
    }
    return value;
  };
  // Typed config (Pulumi.yaml declares these integers) may arrive as a number.
  const text = (key: string): string | undefined => {
    const value = get(key) as string | number | undefined;
    return value === undefined ? undefined : String(value).trim();
  };
  const rate = text(pacingConfigKeys.rate);
  if (rate) {
    const value = whole(pacingConfigKeys.rate, rate, 0, maxPerMinute);
    if (value > 0) return value;
  }
  if (get("platform") === "azure") {
    const capacity = text(pacingConfigKeys.capacity);
    if (capacity) return operationsPerUnit * whole(pacingConfigKeys.capacity, capacity, 1, 1000);
  }
  return operationsPerUnit;
}

/** One line per DPS: what its pacer did, for the end of a run. */
export function pacingSummary(entries: ReturnType<PacerRegistry["stats"]>): string[] {
  return entries.map(({ host, stats, configuredPerMinute }) => {
    const perMinute = stats.activeMs > 0 ? Math.round((stats.completed * 60_000) / stats.activeMs) : stats.completed;
    return (
      `dps-enrollments pacing: DPS ${host}: ${stats.completed} operations in ${(stats.activeMs / 1000).toFixed(1)} s ` +
      `(${perMinute} a minute; configured ${configuredPerMinute}, now ${Math.round(stats.perMinute)}), ` +
      `${stats.throttled} answered 429 in ${stats.episodes} episode(s)`
    );
  });
}

/** What one pacing line says, read back (the benchmark's and the tests' side of `pacingSummary`). */
export interface PacingFigures {
  host: string;
  completed: number;
  seconds: number;
  perMinute: number;
  configuredPerMinute: number;
  throttled: number;
  episodes: number;
}

const pacingLine =
  /^dps-enrollments pacing: DPS (\S+): (\d+) operations in ([\d.]+) s \((\d+) a minute; configured (\d+), now \d+\), (\d+) answered 429 in (\d+) episode\(s\)$/;

export function parsePacingLine(line: string): PacingFigures | undefined {
  const m = pacingLine.exec(line.trim());
  if (!m) return undefined;
  const [host, ...numbers] = m.slice(1);
  const [completed, seconds, perMinute, configuredPerMinute, throttled, episodes] = numbers.map(Number);
  return { host, completed, seconds, perMinute, configuredPerMinute, throttled, episodes };
}
