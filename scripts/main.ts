// The main job (`npm start`). Until the enrollment provider lands it proves the toolchain: a dynamic resource goes
// through `pulumi up`, a no-change `pulumi preview` and `pulumi destroy` with the pinned CLI.
import { runToolchainLifecycle } from "./lib/toolchain-lifecycle";

async function main(): Promise<void> {
  const started = Date.now();
  const result = await runToolchainLifecycle((line) => console.log(`[main] ${line}`));
  console.log(`[main] the dynamic resource said ${JSON.stringify(result.up.message)}`);
  console.log(`[main] toolchain OK in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
