// Azurite, Microsoft's Azure Storage emulator (npm `azurite`), as the blob service behind Pulumi's DIY backend in
// tests: its own process group on a free port, data in a temporary directory, stopped with the whole group.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from "@azure/storage-blob";

/** Azurite's well-known development account and key, published in Microsoft's Azurite documentation. */
export const azuriteAccount = "devstoreaccount1";
export const azuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface Azurite {
  port: number;
  /** The blob service endpoint, `http://127.0.0.1:<port>/devstoreaccount1`. */
  endpoint: string;
  service: BlobServiceClient;
  createContainer(name: string): Promise<ContainerClient>;
  /**
   * The DIY backend URL of a container: the Go CDK's azblob opener, with the query parameters of the gocloud.dev
   * version in Pulumi's module graph (`storage_account`, `domain`, `protocol`, `localemu`).
   */
  backendUrl(container: string): string;
  /** Shared-key credentials for the CLI: the Go CDK uses the key only when the account comes from the environment. */
  sharedKeyEnv(): Record<string, string>;
  output(): string;
  dispose(): Promise<void>;
}

export async function startAzurite(timeoutMs = 60_000): Promise<Azurite> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-azurite-"));
  const main = require.resolve("azurite/dist/src/blob/main.js");
  // detached: its own process group, so dispose() stops Azurite and anything it started.
  const child: ChildProcess = spawn(
    process.execPath,
    [main, "--blobHost", "127.0.0.1", "--blobPort", "0", "--location", dataDir, "--silent", "--disableTelemetry"],
    { detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(-child.pid, "SIGKILL");
      await exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };

  const started = Date.now();
  let port = 0;
  while (!port) {
    port = Number(/successfully listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1] ?? 0);
    if (port) break;
    if (child.exitCode !== null || Date.now() - started > timeoutMs) {
      await stop();
      throw new Error(`Azurite did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const endpoint = `http://127.0.0.1:${port}/${azuriteAccount}`;
  const service = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(azuriteAccount, azuriteKey));
  return {
    port,
    endpoint,
    service,
    createContainer: async (name) => {
      const container = service.getContainerClient(name);
      await container.create();
      return container;
    },
    backendUrl: (container) =>
      `azblob://${container}?storage_account=${azuriteAccount}&domain=127.0.0.1:${port}&protocol=http&localemu=true`,
    sharedKeyEnv: () => ({ AZURE_STORAGE_ACCOUNT: azuriteAccount, AZURE_STORAGE_KEY: azuriteKey }),
    output: () => output,
    dispose: stop,
  };
}

/** The names and contents of every blob under a prefix. */
export async function readBlobs(container: ContainerClient, prefix = ""): Promise<Map<string, string>> {
  const blobs = new Map<string, string>();
  for await (const blob of container.listBlobsFlat({ prefix })) {
    const content = await container.getBlobClient(blob.name).downloadToBuffer();
    blobs.set(blob.name, content.toString("utf8"));
  }
  return blobs;
}
