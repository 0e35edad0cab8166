import { formatTick, niceTicks, renderChart } from "./chart";

describe("niceTicks", () => {
  test.each<[number, number[]]>([
    [10_000, [0, 2000, 4000, 6000, 8000, 10_000]],
    [187.3, [0, 50, 100, 150, 200]],
    [3.1, [0, 1, 2, 3, 4]],
    [0.3, [0, 0.1, 0.2, 0.3]],
    [1, [0, 0.2, 0.4, 0.6, 0.8, 1]],
    [0, [0, 1]],
  ])("up to %p: %p", (max, ticks) => {
    expect(niceTicks(max)).toEqual(ticks);
  });
});

test("formatTick separates thousands and drops trailing zeros", () => {
  expect([10_000, 2.5, 0.1, 1500.25].map(formatTick)).toEqual(["10,000", "2.5", "0.1", "1,500.25"]);
});

describe("renderChart", () => {
  const svg = renderChart({
    title: "up <time>",
    xLabel: "enrollments",
    yLabel: "seconds",
    width: 500,
    height: 300,
    series: [
      {
        label: "this project",
        color: "#1f77b4",
        points: [
          [10_000, 200],
          [1000, 20],
        ],
      },
      { label: "no-op & floor", color: "#7f7f7f", points: [[1000, 5]], dashed: true },
    ],
  });
  // Plot area: x from 70 to 320 (500 - 70 - 180), y from 250 (300 - 50) up to 40; axes 0..10,000 and 0..200.
  const lines = svg.split("\n");

  test("is one SVG document with its title escaped", () => {
    expect(lines[0]).toBe(
      '<svg xmlns="http://www.w3.org/2000/svg" width="500" height="300" viewBox="0 0 500 300" font-family="sans-serif" font-size="12">',
    );
    expect(lines[2]).toBe(
      '<text x="250" y="22" text-anchor="middle" font-size="14" font-weight="bold">up &lt;time&gt;</text>',
    );
    expect(lines[lines.length - 2]).toBe("</svg>");
  });

  test("draws each series in x order at the scaled coordinates, with markers and a legend entry", () => {
    expect(lines).toContain('<polyline points="95,229 320,40" fill="none" stroke="#1f77b4" stroke-width="2"/>');
    expect(lines).toContain('<circle cx="95" cy="229" r="3.5" fill="#1f77b4"/>');
    expect(lines).toContain('<circle cx="320" cy="40" r="3.5" fill="#1f77b4"/>');
    // One point: a marker, no line.
    expect(lines.filter((l) => l.startsWith("<polyline"))).toHaveLength(1);
    expect(lines).toContain('<circle cx="95" cy="244.75" r="3.5" fill="#7f7f7f"/>');
    expect(lines).toContain(
      '<line x1="335" y1="70" x2="360" y2="70" stroke="#7f7f7f" stroke-width="2" stroke-dasharray="6 4"/>',
    );
    expect(lines).toContain('<text x="366" y="74">no-op &amp; floor</text>');
  });

  test("labels the axes with nice ticks", () => {
    const tickLabels = lines
      .map((l) => /^<text [^>]*>([\d,]+)<\/text>$/.exec(l)?.[1])
      .filter((label) => label !== undefined);
    expect(tickLabels).toEqual(["0", "50", "100", "150", "200", "0", "2,000", "4,000", "6,000", "8,000", "10,000"]);
    expect(lines).toContain('<text x="195" y="290" text-anchor="middle">enrollments</text>');
    expect(lines).toContain('<text x="16" y="145" text-anchor="middle" transform="rotate(-90 16 145)">seconds</text>');
  });
});
