// The toolchain: Node >= 22.13, the pinned Pulumi CLI with its language host and dynamic-provider launcher, and a
// dynamic resource through the real engine on a temporary file backend.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { lockedPulumiVersion, pinnedPulumiBin, projectRoot } from "../scripts/lib/pulumi-cli";
import { runToolchainLifecycle } from "../scripts/lib/toolchain-lifecycle";

const runScript = path.join(projectRoot, "scripts", "run.sh");
const toolchainScript = fs.readFileSync(path.join(projectRoot, "scripts", "toolchain.sh"), "utf8");
const pinnedNodeVersion = /^DPS_NODE_VERSION="([^"]+)"/m.exec(toolchainScript)?.[1];

/** A PATH holding only the listed commands (as symlinks), so a test controls exactly what setup can find. */
function restrictedPath(commands: string[]): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-path-"));
  for (const command of commands) {
    const found = spawnSync("bash", ["-c", `command -v ${command}`], { encoding: "utf8" }).stdout.trim();
    if (found) {
      fs.symlinkSync(found, path.join(dir, command));
    }
  }
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

const shellTools = ["bash", "cat", "cksum", "cut", "dirname", "mkdir", "mktemp", "uname", "awk", "sed", "grep", "tar"];

describe("toolchain", () => {
  test("the CLI that setup provides reports the @pulumi/pulumi version of package-lock.json", () => {
    const result = spawnSync(path.join(pinnedPulumiBin(), "pulumi"), ["version"], { encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(`v${lockedPulumiVersion()}`);
  });

  test("the language host is built against the same Pulumi SDK version as the CLI", () => {
    const goMod = fs.readFileSync(path.join(projectRoot, "tools", "pulumi-language-nodejs", "go.mod"), "utf8");
    expect(/github\.com\/pulumi\/pulumi\/sdk\/v3 (v\S+)/.exec(goMod)?.[1]).toBe(`v${lockedPulumiVersion()}`);
  });

  test("a dynamic resource goes through up, a no-change preview and destroy with the pinned CLI", async () => {
    const result = await runToolchainLifecycle();

    expect(result.cliVersion).toBe(lockedPulumiVersion());
    expect(result.up).toEqual({ result: "succeeded", changes: { create: 2 }, message: "hello, toolchain" });
    // The provider ran in the launcher's own Node process, not inside the program.
    expect(result.providerPid).not.toBe(result.programPid);
    expect(result.preview.changes).toEqual({ same: 2 });
    expect(result.destroy).toEqual({ result: "succeeded", changes: { delete: 2 } });
    expect(result.remainingResources).toBe(0);
  });

  test("a long build step says what it is doing and for how long, and passes its exit status on", () => {
    const script = `source "${path.join(projectRoot, "scripts", "toolchain.sh")}"
      DPS_PROGRESS_INTERVAL=1 dps::with_progress "compiling the CLI (go build)" sleep 3
      DPS_PROGRESS_INTERVAL=1 dps::with_progress "failing step" sh -c "exit 7" || echo "status $?"`;
    const result = spawnSync("bash", ["-c", script], { encoding: "utf8" });

    const lines = result.stderr.trim().split("\n");
    expect(lines[0]).toBe("[toolchain] compiling the CLI (go build)");
    expect(
      lines.filter((l) => /^\[toolchain\] compiling the CLI \(go build\): \d+ s so far$/.test(l)).length,
    ).toBeGreaterThan(0);
    expect(lines[lines.length - 1]).toBe("[toolchain] failing step");
    expect(result.stdout).toBe("status 7\n");
  });

  test("an edit to the provider package's sources is built into node_modules by the next command", () => {
    // A checkout of its own: the package's sources, and a node_modules of links to this one's (but its own copy of
    // the package, which the toolchain replaces).
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "dps-package-stamp-"));
    try {
      fs.cpSync(path.join(projectRoot, "dynamic-providers"), path.join(root, "dynamic-providers"), {
        recursive: true,
        filter: (source) => !source.includes(`${path.sep}dist`),
      });
      fs.mkdirSync(path.join(root, "node_modules", "@dps-enrollments"), { recursive: true });
      for (const entry of fs.readdirSync(path.join(projectRoot, "node_modules"))) {
        if (entry !== "@dps-enrollments" && !entry.startsWith(".dps-")) {
          fs.symlinkSync(path.join(projectRoot, "node_modules", entry), path.join(root, "node_modules", entry));
        }
      }
      const ensure = (): { stderr: string; stamp: string } => {
        const script = `source "${path.join(projectRoot, "scripts", "toolchain.sh")}"; DPS_ROOT="$1"; dps::ensure_package`;
        const result = spawnSync("bash", ["-c", script, "bash", root], { encoding: "utf8" });
        expect(result.status).toBe(0);
        return {
          stderr: result.stderr,
          stamp: fs.readFileSync(path.join(root, "node_modules", ".dps-package-stamp"), "utf8"),
        };
      };
      const installed = path.join(
        root,
        "node_modules",
        "@dps-enrollments",
        "enrollment-provider",
        "dist",
        "enrollment",
        "diff.js",
      );

      const first = ensure();
      expect(first.stderr).toContain("[toolchain] building the enrollment provider package");
      expect(fs.readFileSync(installed, "utf8")).not.toContain("a new provider revision");
      // Nothing changed: nothing is built. A test file is not part of the package.
      fs.appendFileSync(path.join(root, "dynamic-providers", "enrollment", "diff.test.ts"), "\n// a new test\n");
      expect(ensure()).toEqual({ stderr: "", stamp: first.stamp });
      fs.appendFileSync(
        path.join(root, "dynamic-providers", "enrollment", "diff.ts"),
        '\nexport const revision = "a new provider revision";\n',
      );
      const second = ensure();
      expect(second.stderr).toContain("[toolchain] building the enrollment provider package");
      expect(second.stamp).not.toBe(first.stamp);
      expect(fs.readFileSync(installed, "utf8")).toContain('exports.revision = "a new provider revision";');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test("with an older Node first on PATH, commands run on Node >= 22.13", () => {
    const systemNode = spawnSync("/usr/bin/node", ["--version"], { encoding: "utf8" });
    const [major, minor] = systemNode.status === 0 ? systemNode.stdout.slice(1).split(".").map(Number) : [0, 0];
    const recent = major > 22 || (major === 22 && minor >= 13);
    const result = spawnSync("bash", [runScript, "exec", "node", "--version"], {
      encoding: "utf8",
      env: { ...process.env, PATH: "/usr/bin:/bin" },
    });

    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(recent ? systemNode.stdout.trim() : `v${pinnedNodeVersion}`);
  });

  /** `run.sh setup` with an empty cache and a PATH of only Node, shell tools and `extra` stand-in commands. */
  function isolatedSetup(extra: Record<string, string> = {}): {
    status: number | null;
    stderr: string;
    dir: string;
    cache: string;
  } {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "dps-cache-"));
    const restricted = restrictedPath(shellTools);
    for (const [name, script] of Object.entries(extra)) {
      fs.writeFileSync(path.join(restricted.dir, name), script, { mode: 0o755 });
    }
    try {
      const result = spawnSync("bash", [runScript, "setup"], {
        encoding: "utf8",
        env: {
          HOME: process.env.HOME,
          DPS_CACHE_DIR: cache,
          PATH: `${path.dirname(process.execPath)}:${restricted.dir}`,
        },
      });
      const cacheHasPulumi = fs.existsSync(path.join(cache, "pulumi"));
      return {
        status: result.status,
        stderr: result.stderr,
        dir: restricted.dir,
        cache: cacheHasPulumi ? "built" : "empty",
      };
    } finally {
      restricted.cleanup();
      fs.rmSync(cache, { recursive: true, force: true });
    }
  }

  test("without a Pulumi CLI and without Go, setup stops and names both ways to get the CLI", () => {
    const result = isolatedSetup();

    expect(result.status).toBe(1);
    const version = lockedPulumiVersion();
    expect(result.stderr).toContain(
      `[toolchain] error: the Pulumi CLI v${version} is not installed and no Go toolchain is available to build it.`,
    );
    expect(result.stderr).toContain(`install the CLI v${version} the official way`);
    expect(result.stderr).toContain("or install Go (https://go.dev/dl/) and run this again");
    expect(result.stderr).not.toContain("at ");
  });

  test("a CLI of the pinned version already on PATH is used as it is, with no build", () => {
    const version = lockedPulumiVersion();
    // Stand-ins for an official install: a `pulumi` that reports the pinned version, and its language host.
    const result = isolatedSetup({ pulumi: `#!/bin/sh\necho v${version}\n`, "pulumi-language-nodejs": "#!/bin/sh\n" });

    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`[toolchain] pulumi   ${result.dir}/pulumi v${version}`);
    expect(result.stderr).not.toMatch(/building/);
    expect(result.cache).toBe("empty");
  });

  test("a second setup run finds every cache and builds or fetches nothing", () => {
    const result = spawnSync("bash", [runScript, "setup"], { encoding: "utf8" });

    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`[toolchain] pulumi   ${pinnedPulumiBin()}/pulumi v${lockedPulumiVersion()}`);
    expect(result.stderr).not.toMatch(/building|fetching|installing npm dependencies/);
  });
});
