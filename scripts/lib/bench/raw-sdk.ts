// The raw SDK side of the benchmark: the DPS calls each Pulumi operation makes, issued directly with Microsoft's
// ProvisioningServiceClient at the same concurrency as `pulumi --parallel`, no Pulumi involved.
import type { ProvisioningServiceClient } from "azure-iot-provisioning-service";
import type { IndividualEnrollment } from "azure-iot-provisioning-service/dist/interfaces";

/** Runs `task(0..count-1)` with at most `concurrency` at once, in index order. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

export interface RawSdkTimes {
  /** N creates (PUT), what `up` sends. */
  create: number;
  /** N GETs: what a tool would read to know nothing changed (a no-change preview itself calls DPS not at all). */
  get: number;
  /** N GETs and N attestation-mechanism POSTs, what `refresh` sends. */
  refresh: number;
  /** N DELETEs, what `destroy` sends. */
  delete: number;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

/** Times the four call sets on `count` enrollments named `<prefix><i>`, and leaves none of them behind. */
export async function timeRawSdk(
  client: ProvisioningServiceClient,
  count: number,
  concurrency: number,
  prefix = "sdk-",
): Promise<RawSdkTimes> {
  const id = (i: number): string => `${prefix}${i}`;
  const create = await timed(() =>
    pool(count, concurrency, (i) =>
      client.createOrUpdateIndividualEnrollment({
        registrationId: id(i),
        attestation: { type: "symmetricKey" },
        initialTwin: { tags: { fleet: "bench" }, properties: { desired: {} } },
      } as unknown as IndividualEnrollment),
    ),
  );
  const get = await timed(() => pool(count, concurrency, (i) => client.getIndividualEnrollment(id(i))));
  const refresh = await timed(() =>
    pool(count, concurrency, async (i) => {
      await client.getIndividualEnrollment(id(i));
      await client.getIndividualEnrollmentAttestationMechanism(id(i));
    }),
  );
  const remove = await timed(() => pool(count, concurrency, (i) => client.deleteIndividualEnrollment(id(i))));
  return { create, get, refresh, delete: remove };
}
