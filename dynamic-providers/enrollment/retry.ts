// Retries for DPS calls: 5xx and connection resets back off exponentially with full jitter, a bounded number of
// attempts. Callers make every operation safe to repeat. 429 is not retried here: every request already waited for
// it in its DPS's pacer (pacing.ts), which gives up only when that DPS stalls.

export interface RetryOptions {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const defaultRetry: RetryOptions = { attempts: 6, baseDelayMs: 250, maxDelayMs: 8000 };

/** What an SDK error tells about the HTTP exchange (the SDK attaches the response to its errors). */
export function errorStatus(err: unknown): number | undefined {
  return (err as { response?: { statusCode?: number } } | undefined)?.response?.statusCode;
}

/** The Retry-After header of an SDK error's response, in milliseconds. */
export function retryAfterMs(err: unknown): number | undefined {
  const headers = (err as { response?: { headers?: Record<string, unknown> } }).response?.headers;
  const value = Number(headers?.["retry-after"]);
  return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
}

const transientCodes = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ECONNABORTED"]);

/** The delay before the next attempt, or undefined when the error is not worth retrying. */
export function retryDelay(err: unknown, attempt: number, options: RetryOptions): number | undefined {
  const status = errorStatus(err);
  const random = options.random ?? Math.random;
  const code = (err as { code?: string } | undefined)?.code;
  const transient =
    (status !== undefined && status >= 500) ||
    (status === undefined &&
      (transientCodes.has(code ?? "") || /socket hang up/i.test(String((err as Error)?.message))));
  if (!transient) return undefined;
  return Math.floor(random() * Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt));
}

/** Runs `call` until it succeeds, fails for good, or runs out of attempts; `onRetry` hears every retry. */
export async function withRetry<T>(
  call: (attempt: number) => Promise<T>,
  options: RetryOptions = defaultRetry,
  onRetry: (err: unknown, delayMs: number) => void = () => undefined,
): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(attempt);
    } catch (err) {
      const delay = attempt + 1 < options.attempts ? retryDelay(err, attempt, options) : undefined;
      if (delay === undefined) throw err;
      onRetry(err, delay);
      await sleep(delay);
    }
  }
}
