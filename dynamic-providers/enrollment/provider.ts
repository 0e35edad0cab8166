// The provider methods of both resource types against DPS (through Microsoft's ProvisioningServiceClient): an
// individual enrollment and an enrollment group differ only in their document and their service calls (a kind).
// create: PUT without If-Match; 409 takes the record only when it is this stack's own (ownership.ts), or with
// `adopt`. read: live values and inputs; 404 means gone. update: PUT with the stored etag; 412 goes on only when the
// stack's own (interrupted) write moved the etag, else asks for a refresh. delete: If-Match; 404 counts as deleted,
// 412 as for update. Every write of an individual enrollment carries the ownership marker; enrollment groups have no
// place for one and decide by identical content (`markers: false`, see ownership.ts and the README).
// Every service call goes through `call` (retries, and whatever paces calls there).
import type { ProvisioningServiceClient } from "azure-iot-provisioning-service";
import type { EnrollmentGroup, IndividualEnrollment } from "azure-iot-provisioning-service/dist/interfaces";

import type { CertificateStash } from "./certificates";
import { diffEnrollment, diffGroup, type EnrollmentDiff } from "./diff";
import { EnrollmentError } from "./errors";
import { normalizeEnrollment, normalizeGroup, type CheckFailure, type CheckOptions } from "./normalize";
import { contentHash, createRefusal, decideOwnership, type OwnerMarker, type Ownership } from "./ownership";
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
  enrollmentContent,
  fromDocument,
  fromGroupDocument,
  groupContent,
  markerOf,
  toDocument,
  toGroupDocument,
  type DpsEnrollment,
  type DpsGroup,
} from "./wire";

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

/** What the inputs of either kind have in common for the methods below. */
interface RecordInputs extends Keys {
  attestationType: string;
  adopt: boolean;
  ownerStack?: string;
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
  /** Whether the kind's documents carry the ownership marker (a free-form collection to hold it). */
  markers: boolean;
  /** `marker`: the ownership marker to write, for a kind with markers. */
  toDocument(inputs: I, keys?: Keys, marker?: OwnerMarker): D;
  /** The marker a live document carries (never one for a kind without markers). */
  markerOf(doc: D): OwnerMarker | undefined;
  /** The non-secret content the marker's hash covers (ownership.ts). */
  content(values: I): Record<string, unknown>;
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
  markers: true,
  toDocument,
  markerOf,
  content: enrollmentContent,
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
  // A group's document has no free-form collection: no marker; ownership by identical content (README).
  markers: false,
  toDocument: (inputs, keys) => toGroupDocument(inputs, keys),
  markerOf: () => undefined,
  content: groupContent,
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

  /** The ownership marker for a write of `inputs` (none when the program named no stack, or the kind has none). */
  private marker(inputs: I): OwnerMarker | undefined {
    return this.kind.markers && inputs.ownerStack
      ? { stack: inputs.ownerStack, hash: contentHash(this.kind.content(inputs)) }
      : undefined;
  }

  /** Whose the live record is, for `inputs` about to be written (ownership.ts has the table). */
  private ownership(live: D, inputs: I, known: boolean): Ownership {
    return decideOwnership({
      stack: inputs.ownerStack,
      marker: this.kind.markerOf(live),
      liveHash: contentHash(this.kind.content(this.kind.fromDocument(live, inputs, {}))),
      desiredHash: contentHash(this.kind.content(inputs)),
      adopt: inputs.adopt,
      markers: this.kind.markers,
      known,
    });
  }

  /**
   * Makes a live record this stack may write match `inputs`: nothing is sent when it already carries exactly this
   * write's content (and, for a kind with markers, this write's marker) — an interrupted run's own write, found
   * again — else one PUT with its etag.
   */
  private async finish(id: string, live: D, inputs: I): Promise<O> {
    const keys = this.kind.attestationTypeOf(live) === "symmetricKey" ? await this.attestationKeys(id) : {};
    const marker = this.marker(inputs);
    const found = this.kind.markerOf(live);
    const sameKeys =
      (inputs.primaryKey === undefined || inputs.primaryKey === keys.primaryKey) &&
      (inputs.secondaryKey === undefined || inputs.secondaryKey === keys.secondaryKey);
    const liveHash = contentHash(this.kind.content(this.kind.fromDocument(live, inputs, {})));
    const sameMarker = this.kind.markers
      ? marker !== undefined && found?.stack === marker.stack && found.hash === marker.hash
      : true;
    if (sameMarker && sameKeys && liveHash === contentHash(this.kind.content(inputs))) {
      return this.kind.fromDocument(live, inputs, keys);
    }
    const doc = await this.put(`update ${id}`, {
      ...this.kind.toDocument(this.sendable(inputs), keys, marker),
      etag: live.etag,
    });
    return this.kind.fromDocument(doc, inputs, this.kind.keysOf(doc) ?? keys);
  }

  async create(inputs: I): Promise<{ id: string; outs: O }> {
    const id = this.kind.idOf(inputs);
    const sent = this.sendable(inputs);
    let attempts = 0;
    try {
      const doc = await this.put(`create ${id}`, this.kind.toDocument(sent, {}, this.marker(inputs)), () => attempts++);
      return { id, outs: this.kind.fromDocument(doc, inputs, this.kind.keysOf(doc) ?? {}) };
    } catch (err) {
      if (errorStatus(err) !== 409) {
        throw new EnrollmentError(`creating ${this.what(id)} failed: ${dpsMessage(err)}`);
      }
    }
    // 409: the record exists. This stack's own from an interrupted run, or from an earlier attempt of this call
    // whose answer was lost (its marker, or for a kind without markers its identical content, says so), or adopted
    // on request; never silently.
    const live = await this.live(id);
    const ownership = this.ownership(live, inputs, attempts > 1);
    if (ownership.verdict === "refuse") {
      throw new EnrollmentError(createRefusal({ what: this.what(id), noun: this.kind.noun }, ownership));
    }
    this.ctx.log?.(
      ownership.verdict === "ours"
        ? `${this.what(id)} already exists in DPS, written by this stack: completing its create`
        : `${this.what(id)} already exists in DPS: adopting it${
            ownership.previousOwner ? ` from stack '${ownership.previousOwner}'` : ""
          } and making it match this stack`,
    );
    try {
      return { id, outs: await this.finish(id, live, inputs) };
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
      return {
        outs: { ...olds, adopt: news.adopt, ownerStack: news.ownerStack, providerVersion: news.providerVersion },
      };
    }
    const keys: Keys = { primaryKey: olds.primaryKey, secondaryKey: olds.secondaryKey };
    const changed = (): EnrollmentError =>
      new EnrollmentError(
        `${this.what(id)} changed in DPS since this stack last saw it (etag ${olds.etag}); nothing was ` +
          `overwritten. Run \`pulumi refresh\` to see the change, then \`pulumi up\` again.`,
      );
    try {
      const doc = await this.put(`update ${id}`, {
        ...this.kind.toDocument(this.sendable(news), keys, this.marker(news)),
        etag: olds.etag,
      });
      return { outs: this.kind.fromDocument(doc, news, this.kind.keysOf(doc) ?? keys) };
    } catch (err) {
      const status = errorStatus(err);
      if (status === 404) throw changed();
      if (status !== 412) throw new EnrollmentError(`updating ${this.what(id)} failed: ${dpsMessage(err)}`);
    }
    // 412: the etag moved. When this stack's own write moved it (a run killed before its state was saved), finish
    // the update; anyone else's change is never overwritten.
    let live: D;
    try {
      live = await this.live(id);
    } catch (err) {
      if (errorStatus(err) === 404) throw changed();
      throw new EnrollmentError(`updating ${this.what(id)} failed: ${dpsMessage(err)}`);
    }
    if (this.ownership(live, { ...news, adopt: false }, true).verdict !== "ours") throw changed();
    this.ctx.log?.(`${this.what(id)} was last written by this stack's interrupted run: completing its update`);
    try {
      return { outs: await this.finish(id, live, news) };
    } catch (err) {
      throw new EnrollmentError(`updating ${this.what(id)} failed: ${dpsMessage(err)}`);
    }
  }

  async delete(id: string, props: O): Promise<void> {
    const remove = (etag: string): Promise<unknown> =>
      this.call(`delete ${id}`, () => this.kind.remove(this.ctx.client(), id, etag));
    try {
      await remove(props.etag);
      return;
    } catch (err) {
      const status = errorStatus(err);
      if (status === 404) return;
      if (status !== 412) throw new EnrollmentError(`deleting ${this.what(id)} failed: ${dpsMessage(err)}`);
    }
    // 412: deleted only when this stack's own interrupted write moved the etag (its marker, content untouched since;
    // for a kind without markers, content identical to the stored state's).
    try {
      const live = await this.live(id);
      if (this.ownership(live, { ...props, adopt: false }, true).verdict !== "ours") {
        throw new EnrollmentError(
          `${this.what(id)} changed in DPS since this stack last saw it; it was not deleted. Run \`pulumi refresh\`, ` +
            `then run the operation again.`,
        );
      }
      await remove(live.etag ?? "*");
    } catch (err) {
      if (err instanceof EnrollmentError) throw err;
      if (errorStatus(err) === 404) return;
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
