// The IndividualEnrollment provider's methods against DPS (through Microsoft's ProvisioningServiceClient).
// create: PUT without If-Match; 409 adopts only with `adopt`. read: live values and inputs; 404 means gone.
// update: PUT with the stored etag; 412 asks for a refresh. delete: If-Match; 404 counts as deleted.
import type { ProvisioningServiceClient } from "azure-iot-provisioning-service";
import type { IndividualEnrollment } from "azure-iot-provisioning-service/dist/interfaces";

import type { CertificateStash } from "./certificates";
import { diffEnrollment, type EnrollmentDiff } from "./diff";
import { EnrollmentError } from "./errors";
import { CreateJournal } from "./journal";
import { normalizeEnrollment, type CheckFailure } from "./normalize";
import { defaultRetry, errorStatus, withRetry, type RetryOptions } from "./retry";
import type { EnrollmentInputs, EnrollmentOutputs, EnrollmentSpec } from "./types";
import { fromDocument, toDocument, type DpsEnrollment } from "./wire";

export interface ProviderContext {
  client: () => ProvisioningServiceClient;
  /** Notes creates before they are sent, so an interrupted `up` can finish its own creates (see journal.ts). */
  journal?: CreateJournal;
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

  /** Whether the live enrollment is the desired one in every field DPS returns (used after an ambiguous retry). */
  private sameAsDesired(live: DpsEnrollment, inputs: EnrollmentInputs): boolean {
    const seen = fromDocument(live, inputs, {});
    const desired = { ...inputs, primaryKey: undefined, secondaryKey: undefined };
    const diff = diffEnrollment({ ...seen, primaryKey: undefined, secondaryKey: undefined }, desired);
    return !diff.changes;
  }

  async create(inputs: EnrollmentInputs): Promise<{ id: string; outs: EnrollmentOutputs }> {
    const id = inputs.registrationId;
    const client = this.ctx.client();
    // The hash leaves keys out: the journal is a plain file.
    const sent = this.sendable(inputs);
    const hash = CreateJournal.hash(toDocument({ ...sent, primaryKey: undefined, secondaryKey: undefined }));
    await this.ctx.journal?.record(id, hash);
    let attempts = 0;
    try {
      const { responseBody } = await this.call(`create ${id}`, () => {
        attempts++;
        return client.createOrUpdateIndividualEnrollment(toDocument(sent) as unknown as IndividualEnrollment);
      });
      const doc = responseBody as unknown as DpsEnrollment;
      return { id, outs: fromDocument(doc, inputs, doc.attestation.symmetricKey ?? {}) };
    } catch (err) {
      if (errorStatus(err) !== 409) {
        throw new EnrollmentError(`creating enrollment '${id}' failed: ${dpsMessage(err)}`);
      }
    }
    // 409: the enrollment exists. Ours from an earlier attempt of this call or of an interrupted `up` (journal), or
    // adopted on request; never silently.
    const live = (await this.call(`read ${id}`, () => client.getIndividualEnrollment(id)))
      .responseBody as unknown as DpsEnrollment;
    const ours = (attempts > 1 || this.ctx.journal?.has(id, hash) === true) && this.sameAsDesired(live, inputs);
    if (!inputs.adopt && !ours) {
      throw new EnrollmentError(
        `enrollment '${id}' already exists in DPS and this stack does not manage it. To take it over, set ` +
          `\`adopt: true\` on this enrollment (the manifest entry or the resource's args) and run \`pulumi up\` ` +
          `again; Pulumi's \`import\` does not work with dynamic providers.`,
      );
    }
    this.ctx.log?.(`enrollment '${id}' already exists in DPS: adopting it and making it match this stack`);
    const keys = live.attestation.type === "symmetricKey" ? await this.attestationKeys(id) : {};
    try {
      const { responseBody } = await this.call(`update ${id}`, () =>
        client.createOrUpdateIndividualEnrollment({
          ...toDocument(sent, keys),
          etag: live.etag,
        } as unknown as IndividualEnrollment),
      );
      const doc = responseBody as unknown as DpsEnrollment;
      return { id, outs: fromDocument(doc, inputs, doc.attestation.symmetricKey ?? keys) };
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
      return { outs: { ...olds, adopt: news.adopt, providerVersion: news.providerVersion } };
    }
    const keys: Keys = { primaryKey: olds.primaryKey, secondaryKey: olds.secondaryKey };
    try {
      const { responseBody } = await this.call(`update ${id}`, () =>
        this.ctx.client().createOrUpdateIndividualEnrollment({
          ...toDocument(this.sendable(news), keys),
          etag: olds.etag,
        } as unknown as IndividualEnrollment),
      );
      const doc = responseBody as unknown as DpsEnrollment;
      return { outs: fromDocument(doc, news, doc.attestation.symmetricKey ?? keys) };
    } catch (err) {
      const status = errorStatus(err);
      if (status === 412 || status === 404) {
        throw new EnrollmentError(
          `enrollment '${id}' changed in DPS since this stack last saw it (etag ${olds.etag}); nothing was ` +
            `overwritten. Run \`pulumi refresh\` to see the change, then \`pulumi up\` again.`,
        );
      }
      throw new EnrollmentError(`updating enrollment '${id}' failed: ${dpsMessage(err)}`);
    }
  }

  async delete(id: string, props: EnrollmentOutputs): Promise<void> {
    try {
      await this.call(`delete ${id}`, () => this.ctx.client().deleteIndividualEnrollment(id, props.etag));
      await this.ctx.journal?.forget(id);
    } catch (err) {
      const status = errorStatus(err);
      if (status === 404) {
        await this.ctx.journal?.forget(id);
        return;
      }
      if (status === 412) {
        throw new EnrollmentError(
          `enrollment '${id}' changed in DPS since this stack last saw it; it was not deleted. Run \`pulumi refresh\`, ` +
            `then run the operation again.`,
        );
      }
      throw new EnrollmentError(`deleting enrollment '${id}' failed: ${dpsMessage(err)}`);
    }
  }
}
