// The parts of the Pulumi engine's event stream (`pulumi preview --event-log`, apitype.EngineEvent) and of an update
// plan (`--save-plan`, apitype.DeploymentPlanV1) that the review reads. Both are JSON the CLI writes; nothing here
// trusts their shape beyond what it checks.

/** A resource's state as an event shows it: secrets masked, never in plaintext (the event log never shows them). */
export interface EventResourceState {
  type: string;
  urn: string;
  custom?: boolean;
  id?: string;
  parent?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

export interface StepMetadata {
  /** same, create, update, delete, replace, create-replacement, delete-replaced, read, import, … */
  op: string;
  urn: string;
  type: string;
  old?: EventResourceState | null;
  new?: EventResourceState | null;
  /** Properties that force a replacement (the provider's `replaces`). */
  keys?: string[];
  logical?: boolean;
}

export interface DiagnosticEvent {
  urn?: string;
  prefix?: string;
  message: string;
  /** debug, info, info#err, warning, error */
  severity: string;
  ephemeral?: boolean;
}

export interface PolicyEvent {
  resourceUrn?: string;
  message: string;
  policyName: string;
  policyPackName: string;
  policyPackVersion: string;
  /** warning (advisory), mandatory, remediate, none */
  enforcementLevel: string;
  exceptions?: { id: string; reason: string }[];
}

export interface PolicyAnalyzeSummaryEvent {
  resourceUrn: string;
  policyPackName: string;
  policyPackVersion: string;
  passed?: string[];
  failed?: string[];
}

export interface SummaryEvent {
  resourceChanges?: Record<string, number>;
  result?: string;
}

export interface EngineEvent {
  sequence?: number;
  resourcePreEvent?: { metadata: StepMetadata };
  diagnosticEvent?: DiagnosticEvent;
  policyEvent?: PolicyEvent;
  policyAnalyzeSummaryEvent?: PolicyAnalyzeSummaryEvent;
  summaryEvent?: SummaryEvent;
}

/** The event log: one JSON event per line; a torn last line (an interrupted CLI) is left out. */
export function parseEventLog(text: string): EngineEvent[] {
  const events: EngineEvent[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      events.push(JSON.parse(line) as EngineEvent);
    } catch {
      // only the last line can be incomplete
    }
  }
  return events;
}

/** Per resource URN, the names of the input properties the engine found changed (its own comparison, secrets too). */
export type PlanInputChanges = ReadonlyMap<string, ReadonlySet<string>>;

interface PlanDocument {
  resourcePlans?: Record<string, { goal?: { inputDiff?: { adds?: object; deletes?: string[]; updates?: object } } }>;
}

/**
 * The changed input names of every resource in an update plan. The plan compares old and new inputs inside the
 * engine, where secrets are plaintext, and records only the names here (secret values stay encrypted in the file).
 */
export function parsePlanInputChanges(text: string): PlanInputChanges {
  const plan = JSON.parse(text) as PlanDocument;
  const changes = new Map<string, Set<string>>();
  for (const [urn, resourcePlan] of Object.entries(plan.resourcePlans ?? {})) {
    const diff = resourcePlan.goal?.inputDiff;
    if (!diff) continue;
    changes.set(
      urn,
      new Set([...Object.keys(diff.adds ?? {}), ...(diff.deletes ?? []), ...Object.keys(diff.updates ?? {})]),
    );
  }
  return changes;
}
