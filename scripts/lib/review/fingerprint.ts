// The fingerprint of a stack's change set: what the review records in its comment and the deploy compares before it
// applies anything. Operation, URN, the changed properties with their old and new values, and whether a replacement
// deletes first; a secret contributes its property name only (never its value or anything derived from it).
import { createHash } from "node:crypto";

import { canonical } from "../../../dynamic-providers/enrollment/diff";
import type { StackReview, ValueView } from "./model";

function raw(view: ValueView): unknown {
  switch (view.kind) {
    case "absent":
      return null;
    case "value":
      return { value: view.json };
    case "certificate":
      return { certificate: view.thumbprint };
    case "unknown":
      return { unknown: true };
    case "secret":
      return { secret: true };
  }
}

/** `sha256:<hex>` of the change set; the same for two previews exactly when they would apply the same changes. */
export function changeSetFingerprint(review: StackReview): string {
  const changes = [...review.changes]
    .sort((a, b) => a.urn.localeCompare(b.urn))
    .map((change) => ({
      op: change.op,
      urn: change.urn,
      deleteBeforeReplace: change.deleteBeforeReplace,
      properties: change.properties.map((p) =>
        p.secret ? { path: p.path, secret: true } : { path: p.path, before: raw(p.before), after: raw(p.after) },
      ),
    }));
  return `sha256:${createHash("sha256")
    .update(canonical({ version: 1, changes }))
    .digest("hex")}`;
}
