// What a policy reads of an enrollment resource, one reader per resource type (EnrollmentGroup: add its reader to
// `enrollmentReaders`).
//
// A resource policy sees, at preview, the provider's *checked* inputs: certificates as `sha1:` references plus the
// derived `certificateValidity`, keys and twin in plaintext, no `linkedHubs` (check reads them and drops them). When
// an input is not known yet (e.g. the DPS host name before the DPS exists), check passes the program's *raw* inputs
// through unchanged: certificate text instead of references, `linkedHubs`. Raw or checked, an enrollment has one
// shape (`attestationType` and its fields top-level). A stack policy sees outputs: DPS's view
// (with `etag`) for unchanged enrollments, the inputs again for those the preview creates or updates.
// Every reader touches only its own properties: reading a value that is unknown at preview stops the policy.
import { certificateValidity } from "../dynamic-providers/enrollment/certificates";

export type Props = Record<string, unknown>;

export interface CertificatePeriod {
  slot: "primary" | "secondary";
  /** Seconds since the epoch. */
  notBefore: number;
  notAfter: number;
}

export interface InitialTwinParts {
  tags?: unknown;
  desired?: unknown;
}

export interface EnrollmentReader {
  /** The registration ID, when the props hold one (raw X.509 inputs may leave it to the certificate's CN). */
  registrationId(props: Props): string | undefined;
  /** The X.509 certificates' validity, primary first; empty for other attestations. */
  certificates(props: Props): CertificatePeriod[];
  /** Host names of the hubs the enrollment may be assigned to. */
  iotHubs(props: Props): string[];
  /** The linked hubs the resource was given, when the props still hold them (raw inputs). */
  linkedHubs(props: Props): string[] | undefined;
  initialTwin(props: Props): InitialTwinParts | undefined;
  enabled(props: Props): boolean;
  /** Whether the props are DPS's own view (an unchanged enrollment in a stack policy), not inputs about to be sent. */
  heldByDps(props: Props): boolean;
}

export const individualEnrollmentType = "pulumi-nodejs:dynamic/dps:IndividualEnrollment";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
}

const slots = ["primary", "secondary"] as const;

const individualEnrollment: EnrollmentReader = {
  registrationId: (props) => (typeof props.registrationId === "string" ? props.registrationId : undefined),
  certificates: (props) => {
    let validity = props.certificateValidity;
    if (validity === undefined) {
      // Raw inputs: the certificates' text (checked inputs hold references and the validity).
      const { primaryCertificate, secondaryCertificate } = props;
      validity = certificateValidity({
        primaryCertificate: typeof primaryCertificate === "string" ? primaryCertificate : undefined,
        secondaryCertificate: typeof secondaryCertificate === "string" ? secondaryCertificate : undefined,
      });
    }
    if (!Array.isArray(validity)) return [];
    return validity.flatMap((period: unknown, index) => {
      const slot = slots[index];
      if (!slot || !Array.isArray(period) || typeof period[0] !== "number" || typeof period[1] !== "number") return [];
      return [{ slot, notBefore: period[0], notAfter: period[1] }];
    });
  },
  iotHubs: (props) => strings(props.iotHubs) ?? [],
  linkedHubs: (props) => strings(props.linkedHubs),
  initialTwin: (props) => {
    const twin = props.initialTwin;
    if (!isRecord(twin)) return undefined;
    return { tags: twin.tags, desired: isRecord(twin.properties) ? twin.properties.desired : undefined };
  },
  enabled: (props) => props.enabled !== false,
  heldByDps: (props) => typeof props.etag === "string" && props.etag !== "",
};

/** Readers by resource type token (dynamic resources have no static type to compare with `isType`). */
export const enrollmentReaders: Readonly<Record<string, EnrollmentReader>> = {
  [individualEnrollmentType]: individualEnrollment,
};

export function enrollmentReader(type: string): EnrollmentReader | undefined {
  return Object.prototype.hasOwnProperty.call(enrollmentReaders, type) ? enrollmentReaders[type] : undefined;
}
