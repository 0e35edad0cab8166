// Processes as /proc shows them, for tests that kill a Pulumi CLI the way a machine loses it and must leave nothing
// running. The CLI starts its language host and each provider plugin in a process group of its own (Pulumi's
// cmdutil.RegisterProcessGroup), so killing the CLI's group misses them, and killing the CLI alone orphans them: a
// tree is frozen first (SIGSTOP: nobody starts anything more), then every member and its process group is killed.
import * as fs from "node:fs";

export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  /** R, S, D, T, Z, … */
  state: string;
}

/** One process from /proc/<pid>/stat, or undefined when it has gone. */
function stat(pid: number): ProcessInfo | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may hold spaces: the fields after it are state, ppid, pgrp.
    const [state, ppid, pgid] = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { pid, ppid: Number(ppid), pgid: Number(pgid), state };
  } catch {
    return undefined;
  }
}

function pids(): number[] {
  return fs
    .readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .map(Number);
}

export function processes(): ProcessInfo[] {
  return pids()
    .map(stat)
    .filter((p): p is ProcessInfo => p !== undefined);
}

/** `pid` and every process below it. */
export function tree(pid: number, table: ProcessInfo[] = processes()): number[] {
  const children = table.filter((p) => p.ppid === pid).map((p) => p.pid);
  return [pid, ...children.flatMap((child) => tree(child, table))];
}

function signal(target: number, name: NodeJS.Signals): void {
  try {
    process.kill(target, name);
  } catch {
    // it ended on its own meanwhile
  }
}

/**
 * SIGKILLs `pid` and everything below it, as a lost machine would stop them: the tree is frozen until no new member
 * appears, then each member and each member's process group (not this process's own) is killed.
 */
export function killTree(pid: number): number[] {
  const frozen = new Set<number>();
  for (;;) {
    const members = tree(pid).filter((p) => !frozen.has(p));
    if (members.length === 0) break;
    for (const member of members) {
      signal(member, "SIGSTOP");
      frozen.add(member);
    }
  }
  const own = stat(process.pid)?.pgid;
  const groups = new Set(
    [...frozen].map((p) => stat(p)?.pgid).filter((g): g is number => g !== undefined && g !== own),
  );
  for (const group of groups) signal(-group, "SIGKILL");
  for (const member of frozen) signal(member, "SIGKILL");
  return [...frozen];
}

export interface Survivor {
  pid: number;
  cmdline: string;
  cwd: string;
}

/** Live processes (zombies aside: they run nothing) whose command line or working directory mentions `dir`. */
export function survivorsIn(dir: string): Survivor[] {
  const found: Survivor[] = [];
  for (const info of processes()) {
    if (info.pid === process.pid || info.state === "Z" || info.state === "X") continue;
    let cmdline = "";
    let cwd = "";
    try {
      cmdline = fs.readFileSync(`/proc/${info.pid}/cmdline`, "utf8").split("\0").join(" ").trim();
      cwd = fs.readlinkSync(`/proc/${info.pid}/cwd`);
    } catch {
      // gone, or not ours to read
    }
    if (cmdline.includes(dir) || cwd === dir || cwd.startsWith(`${dir}/`)) found.push({ pid: info.pid, cmdline, cwd });
  }
  return found;
}

/** Waits until no live process mentions `dir` (killed processes take a moment to go); returns what is left. */
export async function awaitNoSurvivors(dir: string, timeoutMs = 10_000): Promise<Survivor[]> {
  const started = Date.now();
  let left = survivorsIn(dir);
  while (left.length > 0 && Date.now() - started < timeoutMs) {
    await new Promise((r) => setTimeout(r, 100));
    left = survivorsIn(dir);
  }
  return left;
}

/** The process running `executable` with `argument` among its arguments, in working directory `cwd`. */
export function findProcess(executable: string, argument: string, cwd: string): number | undefined {
  for (const pid of pids()) {
    try {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (args[0] === executable && args.includes(argument) && fs.readlinkSync(`/proc/${pid}/cwd`) === cwd) return pid;
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}
