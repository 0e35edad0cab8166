// Where a value of a YAML document is written: line and column (1-based) of the node at a path, from the parser's
// node ranges, for messages of the form `file:line:column: …`.
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from "yaml";

export type Path = readonly (string | number)[];

export interface Position {
  line: number;
  column: number;
}

export class SourcePositions {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  private at(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  private resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  /** The node at `path` with the key node of its last step, as far as the path exists. */
  private walk(path: Path): { node?: Node; key?: Node; depth: number } {
    let node = this.resolve(this.doc.contents) as Node | undefined;
    let key: Node | undefined;
    let depth = 0;
    for (const step of path) {
      let next: unknown;
      let nextKey: Node | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step));
        if (!pair) break;
        nextKey = pair.key as Node;
        next = pair.value ?? undefined;
      } else if (isSeq(node) && typeof step === "number" && step < node.items.length) {
        next = node.items[step];
      } else {
        break;
      }
      key = nextKey;
      node = (this.resolve(next) as Node | undefined) ?? undefined;
      depth++;
      // `field:` with nothing after it has no value node: its key marks the place.
      if (node === undefined) {
        node = nextKey;
        if (node === undefined) break;
      }
    }
    return { node, key, depth };
  }

  /** How many steps of `path` exist in the document. */
  depth(path: Path): number {
    return this.walk(path).depth;
  }

  /**
   * The position of the value at `path` (or of its key, with `key`), or of its deepest existing ancestor when the
   * path does not fully exist (a missing field is reported where its mapping starts).
   */
  position(path: Path, options: { key?: boolean } = {}): Position {
    const { node, key, depth } = this.walk(path);
    const target = options.key && depth === path.length && key ? key : node;
    return this.at(target?.range?.[0] ?? 0);
  }
}
