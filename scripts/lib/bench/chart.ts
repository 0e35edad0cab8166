// A line chart as SVG text, for the benchmark's `up` time against enrollment count: linear axes from zero with
// "nice" ticks (1, 2 or 5 × a power of ten), one polyline with point markers per series, a legend. No dependency:
// the figures are few and the markup small enough to write, test and diff by hand.

export interface ChartSeries {
  label: string;
  /** CSS colour of the line and its markers. */
  color: string;
  /** Points (x, y); drawn in x order. */
  points: readonly (readonly [number, number])[];
  /** Dashed line (e.g. a floor). */
  dashed?: boolean;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  width?: number;
  height?: number;
}

/** Tick values from 0 to at least `max`: about `target` steps of 1, 2 or 5 × 10^k. */
export function niceTicks(max: number, target = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const rough = max / target;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  // Rounded to the step's precision: 0.1 + 0.2 must print as 0.3.
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  for (let i = 0; ; i++) {
    const value = Number((i * step).toFixed(digits));
    ticks.push(value);
    if (value >= max) return ticks;
  }
}

/** A tick label: thousands separated by commas, no trailing zeros. */
export function formatTick(value: number): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: 3 });
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Two decimals at most, so the markup stays short and stable. */
function coord(value: number): string {
  return String(Math.round(value * 100) / 100);
}

export function renderChart(spec: ChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 400;
  const margin = { top: 40, right: 180, bottom: 50, left: 70 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const all = spec.series.flatMap((s) => s.points);
  const xTicks = niceTicks(Math.max(0, ...all.map(([x]) => x)));
  const yTicks = niceTicks(Math.max(0, ...all.map(([, y]) => y)));
  const xMax = xTicks[xTicks.length - 1];
  const yMax = yTicks[yTicks.length - 1];
  const sx = (x: number): number => margin.left + (x / xMax) * plotWidth;
  const sy = (y: number): number => margin.top + plotHeight - (y / yMax) * plotHeight;
  const bottom = margin.top + plotHeight;
  const right = margin.left + plotWidth;

  const lines: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${coord(width / 2)}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(spec.title)}</text>`,
  ];
  for (const tick of yTicks) {
    const y = coord(sy(tick));
    lines.push(`<line x1="${margin.left}" y1="${y}" x2="${right}" y2="${y}" stroke="#e0e0e0"/>`);
    lines.push(`<text x="${margin.left - 6}" y="${y}" text-anchor="end" dy="4">${formatTick(tick)}</text>`);
  }
  for (const tick of xTicks) {
    const x = coord(sx(tick));
    lines.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="black"/>`);
    lines.push(`<text x="${x}" y="${bottom + 18}" text-anchor="middle">${formatTick(tick)}</text>`);
  }
  lines.push(
    `<line x1="${margin.left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="black"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${bottom}" stroke="black"/>`,
    `<text x="${coord(margin.left + plotWidth / 2)}" y="${height - 10}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
    `<text x="16" y="${coord(margin.top + plotHeight / 2)}" text-anchor="middle" transform="rotate(-90 16 ${coord(margin.top + plotHeight / 2)})">${escapeXml(spec.yLabel)}</text>`,
  );
  spec.series.forEach((series, index) => {
    const points = [...series.points].sort((a, b) => a[0] - b[0]);
    const dash = series.dashed ? ` stroke-dasharray="6 4"` : "";
    if (points.length > 1) {
      const path = points.map(([x, y]) => `${coord(sx(x))},${coord(sy(y))}`).join(" ");
      lines.push(`<polyline points="${path}" fill="none" stroke="${series.color}" stroke-width="2"${dash}/>`);
    }
    for (const [x, y] of points) {
      lines.push(`<circle cx="${coord(sx(x))}" cy="${coord(sy(y))}" r="3.5" fill="${series.color}"/>`);
    }
    const ly = margin.top + 10 + index * 20;
    lines.push(
      `<line x1="${right + 15}" y1="${ly}" x2="${right + 40}" y2="${ly}" stroke="${series.color}" stroke-width="2"${dash}/>`,
      `<text x="${right + 46}" y="${ly + 4}">${escapeXml(series.label)}</text>`,
    );
  });
  lines.push(`</svg>`);
  return `${lines.join("\n")}\n`;
}
