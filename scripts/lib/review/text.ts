// Text from the CLI and from programs made safe for a pull-request comment: terminal colour codes removed, HTML and
// Markdown syntax neutralized, so a value can never open a tag, a link, a table cell or a mention.

// ANSI escape sequences (CSI and OSC) and Pulumi's own colour directives (`<{%fg 1%}>`, `<{%reset%}>`).
// eslint-disable-next-line no-control-regex
const ansiPattern = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]/g;
const pulumiColorPattern = /<\{%[^%]*%\}>/g;
// Other control characters except tab and newline.
// eslint-disable-next-line no-control-regex
const controlPattern = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

export function stripAnsi(text: string): string {
  return text.replace(ansiPattern, "").replace(pulumiColorPattern, "").replace(controlPattern, "");
}

const entities: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  // Markdown syntax, written as character references so it stays literal text.
  "`": "&#96;",
  "*": "&#42;",
  _: "&#95;",
  "[": "&#91;",
  "]": "&#93;",
  "|": "&#124;",
  "~": "&#126;",
  "\\": "&#92;",
  "@": "&#64;",
  "#": "&#35;",
};

/**
 * Text that GitHub renders literally, inline: HTML- and Markdown-escaped, newlines as `<br>`. (Quotes need no escape
 * outside attributes, and the output is never put in one.)
 */
export function escapeText(text: string): string {
  return stripAnsi(text)
    .replace(/[&<>`*_[\]|~\\@#]/g, (c) => entities[c])
    .replace(/\r?\n/g, "<br>");
}

/** Escaped text in a `<code>` element. */
export function code(text: string): string {
  return `<code>${escapeText(text)}</code>`;
}

/** A `<pre>` block (Markdown is not parsed inside it, so only HTML needs escaping); starts a line of its own. */
export function preBlock(text: string): string {
  const html = stripAnsi(text).replace(/[&<>]/g, (c) => entities[c]);
  return `<pre>\n${html}\n</pre>`;
}
