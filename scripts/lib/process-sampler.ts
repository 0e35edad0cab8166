// What processes cost while something runs: every 100 ms, the resident memory and CPU time of the processes whose
// command line matches a pattern and that run in a given directory (Linux /proc), for the benchmarks. The
// directory keeps out the same programs of anyone else on the machine.
import * as fs from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const ticksPerSecond = 100;

export interface ProcessCosts<T> {
  result: T;
  /** Peak resident memory of one matching process, MiB, per pattern. */
  peaks: Record<string, number>;
  /** CPU seconds (user + system) of all matching processes together, per pattern, as last sampled. */
  cpuSeconds: Record<string, number>;
}

/** Samples the processes whose command line matches a pattern and whose working directory is under `dir`. */
export async function sampleProcesses<T>(
  dir: string,
  patterns: Record<string, RegExp>,
  run: () => Promise<T>,
): Promise<ProcessCosts<T>> {
  const peaks: Record<string, number> = Object.fromEntries(Object.keys(patterns).map((k) => [k, 0]));
  const cpu = new Map<string, { pattern: string; seconds: number }>();
  const sample = (): void => {
    for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
      try {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
        if (!Object.values(patterns).some((p) => p.test(cmd))) continue;
        const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
        if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
        for (const [name, pattern] of Object.entries(patterns)) {
          if (!pattern.test(cmd)) continue;
          const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
          peaks[name] = Math.max(peaks[name], kb / 1024);
          // Fields after the command name: state is the 3rd field of the line, utime the 14th, stime the 15th.
          const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
          const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
          cpu.set(pid, { pattern: name, seconds: (Number(fields[11]) + Number(fields[12])) / ticksPerSecond });
        }
      } catch {
        // the process ended between listing and reading
      }
    }
  };
  const timer = setInterval(sample, 100);
  try {
    const result = await run();
    const cpuSeconds: Record<string, number> = Object.fromEntries(Object.keys(patterns).map((k) => [k, 0]));
    for (const { pattern, seconds } of cpu.values()) cpuSeconds[pattern] += seconds;
    return { result, peaks, cpuSeconds };
  } finally {
    clearInterval(timer);
  }
}
