// The provider methods of both resource types against DPS (through Microsoft's ProvisioningServiceClient): an
// individual enrollment and an enrollment group differ only in their document and their service calls (a kind).
// create: PUT without If-Match; 409 adopts only with `adopt`. read: live values and inputs; 404 means gone.
// update: PUT with the stored etag; 412 asks for a refresh. delete: If-Match; 404 counts as deleted.
// Every service call goes through `call` (retries, and whatever paces calls there).
import type { ProvisioningServiceClient } from "azure-iot-provisioning-service";
import type { EnrollmentGroup, IndividualEnrollment } from "azure-iot-provisioning-service/dist/interfaces";

import type { CertificateStash } from "./certificates";
import { diffEnrollment, diffGroup, type EnrollmentDiff } from "./diff";
import { EnrollmentError } from "./errors";
import { CreateJournal } from "./journal";
import { normalizeEnrollment, normalizeGroup, type CheckFailure, type CheckOptions } from "./normalize";
import { groupPropertyPolicies, propertyPolicies, type PropertyTable } from "./properties";
import { defaultRetry, errorStatus, withRetry, type RetryOptions } from "./retry";
import type {
  EnrollmentInputs,
  EnrollmentOutputs,
  EnrollmentSpec,
  GroupInputs,
  GroupOutputs,
  GroupSpec,
} from "./types";
import {
  fromDocument,
  fromGroupDocument,
  toDocument,
  toGroupDocument,
  type DpsEnrollment,
  type DpsGroup,
} from "./wire";

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

/** What the inputs of either kind have in common for the methods below. */
interface RecordInputs extends Keys {
  attestationType: string;
  adopt: boolean;
  providerVersion?: string;
  primaryCertificate?: string;
  secondaryCertificate?: string;
}

interface RecordOutputs extends RecordInputs {
  etag: string;
}

/** A kind of DPS record: its name in messages, its document and its four service calls. */
export interface RecordKind<I extends RecordInputs, O extends RecordOutputs & I, D extends { etag?: string }> {
  /** `enrollment` or `enrollment group`, as messages name it. */
  noun: string;
  /** The kind's property table: what DPS computes is not an input. */
  table: PropertyTable;
  idOf(inputs: I): string;
  /** The create journal's key (the two kinds' IDs may be equal). */
  journalKey(id: string): string;
  toDocument(inputs: I, keys?: Keys): D;
  fromDocument(doc: D, previous: I, keys: Keys): O;
  diff(olds: O, news: I): EnrollmentDiff;
  attestationTypeOf(doc: D): string;
  keysOf(doc: D): Keys | undefined;
  get(client: ProvisioningServiceClient, id: string): Promise<{ responseBody: unknown }>;
  put(client: ProvisioningServiceClient, doc: D): Promise<{ responseBody: unknown }>;
  remove(client: ProvisioningServiceClient, id: string, etag: string): Promise<unknown>;
  attestation(client: ProvisioningServiceClient, id: string): Promise<{ responseBody: unknown }>;
}

export const individualKind: RecordKind<EnrollmentInputs, EnrollmentOutputs, DpsEnrollment> = {
  noun: "enrollment",
  table: propertyPolicies,
  idOf: (inputs) => inputs.registrationId,
  journalKey: (id) => id,
  toDocument,
  fromDocument,
  diff: diffEnrollment,
  attestationTypeOf: (doc) => doc.attestation.type,
  keysOf: (doc) => doc.attestation.symmetricKey,
  get: (client, id) => client.getIndividualEnrollment(id),
  put: (client, doc) => client.createOrUpdateIndividualEnrollment(doc as unknown as IndividualEnrollment),
  remove: (client, id, etag) => client.deleteIndividualEnrollment(id, etag),
  attestation: (client, id) => client.getIndividualEnrollmentAttestationMechanism(id),
};

export const groupKind: RecordKind<GroupInputs, GroupOutputs, DpsGroup> = {
  noun: "enrollment group",
  table: groupPropertyPolicies,
  idOf: (inputs) => inputs.enrollmentGroupId,
  // '/' is in no ID, so a group's note never meets an individual enrollment's of the same name.
  journalKey: (id) => `enrollmentGroups/${id}`,
  toDocument: toGroupDocument,
  fromDocument: fromGroupDocument,
  diff: diffGroup,
  attestationTypeOf: (doc) => doc.attestation.type,
  keysOf: (doc) => doc.attestation.symmetricKey,
  get: (client, id) => client.getEnrollmentGroup(id),
  put: (client, doc) => client.createOrUpdateEnrollmentGroup(doc as unknown as EnrollmentGroup),
  remove: (client, id, etag) => client.deleteEnrollmentGroup(id, etag),
  attestation: (client, id) => client.getEnrollmentGroupAttestationMechanism(id),
};

export { EnrollmentError };

/** create, read, update and delete of one kind of DPS record. */
export class RecordProvider<I extends RecordInputs, O extends RecordOutputs & I, D extends { etag?: string }> {
  constructor(
    protected readonly ctx: ProviderContext,
    private readonly kind: RecordKind<I, O, D>,
  ) {}

  private what(id: string): string {
    return `${this.kind.noun} '${id}'`;
  }

  /** The inputs with certificate text in place of thumbprint references, ready to send. */
  private sendable(inputs: I): I {
    return this.ctx.certificates ? this.ctx.certificates.resolve(inputs, this.what(this.kind.idOf(inputs))) : inputs;
  }

  private call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(
      () => fn(),
      this.ctx.retry ?? defaultRetry,
      (err, delay) => this.ctx.log?.(`${what}: ${dpsMessage(err)}; retrying in ${delay} ms`),
    );
  }

  diff(olds: O, news: I): EnrollmentDiff {
    return this.kind.diff(olds, news);
  }

  private async attestationKeys(id: string): Promise<Keys> {
    const { responseBody } = await this.call(`read keys of ${id}`, () => this.kind.attestation(this.ctx.client(), id));
    return (responseBody as { symmetricKey?: Keys }).symmetricKey ?? {};
  }

  private async live(id: string): Promise<D> {
    return (await this.call(`read ${id}`, () => this.kind.get(this.ctx.client(), id))).responseBody as D;
  }

  /** PUTs the document; `attempt` hears every try (a retried create may find its own first try's record). */
  private async put(what: string, doc: D, attempt: () => void = () => undefined): Promise<D> {
    const client = this.ctx.client();
    return (
      await this.call(what, () => {
        attempt();
        return this.kind.put(client, doc);
      })
    ).responseBody as D;
  }

  /** Whether the live record is the desired one in every field DPS returns (used after an ambiguous retry). */
  private sameAsDesired(live: D, inputs: I): boolean {
    const seen = this.kind.fromDocument(live, inputs, {});
    const desired = { ...inputs, primaryKey: undefined, secondaryKey: undefined };
    return !this.kind.diff({ ...seen, primaryKey: undefined, secondaryKey: undefined }, desired).changes;
  }

  async create(inputs: I): Promise<{ id: string; outs: O }> {
    const id = this.kind.idOf(inputs);
    const journalKey = this.kind.journalKey(id);
    // The hash leaves keys out: the journal is a plain file.
    const sent = this.sendable(inputs);
    const hash = CreateJournal.hash(this.kind.toDocument({ ...sent, primaryKey: undefined, secondaryKey: undefined }));
    await this.ctx.journal?.record(journalKey, hash);
    let attempts = 0;
    try {
      const doc = await this.put(`create ${id}`, this.kind.toDocument(sent), () => attempts++);
      return { id, outs: this.kind.fromDocument(doc, inputs, this.kind.keysOf(doc) ?? {}) };
    } catch (err) {
      if (errorStatus(err) !== 409) {
        throw new EnrollmentError(`creating ${this.what(id)} failed: ${dpsMessage(err)}`);
      }
    }
    // 409: the record exists. Ours from an earlier attempt of this call or of an interrupted `up` (journal), or
    // adopted on request; never silently.
    const live = await this.live(id);
    const ours = (attempts > 1 || this.ctx.journal?.has(journalKey, hash) === true) && this.sameAsDesired(live, inputs);
    if (!inputs.adopt && !ours) {
      throw new EnrollmentError(
        `${this.what(id)} already exists in DPS and this stack does not manage it. To take it over, set ` +
          `\`adopt: true\` on this ${this.kind.noun} (the manifest entry or the resource's args) and run \`pulumi up\` ` +
          `again; Pulumi's \`import\` does not work with dynamic providers.`,
      );
    }
    this.ctx.log?.(`${this.what(id)} already exists in DPS: adopting it and making it match this stack`);
    const keys = this.kind.attestationTypeOf(live) === "symmetricKey" ? await this.attestationKeys(id) : {};
    try {
      const doc = await this.put(`update ${id}`, { ...this.kind.toDocument(sent, keys), etag: live.etag });
      return { id, outs: this.kind.fromDocument(doc, inputs, this.kind.keysOf(doc) ?? keys) };
    } catch (err) {
      // e.g. the existing record has another attestation type, which DPS cannot change in place.
      throw new EnrollmentError(`adopting ${this.what(id)} failed: ${dpsMessage(err)}`);
    }
  }

  async read(id: string, props: O): Promise<{ id?: string; props?: O; inputs?: I }> {
    let live: D;
    try {
      live = await this.live(id);
    } catch (err) {
      if (errorStatus(err) === 404) return {};
      throw new EnrollmentError(`reading ${this.what(id)} failed: ${dpsMessage(err)}`);
    }
    const keys = this.kind.attestationTypeOf(live) === "symmetricKey" ? await this.attestationKeys(id) : {};
    const outs = this.kind.fromDocument(live, props, keys);
    // Inputs as the live state implies them. Keys are left out: diff compares them against the outputs, and
    // keys DPS generated were never inputs.
    const table = this.kind.table;
    const implied = (name: string): boolean =>
      table[name] !== "computed" && name !== "primaryKey" && name !== "secondaryKey";
    const inputs = Object.fromEntries(Object.entries(outs).filter(([name]) => implied(name))) as unknown as I;
    return { id, props: outs, inputs };
  }

  async update(id: string, olds: O, news: I): Promise<{ outs: O }> {
    if (!this.kind.diff(olds, news).changesInDps) {
      // Only the state's own record changed (a new provider version): DPS already holds the record, and a
      // fleet's upgrade must not spend its operations quota on PUTs that change nothing.
      return { outs: { ...olds, adopt: news.adopt, providerVersion: news.providerVersion } };
    }
    const keys: Keys = { primaryKey: olds.primaryKey, secondaryKey: olds.secondaryKey };
    try {
      const doc = await this.put(`update ${id}`, {
        ...this.kind.toDocument(this.sendable(news), keys),
        etag: olds.etag,
      });
      return { outs: this.kind.fromDocument(doc, news, this.kind.keysOf(doc) ?? keys) };
    } catch (err) {
      const status = errorStatus(err);
      if (status === 412 || status === 404) {
        throw new EnrollmentError(
          `${this.what(id)} changed in DPS since this stack last saw it (etag ${olds.etag}); nothing was ` +
            `overwritten. Run \`pulumi refresh\` to see the change, then \`pulumi up\` again.`,
        );
      }
      throw new EnrollmentError(`updating ${this.what(id)} failed: ${dpsMessage(err)}`);
    }
  }

  async delete(id: string, props: O): Promise<void> {
    const journalKey = this.kind.journalKey(id);
    try {
      await this.call(`delete ${id}`, () => this.kind.remove(this.ctx.client(), id, props.etag));
      await this.ctx.journal?.forget(journalKey);
    } catch (err) {
      const status = errorStatus(err);
      if (status === 404) {
        await this.ctx.journal?.forget(journalKey);
        return;
      }
      if (status === 412) {
        throw new EnrollmentError(
          `${this.what(id)} changed in DPS since this stack last saw it; it was not deleted. Run \`pulumi refresh\`, ` +
            `then run the operation again.`,
        );
      }
      throw new EnrollmentError(`deleting ${this.what(id)} failed: ${dpsMessage(err)}`);
    }
  }
}

/** An individual enrollment's methods (and `check`, for tests that drive the provider directly). */
export class EnrollmentProvider extends RecordProvider<EnrollmentInputs, EnrollmentOutputs, DpsEnrollment> {
  constructor(ctx: ProviderContext) {
    super(ctx, individualKind);
  }

  check(spec: EnrollmentSpec, options: CheckOptions): { inputs?: EnrollmentInputs; failures: CheckFailure[] } {
    return normalizeEnrollment(spec, options);
  }
}

/** An enrollment group's methods. */
export class GroupProvider extends RecordProvider<GroupInputs, GroupOutputs, DpsGroup> {
  constructor(ctx: ProviderContext) {
    super(ctx, groupKind);
  }

  check(spec: GroupSpec, options: CheckOptions): { inputs?: GroupInputs; failures: CheckFailure[] } {
    return normalizeGroup(spec, options);
  }
}
