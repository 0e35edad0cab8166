// Command-line flags of the project's commands (the emulator, the benchmarks, dev-certs) on node:util parseArgs:
// `--flag value` and `--flag=value`, repeatable flags, `--help`. parseArgs runs non-strict so that a value may start
// with a single dash (`--mqtt-port -1`); the checks strict mode would make are made here, each as an error that
// names the flag.
import { parseArgs } from "node:util";

export interface FlagSpec {
  type: "string" | "boolean";
  /** May be given more than once; the values come back in order. */
  multiple?: boolean;
  /** One-letter alias, e.g. `h` for `-h`. */
  short?: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type FlagValue<S extends FlagSpec> = S["type"] extends "boolean"
  ? boolean
  : S["multiple"] extends true
    ? string[]
    : string | undefined;

export type Flags<T extends FlagSpecs> = { -readonly [K in keyof T]: FlagValue<T[K]> };

/** A command line the command cannot run with; the message names the flag or argument. */
export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FlagError";
  }
}

export function parseFlags<T extends FlagSpecs>(argv: readonly string[], specs: T): Flags<T> {
  const { tokens } = parseArgs({
    args: [...argv],
    options: specs,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | string[] | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) {
    values[name] = spec.type === "boolean" ? false : spec.multiple ? [] : undefined;
  }
  for (const token of tokens) {
    if (token.kind === "positional") {
      throw new FlagError(`unexpected argument ${JSON.stringify(token.value)}: values follow their flag`);
    }
    if (token.kind === "option-terminator") {
      throw new FlagError(`unexpected argument "--": values follow their flag`);
    }
    const spec = Object.hasOwn(specs, token.name) ? specs[token.name] : undefined;
    if (!spec) {
      throw new FlagError(`unknown flag ${JSON.stringify(token.rawName)}`);
    }
    const flag = `--${token.name}`;
    if (spec.type === "boolean") {
      if (token.value !== undefined) throw new FlagError(`${flag} takes no value`);
      values[token.name] = true;
      continue;
    }
    if (token.value === undefined) {
      throw new FlagError(`${flag} needs a value`);
    }
    if (!token.inlineValue && token.value.startsWith("--")) {
      // What strict parseArgs calls ambiguous: most likely the value was forgotten.
      throw new FlagError(
        `${flag} needs a value, not the flag ${token.value} (write ${flag}=${token.value} if you mean it)`,
      );
    }
    const current = values[token.name];
    if (Array.isArray(current)) {
      current.push(token.value);
    } else if (current !== undefined) {
      throw new FlagError(`${flag} is given twice`);
    } else {
      values[token.name] = token.value;
    }
  }
  return values as Flags<T>;
}

/** A whole number within [min, max], or an error naming the flag and the value. */
export function integerFlag(flag: string, value: string, min: number, max: number): number {
  const n = /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new FlagError(`${flag} ${JSON.stringify(value)}: expected a whole number from ${min} to ${max}`);
  }
  return n;
}
