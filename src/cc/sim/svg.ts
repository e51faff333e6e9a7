// A small SVG line-chart renderer (no browser, no dependency): axes with "nice" ticks, linear or log-10 x,
// several series with a legend, and vertical stacking of panels into one figure. Output is deterministic
// (fixed number formatting), so figures can be regenerated and diffed.

/** One line of a chart. */
export interface SvgSeries {
  name: string;
  xs: readonly number[];
  ys: readonly number[];
  color?: string;
  /** Dashed line (reference curves). */
  dashed?: boolean;
}

/** One chart panel. */
export interface SvgChartSpec {
  title?: string;
  xLabel: string;
  yLabel: string;
  series: SvgSeries[];
  xLog?: boolean;
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
  /** Panel size in px. Default 720 × 300. */
  width?: number;
  height?: number;
}

/** The default palette (colour-blind-safe Okabe–Ito). */
export const SVG_PALETTE: readonly string[] = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

const MARGIN = { left: 64, right: 150, top: 30, bottom: 44 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  return (Math.round(v * 100) / 100).toString();
}

function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(0);
  if (a >= 100) return v.toFixed(0);
  return Number(v.toPrecision(3)).toString();
}

/** "Nice" linear ticks (1, 2, 5 × 10^k steps) covering [lo, hi]. */
export function svgNiceTicks(lo: number, hi: number, target = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

interface Frame {
  x0: number;
  y0: number;
  w: number;
  h: number;
}

function chartBody(spec: SvgChartSpec, frame: Frame): string {
  const { x0, y0, w, h } = frame;
  const pw = w - MARGIN.left - MARGIN.right;
  const ph = h - MARGIN.top - MARGIN.bottom;
  const px = x0 + MARGIN.left;
  const py = y0 + MARGIN.top;
  const allX = spec.series.flatMap((s) => s.xs.filter((x) => Number.isFinite(x) && (!spec.xLog || x > 0)));
  const allY = spec.series.flatMap((s) => s.ys.filter((y) => Number.isFinite(y)));
  let xMin = spec.xMin ?? (allX.length ? Math.min(...allX) : 0);
  let xMax = spec.xMax ?? (allX.length ? Math.max(...allX) : 1);
  const yMin = spec.yMin ?? Math.min(0, ...(allY.length ? allY : [0]));
  let yMax = spec.yMax ?? (allY.length ? Math.max(...allY) : 1);
  if (!(yMax > yMin)) yMax = yMin + 1;
  if (!(xMax > xMin)) xMax = xMin + 1;
  const lx = (v: number): number => (spec.xLog ? Math.log10(v) : v);
  if (spec.xLog) {
    xMin = Math.max(xMin, 1e-12);
  }
  const sx = (v: number): number => px + ((lx(v) - lx(xMin)) / (lx(xMax) - lx(xMin))) * pw;
  const sy = (v: number): number => py + ph - ((Math.min(Math.max(v, yMin), yMax) - yMin) / (yMax - yMin)) * ph;
  const parts: string[] = [];
  if (spec.title) parts.push(`<text x="${fmt(px)}" y="${fmt(y0 + 18)}" font-size="14" font-weight="bold">${esc(spec.title)}</text>`);
  parts.push(`<rect x="${fmt(px)}" y="${fmt(py)}" width="${fmt(pw)}" height="${fmt(ph)}" fill="#fff" stroke="#888"/>`);
  // y ticks and grid
  for (const t of svgNiceTicks(yMin, yMax)) {
    const y = sy(t);
    parts.push(`<line x1="${fmt(px)}" y1="${fmt(y)}" x2="${fmt(px + pw)}" y2="${fmt(y)}" stroke="#eee"/>`);
    parts.push(`<text x="${fmt(px - 6)}" y="${fmt(y + 4)}" font-size="11" text-anchor="end">${tickLabel(t)}</text>`);
  }
  // x ticks: decades on a log axis
  const xt: number[] = [];
  if (spec.xLog) {
    for (let e = Math.floor(Math.log10(xMin)); e <= Math.ceil(Math.log10(xMax)); e++) {
      const v = 10 ** e;
      if (v >= xMin * (1 - 1e-9) && v <= xMax * (1 + 1e-9)) xt.push(v);
    }
  } else {
    xt.push(...svgNiceTicks(xMin, xMax));
  }
  for (const t of xt) {
    const x = sx(t);
    parts.push(`<line x1="${fmt(x)}" y1="${fmt(py)}" x2="${fmt(x)}" y2="${fmt(py + ph)}" stroke="#eee"/>`);
    parts.push(`<text x="${fmt(x)}" y="${fmt(py + ph + 16)}" font-size="11" text-anchor="middle">${tickLabel(t)}</text>`);
  }
  parts.push(`<text x="${fmt(px + pw / 2)}" y="${fmt(py + ph + 34)}" font-size="12" text-anchor="middle">${esc(spec.xLabel)}</text>`);
  parts.push(`<text x="${fmt(x0 + 16)}" y="${fmt(py + ph / 2)}" font-size="12" text-anchor="middle" transform="rotate(-90 ${fmt(x0 + 16)} ${fmt(py + ph / 2)})">${esc(spec.yLabel)}</text>`);
  // series
  spec.series.forEach((s, i) => {
    const color = s.color ?? SVG_PALETTE[i % SVG_PALETTE.length]!;
    const pts: string[] = [];
    const n = Math.min(s.xs.length, s.ys.length);
    for (let k = 0; k < n; k++) {
      const x = s.xs[k]!;
      const y = s.ys[k]!;
      if (!Number.isFinite(x) || !Number.isFinite(y) || (spec.xLog && x <= 0)) continue;
      pts.push(`${fmt(sx(x))},${fmt(sy(y))}`);
    }
    if (pts.length > 0) {
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts.join(' ')}"/>`);
      if (n <= 30) for (const p of pts) {
        const [cx, cy] = p.split(',');
        parts.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${color}"/>`);
      }
    }
    const ly = py + 10 + i * 18;
    const lx0 = px + pw + 12;
    parts.push(`<line x1="${fmt(lx0)}" y1="${fmt(ly)}" x2="${fmt(lx0 + 22)}" y2="${fmt(ly)}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${fmt(lx0 + 28)}" y="${fmt(ly + 4)}" font-size="11">${esc(s.name)}</text>`);
  });
  return parts.join('\n');
}

/** One chart as a complete SVG document. */
export function renderSvgChart(spec: SvgChartSpec): string {
  return renderSvgFigure([spec]);
}

/** Several charts stacked vertically in one SVG document, with an optional figure title. */
export function renderSvgFigure(panels: SvgChartSpec[], title?: string): string {
  const width = Math.max(...panels.map((p) => p.width ?? 720));
  let y = title ? 28 : 0;
  const bodies: string[] = [];
  if (title) bodies.push(`<text x="12" y="20" font-size="16" font-weight="bold">${esc(title)}</text>`);
  for (const p of panels) {
    const h = p.height ?? 300;
    bodies.push(chartBody(p, { x0: 0, y0: y, w: p.width ?? width, h }));
    y += h;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${fmt(y)}" viewBox="0 0 ${width} ${fmt(y)}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fafafa"/>`,
    ...bodies,
    '</svg>',
    '',
  ].join('\n');
}
