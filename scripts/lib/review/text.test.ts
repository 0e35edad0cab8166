import { code, escapeText, preBlock, stripAnsi } from "./text";

describe("stripAnsi", () => {
  test.each([
    ["CSI colours", "\u001b[31merror\u001b[0m: boom", "error: boom"],
    ["CSI with parameters", "\u001b[1;38;5;196mred\u001b[m", "red"],
    ["OSC hyperlink", "\u001b]8;;https://example.com\u0007link\u001b]8;;\u0007", "link"],
    ["Pulumi colour directives", "<{%fg 1%}>error<{%reset%}>: x", "error: x"],
    ["other control characters", "a\u0000b\u0007c\u007fd", "abcd"],
    ["tabs and newlines stay", "a\tb\nc", "a\tb\nc"],
  ])("%s", (_, input, expected) => {
    expect(stripAnsi(input)).toBe(expected);
  });
});

describe("escapeText", () => {
  test("HTML cannot open a tag or an entity", () => {
    expect(escapeText("<script>alert(1)</script> & &amp;")).toBe(
      "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &amp;amp;",
    );
  });

  test("Markdown syntax stays literal: code, emphasis, links, tables, strike, mentions, issue references", () => {
    expect(escapeText("`x` *b* _i_ [l](u) a|b ~~s~~ \\n @user #12")).toBe(
      "&#96;x&#96; &#42;b&#42; &#95;i&#95; &#91;l&#93;(u) a&#124;b &#126;&#126;s&#126;&#126; &#92;n &#64;user &#35;12",
    );
  });

  test("newlines become <br>, colour codes go, quotes stay", () => {
    expect(escapeText("\u001b[33m\"a\"\u001b[0m\r\n'b'")).toBe("\"a\"<br>'b'");
  });

  test("code wraps escaped text", () => {
    expect(code("a<b")).toBe("<code>a&lt;b</code>");
  });
});

test("preBlock escapes HTML only and keeps lines (Markdown is not parsed in <pre>)", () => {
  expect(preBlock("a < b\n*not emphasis*\n</pre><img src=x>")).toBe(
    "<pre>\na &lt; b\n*not emphasis*\n&lt;/pre&gt;&lt;img src=x&gt;\n</pre>",
  );
});
