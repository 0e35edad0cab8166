// The review as GitHub-flavoured Markdown, and the size budget of a comment: detail is folded, then dropped in a
// fixed order until the text fits; the status line, the counts, the destructive changes and the policy results
// always stay (only a change set of many hundreds of deletes ever shortens those lists).
import { changeSetFingerprint } from "./fingerprint";
import { fingerprintMarker, reviewMarker } from "./markers";
import {
  destructiveChanges,
  type PolicyFinding,
  type PropertyChange,
  type ResourceChange,
  type StackReview,
  type ValueView,
} from "./model";
import { code, escapeText, preBlock } from "./text";

/** GitHub refuses comments over 65,536 characters; this leaves room for what a workflow adds. */
export const commentBudget = 60_000;

export interface RenderContext {
  project: string;
  /** Stacks whose deletes need an approval before the deploy (policies cannot see deletes). */
  approvalStacks?: readonly string[];
  /** The commit that was previewed. */
  commit?: string;
  /** Where the full report is (the workflow run). */
  runUrl?: string;
}

/** How much detail a rendering keeps; each level of `detailLevels` drops more than the one before. */
interface Detail {
  /** Fold every stack's change list into `<details>` (otherwise only lists of more than ten). */
  foldAll: boolean;
  /** Longest value shown in full, in characters. */
  valueLimit: number;
  createProperties: boolean;
  changeValues: boolean;
  changeProperties: boolean;
  listChanges: boolean;
  diagnosticLimit: number;
  compactLists: boolean;
  /** At most this many destructive and policy items per stack (only the last level). */
  itemCap: number;
}

const full: Detail = {
  foldAll: false,
  valueLimit: Infinity,
  createProperties: true,
  changeValues: true,
  changeProperties: true,
  listChanges: true,
  diagnosticLimit: Infinity,
  compactLists: false,
  itemCap: Infinity,
};

/** The fixed order in which detail goes: first everything (long lists folded), then folded and less and less. */
const detailLevels: readonly Detail[] = [
  full,
  { ...full, foldAll: true, valueLimit: 100 },
  { ...full, foldAll: true, valueLimit: 100, createProperties: false },
  { ...full, foldAll: true, valueLimit: 100, createProperties: false, changeValues: false },
  { ...full, foldAll: true, createProperties: false, changeProperties: false },
  { ...full, listChanges: false },
  { ...full, listChanges: false, diagnosticLimit: 20 },
  { ...full, listChanges: false, diagnosticLimit: 20, compactLists: true },
];

const dropped: [keyof Detail, string][] = [
  ["valueLimit", "long values are cut"],
  ["createProperties", "created resources' properties are left out"],
  ["changeValues", "changed properties are named without their values"],
  ["changeProperties", "changed properties are left out"],
  ["listChanges", "the list of changes is left out"],
  ["diagnosticLimit", "only the first 20 errors and warnings are shown"],
  ["compactLists", "destructive changes and policy results are listed briefly"],
  ["itemCap", "not every destructive change and policy result is listed"],
];

const foldThreshold = 10;

const opIcons: Record<ResourceChange["op"], string> = {
  create: "➕",
  update: "✏️",
  replace: "♻️",
  delete: "🗑️",
};

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function statusText(review: StackReview): string {
  switch (review.status) {
    case "no-changes":
      return "✅ no changes";
    case "failed":
      return "❌ preview failed";
    case "policy-violation":
      return `⛔ policy violation (${plural(review.changes.length, "change")})`;
    case "changes": {
      const destructive = destructiveChanges(review).length;
      return `📝 ${plural(review.changes.length, "change")}${destructive > 0 ? ` (${destructive} destructive)` : ""}`;
    }
  }
}

function shorten(text: string, limit: number): string {
  if (text.length <= limit) return text;
  return `${text.slice(0, limit)}… (${text.length.toLocaleString("en-US")} characters)`;
}

function valueText(value: ValueView, detail: Detail): string {
  switch (value.kind) {
    case "absent":
      return "(none)";
    case "secret":
      return "(secret)";
    case "unknown":
      return "(known after the deploy)";
    case "value":
      return code(shorten(value.json, detail.valueLimit));
    case "certificate": {
      const thumbprint = `SHA-1 ${code(value.thumbprint)}`;
      if (!value.info) return `${thumbprint} (subject unknown: no such certificate file in the project)`;
      return `${code(value.info.subject)}, ${thumbprint}, not after ${value.info.notAfter.slice(0, 10)}`;
    }
  }
}

function propertyLine(change: PropertyChange, op: ResourceChange["op"], detail: Detail): string {
  const name = code(change.path);
  const replaces = change.forcesReplacement ? " — **forces replacement**" : "";
  let text: string;
  if (change.secret) {
    text =
      change.before.kind === "absent"
        ? "set (secret)"
        : change.after.kind === "absent"
          ? "removed (secret)"
          : "changed (secret)";
  } else if (op === "create") {
    text = valueText(change.after, detail);
  } else {
    text = `${valueText(change.before, detail)} → ${valueText(change.after, detail)}`;
  }
  return `  - ${name}: ${text}${replaces}`;
}

function resourceTitle(change: ResourceChange): string {
  const e = change.enrollment;
  if (!e) return `${code(change.name)} (${code(change.type)})`;
  const was = e.previousRegistrationId ? `, was ${code(e.previousRegistrationId)}` : "";
  const attestation = e.previousAttestation
    ? `${escapeText(e.previousAttestation)} → ${escapeText(e.attestation ?? "?")}`
    : escapeText(e.attestation ?? "attestation unknown");
  return `${code(e.registrationId)} (${attestation}${was})`;
}

function changeEntry(change: ResourceChange, detail: Detail): string[] {
  const head = `- ${opIcons[change.op]} **${change.op}** ${resourceTitle(change)}`;
  if (change.op === "delete") return [head];
  const showProperties = change.op === "create" ? detail.createProperties : detail.changeProperties;
  if (!showProperties) return [head];
  if (change.op !== "create" && !detail.changeValues) {
    return [`${head}: ${change.properties.map((p) => code(p.path)).join(", ")}`];
  }
  return [head, ...change.properties.map((p) => propertyLine(p, change.op, detail))];
}

function destructiveEntry(change: ResourceChange, review: StackReview, context: RenderContext, detail: Detail): string {
  const head = `- ${opIcons[change.op]} **${change.op}** ${resourceTitle(change)}`;
  const approval =
    change.op === "delete" && (context.approvalStacks ?? ["prod"]).includes(review.stack)
      ? ` **Delete in ${code(review.stack)}: policies cannot see deletes, so the deploy waits for an approval.**`
      : "";
  if (detail.compactLists) {
    const gap = change.deleteBeforeReplace ? ": absent in between" : "";
    return `${head}${gap}${approval}`;
  }
  if (change.op === "delete") {
    const what = change.enrollment ? "removed from DPS: its devices can no longer register." : "removed.";
    return `${head}: ${what}${approval}`;
  }
  const reasons = change.replaceReasons.length > 0 ? `, forced by ${change.replaceReasons.map(code).join(", ")}` : "";
  const order = change.deleteBeforeReplace
    ? "**absent in between**: the old one is deleted before the new one is created, and devices cannot register in that window."
    : "the new one is created before the old one is deleted (not absent in between).";
  return `${head}${reasons}: ${order}`;
}

function policyEntry(finding: PolicyFinding): string {
  const icon = finding.exceptions.length > 0 ? "⏭️" : finding.level === "mandatory" ? "⛔" : "⚠️";
  const where = finding.resource ? code(finding.resource) : "the stack";
  const waived = finding.exceptions.length > 0 ? `, waived by ${finding.exceptions.map(code).join(", ")}` : "";
  return `- ${icon} ${where}: ${code(finding.policy)} (${finding.level}${waived}): ${code(finding.message)}`;
}

function capped<T>(items: readonly T[], cap: number, render: (item: T) => string, what: string): string[] {
  const lines = items.slice(0, cap).map(render);
  if (items.length > cap) lines.push(`- … and ${plural(items.length - cap, what)} more (see the full report)`);
  return lines;
}

function stackSection(review: StackReview, context: RenderContext, detail: Detail, fold: boolean): string[] {
  const lines: string[] = [`### ${code(review.stack)}: ${statusText(review)}`, ""];
  if (review.status === "failed") {
    lines.push("The preview failed, so the change set is not known.", "");
  } else {
    const c = review.counts;
    lines.push(
      "| create | update | replace | delete | unchanged |",
      "| -----: | -----: | ------: | -----: | --------: |",
      `| ${c.create} | ${c.update} | ${c.replace} | ${c.delete} | ${c.unchanged} |`,
      "",
    );
    const destructive = destructiveChanges(review);
    if (destructive.length > 0) {
      lines.push(
        "#### ⚠️ Destructive changes",
        "",
        ...capped(
          destructive,
          detail.itemCap,
          (c) => destructiveEntry(c, review, context, detail),
          "destructive change",
        ),
        "",
      );
    }
    if (review.changes.length > 0) {
      lines.push("#### Changes", "");
      if (!detail.listChanges) {
        lines.push(`${plural(review.changes.length, "changed resource")}, not listed here to fit a comment.`, "");
      } else {
        const entries = review.changes.flatMap((c) => changeEntry(c, detail));
        if (fold || review.changes.length > foldThreshold) {
          lines.push(`<details><summary>${plural(review.changes.length, "changed resource")}</summary>`, "");
          lines.push(...entries, "", "</details>", "");
        } else {
          lines.push(...entries, "");
        }
      }
    }
  }
  lines.push("#### Policies", "");
  if (review.policyPacks.length === 0 && review.policies.length === 0) {
    lines.push("No policy pack ran.", "");
  } else {
    for (const pack of review.policyPacks) {
      lines.push(
        `Pack ${code(pack.pack)} ${escapeText(pack.version)}: ${plural(pack.resources, "resource")} checked by ${plural(pack.policies.length, "policy", "policies")}.`,
      );
    }
    lines.push("");
    if (review.policies.length === 0) {
      lines.push("✅ No violations.", "");
    } else {
      lines.push(...capped(review.policies, detail.itemCap, policyEntry, "policy result"), "");
    }
  }
  for (const [title, messages] of [
    ["Errors", review.errors],
    ["Warnings", review.warnings],
  ] as const) {
    if (messages.length === 0) continue;
    const shown = messages.slice(0, detail.diagnosticLimit);
    const more = messages.length - shown.length;
    lines.push(`#### ${title}`, "", preBlock(shown.join("\n\n")), "");
    if (more > 0) lines.push(`… and ${plural(more, "more message")} (see the full report).`, "");
  }
  return lines;
}

function renderAt(reviews: readonly StackReview[], context: RenderContext, detail: Detail, level: number): string {
  const stacks = reviews.map((r) => r.stack);
  const lines: string[] = [reviewMarker(context.project, stacks)];
  for (const review of reviews) {
    const failed = review.status === "failed" || review.status === "policy-violation";
    lines.push(
      fingerprintMarker(
        context.project,
        review.stack,
        failed ? "failed" : { fingerprint: changeSetFingerprint(review) },
      ),
    );
  }
  lines.push(
    `**Pulumi preview of ${code(context.project)}** · ${reviews.map((r) => `${code(r.stack)}: ${statusText(r)}`).join(" · ")}`,
    "",
  );
  const totalChanges = reviews.reduce((n, r) => n + r.changes.length, 0);
  for (const review of reviews) {
    lines.push(...stackSection(review, context, detail, detail.foldAll || totalChanges > foldThreshold));
  }
  const notes: string[] = [];
  if (level > 0) {
    const cuts = dropped.filter(([key]) => detail[key] !== full[key]).map(([, text]) => text);
    const where = context.runUrl ? `; the full report is in the [workflow run](${context.runUrl})` : "";
    notes.push(`Shortened to fit a comment: ${cuts.join("; ")}${where}.`);
  }
  const footer: string[] = [];
  if (context.commit) footer.push(`commit ${code(context.commit)}`);
  if (context.runUrl && level === 0) footer.push(`[workflow run](${context.runUrl})`);
  footer.push(`${code(`npm run review -- ${stacks.map((s) => `--stack ${s}`).join(" ")}`)}`);
  lines.push(...notes.map((n) => `_${n}_`), ...(notes.length > 0 ? [""] : []), `<sub>${footer.join(" · ")}</sub>`);
  return `${lines.join("\n")}\n`;
}

/** The full report: every detail (what `--out` writes). */
export function renderFull(reviews: readonly StackReview[], context: RenderContext): string {
  return renderAt(reviews, context, full, 0);
}

/** The report at every level of detail, most first (for tests of the order). */
export function renderLevels(reviews: readonly StackReview[], context: RenderContext): string[] {
  return detailLevels.map((detail, level) => renderAt(reviews, context, detail, level));
}

/** The report within `budget` characters: the first level of detail that fits. */
export function renderWithin(reviews: readonly StackReview[], context: RenderContext, budget = commentBudget): string {
  for (let level = 0; level < detailLevels.length; level++) {
    const text = renderAt(reviews, context, detailLevels[level], level);
    if (text.length <= budget) return text;
  }
  // Only hundreds of destructive changes or policy results get here: list as many as fit.
  const last = detailLevels[detailLevels.length - 1];
  let low = 0;
  let high = Math.max(...reviews.map((r) => Math.max(r.changes.length, r.policies.length)));
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (renderAt(reviews, context, { ...last, itemCap: mid }, detailLevels.length).length <= budget) low = mid;
    else high = mid - 1;
  }
  return renderAt(reviews, context, { ...last, itemCap: low }, detailLevels.length);
}
