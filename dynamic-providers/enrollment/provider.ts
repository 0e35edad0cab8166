// The IndividualEnrollment provider's methods against DPS (through Microsoft's ProvisioningServiceClient).
// create: PUT without If-Match; 409 takes the enrollment only when its ownership marker names this stack, or with
// `adopt`. read: live values and inputs; 404 means gone. update: PUT with the stored etag; 412 goes on only when the
// stack's own (interrupted) write moved the etag, else asks for a refresh. delete: If-Match; 404 counts as deleted,
// 412 as for update. Every write carries the ownership marker (ownership.ts).
import type { ProvisioningServiceClient } from "azure-iot-provisioning-service";
import type { IndividualEnrollment } from "azure-iot-provisioning-service/dist/interfaces";

import type { CertificateStash } from "./certificates";
import { diffEnrollment, type EnrollmentDiff } from "./diff";
import { EnrollmentError } from "./errors";
import { normalizeEnrollment, type CheckFailure } from "./normalize";
import { contentHash, createRefusal, decideOwnership, type OwnerMarker } from "./ownership";
import { defaultRetry, errorStatus, withRetry, type RetryOptions } from "./retry";
import type { EnrollmentInputs, EnrollmentOutputs, EnrollmentSpec } from "./types";
import { enrollmentContent, fromDocument, markerOf, toDocument, type DpsEnrollment } from "./wire";

export interface ProviderContext {
  client: () => ProvisioningServiceClient;
  /** Certificate text behind the thumbprint references in the inputs (see certificates.ts). */
  certificates?: CertificateStash;
  retry?: RetryOptions;
  log?: (message: string) => void;
}

type Keys = { primaryKey?: string; secondaryKey?: string };

function dpsMessage(err: unknown): string {
  const body = (err as { responseBody?: string }).responseBody;
  try {
    const parsed = JSON.parse(body ?? "") as { errorCode?: number; message?: string };
    if (parsed.message) return `${parsed.message} (DPS error ${parsed.errorCode ?? "?"})`;
  } catch {
    // not a DPS error body
  }
  return err instanceof Error ? err.message : String(err);
}

export { EnrollmentError };

export class EnrollmentProvider {
  constructor(private readonly ctx: ProviderContext) {}

  /** The inputs with certificate text in place of thumbprint references, ready to send. */
  private sendable(inputs: EnrollmentInputs): EnrollmentInputs {
    return this.ctx.certificates ? this.ctx.certificates.resolve(inputs) : inputs;
  }

  private call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(
      () => fn(),
      this.ctx.retry ?? defaultRetry,
      (err, delay) => this.ctx.log?.(`${what}: ${dpsMessage(err)}; retrying in ${delay} ms`),
    );
  }

  check(
    spec: EnrollmentSpec,
    options: { linkedHubs?: string[]; adopt?: boolean },
  ): {
    inputs?: EnrollmentInputs;
    failures: CheckFailure[];
  } {
    return normalizeEnrollment(spec, options);
  }

  diff(olds: EnrollmentOutputs, news: EnrollmentInputs): EnrollmentDiff {
    return diffEnrollment(olds, news);
  }

  private async attestationKeys(id: string): Promise<Keys> {
    const { responseBody } = await this.call(`read keys of ${id}`, () =>
      this.ctx.client().getIndividualEnrollmentAttestationMechanism(id),
    );
    return (responseBody as unknown as { symmetricKey?: Keys }).symmetricKey ?? {};
  }

  /** The ownership marker for a write of `inputs` (none when the program named no stack). */
  private marker(inputs: EnrollmentInputs): OwnerMarker | undefined {
    return inputs.ownerStack ? { stack: inputs.ownerStack, hash: contentHash(enrollmentContent(inputs)) } : undefined;
  }

  private async readLive(id: string): Promise<DpsEnrollment> {
    return (await this.call(`read ${id}`, () => this.ctx.client().getIndividualEnrollment(id)))
      .responseBody as unknown as DpsEnrollment;
  }

  /** Whose the live enrollment is, for `inputs` about to be written (ownership.ts has the table). */
  private ownership(live: DpsEnrollment, inputs: EnrollmentInputs, known: boolean): ReturnType<typeof decideOwnership> {
    return decideOwnership({
      stack: inputs.ownerStack,
      marker: markerOf(live),
      liveHash: contentHash(enrollmentContent(fromDocument(live, inputs, {}))),
      desiredHash: contentHash(enrollmentContent(inputs)),
      adopt: inputs.adopt,
      markers: true,
      known,
    });
  }

  /**
   * Makes a live enrollment this stack may write match `inputs`: nothing is sent when it already carries exactly
   * this write's marker and content (an interrupted run's own write, found again), else one PUT with its etag.
   */
  private async finish(id: string, live: DpsEnrollment, inputs: EnrollmentInputs): Promise<EnrollmentOutputs> {
    const keys = live.attestation.type === "symmetricKey" ? await this.attestationKeys(id) : {};
    const marker = this.marker(inputs);
    const found = markerOf(live);
    const sameKeys =
      (inputs.primaryKey === undefined || inputs.primaryKey === keys.primaryKey) &&
      (inputs.secondaryKey === undefined || inputs.secondaryKey === keys.secondaryKey);
    if (
      marker &&
      found?.stack === marker.stack &&
      found.hash === marker.hash &&
      contentHash(enrollmentContent(fromDocument(live, inputs, {}))) === marker.hash &&
      sameKeys
    ) {
      return fromDocument(live, inputs, keys);
    }
    const { responseBody } = await this.call(`update ${id}`, () =>
      this.ctx.client().createOrUpdateIndividualEnrollment({
        ...toDocument(this.sendable(inputs), keys, marker),
        etag: live.etag,
      } as unknown as IndividualEnrollment),
    );
    const doc = responseBody as unknown as DpsEnrollment;
    return fromDocument(doc, inputs, doc.attestation.symmetricKey ?? keys);
  }

  async create(inputs: EnrollmentInputs): Promise<{ id: string; outs: EnrollmentOutputs }> {
    const id = inputs.registrationId;
    const client = this.ctx.client();
    const sent = this.sendable(inputs);
    let attempts = 0;
    try {
      const { responseBody } = await this.call(`create ${id}`, () => {
        attempts++;
        return client.createOrUpdateIndividualEnrollment(
          toDocument(sent, {}, this.marker(inputs)) as unknown as IndividualEnrollment,
        );
      });
      const doc = responseBody as unknown as DpsEnrollment;
      return { id, outs: fromDocument(doc, inputs, doc.attestation.symmetricKey ?? {}) };
    } catch (err) {
      if (errorStatus(err) !== 409) {
        throw new EnrollmentError(`creating enrollment '${id}' failed: ${dpsMessage(err)}`);
      }
    }
    // 409: the enrollment exists. This stack's own from an interrupted run, or from an earlier attempt of this call
    // whose answer was lost (its marker says so), or adopted on request; never silently.
    const live = await this.readLive(id);
    const ownership = this.ownership(live, inputs, attempts > 1);
    if (ownership.verdict === "refuse") {
      throw new EnrollmentError(createRefusal({ what: `enrollment '${id}'`, noun: "enrollment" }, ownership));
    }
    this.ctx.log?.(
      ownership.verdict === "ours"
        ? `enrollment '${id}' already exists in DPS, written by this stack: completing its create`
        : `enrollment '${id}' already exists in DPS: adopting it${
            ownership.previousOwner ? ` from stack '${ownership.previousOwner}'` : ""
          } and making it match this stack`,
    );
    try {
      return { id, outs: await this.finish(id, live, inputs) };
    } catch (err) {
      // e.g. the existing enrollment has another attestation type, which DPS cannot change in place.
      throw new EnrollmentError(`adopting enrollment '${id}' failed: ${dpsMessage(err)}`);
    }
  }

  async read(
    id: string,
    props: EnrollmentOutputs,
  ): Promise<{ id?: string; props?: EnrollmentOutputs; inputs?: EnrollmentInputs }> {
    let live: DpsEnrollment;
    try {
      live = (await this.call(`read ${id}`, () => this.ctx.client().getIndividualEnrollment(id)))
        .responseBody as unknown as DpsEnrollment;
    } catch (err) {
      if (errorStatus(err) === 404) return {};
      throw new EnrollmentError(`reading enrollment '${id}' failed: ${dpsMessage(err)}`);
    }
    const keys = live.attestation.type === "symmetricKey" ? await this.attestationKeys(id) : {};
    const outs = fromDocument(live, props, keys);
    // Inputs as the live state implies them. Keys are left out: diff compares them against the outputs, and
    // keys DPS generated were never inputs.
    const {
      etag,
      createdDateTimeUtc,
      lastUpdatedDateTimeUtc,
      primaryCertificateInfo,
      secondaryCertificateInfo,
      registrationState,
      primaryKey,
      secondaryKey,
      ...inputs
    } = outs;
    return { id, props: outs, inputs };
  }

  async update(id: string, olds: EnrollmentOutputs, news: EnrollmentInputs): Promise<{ outs: EnrollmentOutputs }> {
    if (!diffEnrollment(olds, news).changesInDps) {
      // Only the state's own record changed (a new provider version): DPS already holds the enrollment, and a
      // fleet's upgrade must not spend its operations quota on PUTs that change nothing.
      return {
        outs: { ...olds, adopt: news.adopt, ownerStack: news.ownerStack, providerVersion: news.providerVersion },
      };
    }
    const keys: Keys = { primaryKey: olds.primaryKey, secondaryKey: olds.secondaryKey };
    const changed = (): EnrollmentError =>
      new EnrollmentError(
        `enrollment '${id}' changed in DPS since this stack last saw it (etag ${olds.etag}); nothing was ` +
          `overwritten. Run \`pulumi refresh\` to see the change, then \`pulumi up\` again.`,
      );
    try {
      const { responseBody } = await this.call(`update ${id}`, () =>
        this.ctx.client().createOrUpdateIndividualEnrollment({
          ...toDocument(this.sendable(news), keys, this.marker(news)),
          etag: olds.etag,
        } as unknown as IndividualEnrollment),
      );
      const doc = responseBody as unknown as DpsEnrollment;
      return { outs: fromDocument(doc, news, doc.attestation.symmetricKey ?? keys) };
    } catch (err) {
      const status = errorStatus(err);
      if (status === 404) throw changed();
      if (status !== 412) throw new EnrollmentError(`updating enrollment '${id}' failed: ${dpsMessage(err)}`);
    }
    // 412: the etag moved. When this stack's own write moved it (a run killed before its state was saved), finish
    // the update; anyone else's change is never overwritten.
    let live: DpsEnrollment;
    try {
      live = await this.readLive(id);
    } catch (err) {
      if (errorStatus(err) === 404) throw changed();
      throw new EnrollmentError(`updating enrollment '${id}' failed: ${dpsMessage(err)}`);
    }
    if (this.ownership(live, { ...news, adopt: false }, true).verdict !== "ours") throw changed();
    this.ctx.log?.(`enrollment '${id}' was last written by this stack's interrupted run: completing its update`);
    try {
      return { outs: await this.finish(id, live, news) };
    } catch (err) {
      throw new EnrollmentError(`updating enrollment '${id}' failed: ${dpsMessage(err)}`);
    }
  }

  async delete(id: string, props: EnrollmentOutputs): Promise<void> {
    const remove = (etag: string): Promise<unknown> =>
      this.call(`delete ${id}`, () => this.ctx.client().deleteIndividualEnrollment(id, etag));
    let status: number | undefined;
    try {
      await remove(props.etag);
      return;
    } catch (err) {
      status = errorStatus(err);
      if (status === 404) return;
      if (status !== 412) throw new EnrollmentError(`deleting enrollment '${id}' failed: ${dpsMessage(err)}`);
    }
    // 412: deleted only when this stack's own interrupted write moved the etag (its marker, content untouched since).
    try {
      const live = await this.readLive(id);
      if (this.ownership(live, { ...props, adopt: false }, true).verdict !== "ours") {
        throw new EnrollmentError(
          `enrollment '${id}' changed in DPS since this stack last saw it; it was not deleted. Run \`pulumi refresh\`, ` +
            `then run the operation again.`,
        );
      }
      await remove(live.etag ?? "*");
    } catch (err) {
      if (err instanceof EnrollmentError) throw err;
      if (errorStatus(err) === 404) return;
      throw new EnrollmentError(`deleting enrollment '${id}' failed: ${dpsMessage(err)}`);
    }
  }
}
