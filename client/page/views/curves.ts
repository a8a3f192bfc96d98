/**
 * Step 4: live learning curves, one uPlot chart for accuracy and one for loss, train and validation, the
 * untrained head at epoch 0, and a dashed line (with a legend entry) where fine-tuning starts. Charts follow
 * their container's width and the colour scheme; an empty history shows a sentence, not a blank chart.
 * A collapsed table gives the same numbers to screen readers and for copying.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { History } from '../../../shared/training';
import { curveData, type CurveData } from './curve-data';
import { h, replace, scrollRegion } from './dom';
import { formatLoss, formatPercent } from '../text/format';

export interface Curves {
  update(history: History | null): void;
}

const CHART_HEIGHT = 240;

const EMPTY: CurveData = { x: [], accuracy: [], valAccuracy: [], loss: [], valLoss: [], fineTuneX: null, keptX: null };

interface ChartSpec {
  title: string;
  metric: 'accuracy' | 'loss';
}

const SPECS: ChartSpec[] = [
  { title: 'Accuracy', metric: 'accuracy' },
  { title: 'Loss', metric: 'loss' },
];

interface Palette {
  train: string;
  validation: string;
  marker: string;
  axis: string;
  grid: string;
}

function latest(values: ArrayLike<number | null | undefined>): number | null {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v != null) return v;
  }
  return null;
}

function palette(el: HTMLElement): Palette {
  const style = getComputedStyle(el);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    train: read('--chart-train', '#2563eb'),
    validation: read('--chart-validation', '#d97706'),
    marker: read('--chart-marker', '#6b7280'),
    axis: read('--text-muted', '#555'),
    grid: read('--border', '#ddd'),
  };
}

export function mountCurves(el: HTMLElement): Curves {
  const placeholder = h('p', { class: 'muted chart-placeholder' }, 'The learning curves appear here after the first epoch.');
  const chartBoxes = SPECS.map(() => h('div', { class: 'chart-canvas' }));
  const figures = SPECS.map((spec, i) =>
    h('figure', { class: 'chart', attrs: { 'aria-label': `${spec.title} per epoch, train and validation` } }, h('figcaption', { class: 'chart-title' }, spec.title), chartBoxes[i]),
  );
  const tableBody = h('tbody');
  const table = h(
    'details',
    { class: 'compact curves-table' },
    h('summary', null, 'Show the numbers'),
    scrollRegion(
      'Metrics per epoch',
      h(
        'table',
        { class: 'data-table' },
        h('caption', { class: 'visually-hidden' }, 'Metrics per epoch'),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Epoch', 'Stage', 'Train accuracy', 'Validation accuracy', 'Train loss', 'Validation loss'].map((c, i) =>
              h('th', { scope: 'col', class: i >= 2 ? 'num' : '' }, c),
            ),
          ),
        ),
        tableBody,
      ),
    ),
  );
  const grid = h('div', { class: 'chart-grid' }, figures);
  replace(el, placeholder);

  let charts: uPlot[] = [];
  let data: CurveData | null = null;
  const dark = matchMedia('(prefers-color-scheme: dark)');

  function options(spec: ChartSpec, width: number, colours: Palette): uPlot.Options {
    const isAccuracy = spec.metric === 'accuracy';
    const format = (v: number | null | undefined) => (v == null ? '–' : isAccuracy ? formatPercent(v) : formatLoss(v));
    // Away from the cursor (idx null) the legend shows each series' latest value instead of a dash.
    const legendValue = (u: uPlot, v: number | null, series: number, idx: number | null) => format(idx === null ? latest(u.data[series]) : v);
    const axis = { stroke: colours.axis, grid: { stroke: colours.grid, width: 1 }, ticks: { stroke: colours.grid, width: 1 } };
    return {
      width,
      height: CHART_HEIGHT,
      scales: {
        x: { time: false, range: (_u, _min, max) => [0, Math.max(1, max ?? 1)] },
        y: { range: isAccuracy ? [0, 1] : (_u, _min, max) => [0, Math.max(0.1, (max ?? 1) * 1.1)] },
      },
      axes: [
        { ...axis, label: 'Epochs trained', labelSize: 20, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500], values: (_u, splits) => splits.map((v) => String(v)) },
        { ...axis, size: 52, values: (_u, splits) => splits.map((v) => (isAccuracy ? `${Math.round(v * 100)}%` : v.toFixed(2))) },
      ],
      series: [
        { label: 'Epoch', value: (u, v, _s, idx) => String((idx === null ? latest(u.data[0]) : v) ?? '–') },
        { label: 'Train', stroke: colours.train, width: 2, points: { show: true, size: 6, fill: colours.train }, value: legendValue },
        { label: 'Validation', stroke: colours.validation, width: 2, dash: [8, 4], points: { show: true, size: 6, fill: colours.validation }, value: legendValue },
        {
          label: 'Fine-tuning starts',
          stroke: colours.marker,
          width: 1.5,
          dash: [3, 3],
          points: { show: false },
          value: () => (data?.fineTuneX == null ? 'not yet' : `after epoch ${data.fineTuneX}`),
        },
        {
          label: 'Kept (lowest validation loss)',
          stroke: colours.validation,
          width: 2,
          points: { show: false },
          value: () => (data?.keptX == null ? '–' : `epoch ${data.keptX}`),
        },
      ],
      cursor: { points: { size: 8 } },
      legend: { live: true },
      hooks: { draw: [(u) => drawFineTuneLine(u, colours.marker), (u) => drawKeptRing(u, colours.validation)] },
    };
  }

  function drawFineTuneLine(u: uPlot, colour: string): void {
    const x = data?.fineTuneX;
    if (x == null || !u.series[3].show) return;
    const px = Math.round(u.valToPos(x, 'x', true));
    const ratio = devicePixelRatio || 1;
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5 * ratio;
    ctx.setLineDash([3 * ratio, 3 * ratio]);
    ctx.beginPath();
    ctx.moveTo(px, u.bbox.top);
    ctx.lineTo(px, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.restore();
  }

  /** A ring around the validation point of the epoch the classifier keeps. */
  function drawKeptRing(u: uPlot, colour: string): void {
    const x = data?.keptX;
    const i = x == null ? -1 : u.data[0].indexOf(x);
    const y = i < 0 ? null : u.data[2][i];
    if (y == null || !u.series[4].show) return;
    const ratio = devicePixelRatio || 1;
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2 * ratio;
    ctx.beginPath();
    ctx.arc(u.valToPos(x!, 'x', true), u.valToPos(y, 'y', true), 7 * ratio, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.restore();
  }

  function aligned(spec: ChartSpec, d: CurveData): uPlot.AlignedData {
    const train = spec.metric === 'accuracy' ? d.accuracy : d.loss;
    const validation = spec.metric === 'accuracy' ? d.valAccuracy : d.valLoss;
    return [d.x, train, validation, d.x.map(() => null), d.x.map(() => null)];
  }

  function create(): void {
    destroyCharts();
    const colours = palette(el);
    charts = SPECS.map((spec, i) => new uPlot(options(spec, chartWidth(i), colours), aligned(spec, data ?? EMPTY), chartBoxes[i]));
  }

  /** Each box's width as the ResizeObserver last reported it: reading clientWidth would force a layout. */
  const boxWidths = SPECS.map(() => 0);

  function chartWidth(i: number): number {
    return Math.max(200, Math.floor(boxWidths[i] || 600));
  }

  function destroyCharts(): void {
    for (const chart of charts) chart.destroy();
    charts = [];
  }

  function renderTable(d: CurveData, history: History): void {
    const stageOf = (x: number) => (x === 0 ? 'untrained' : history.fineTuneStartEpoch !== null && x - 1 >= history.fineTuneStartEpoch ? 'fine-tune' : 'head');
    replace(
      tableBody,
      d.x.map((x, i) =>
        h(
          'tr',
          null,
          h('th', { scope: 'row' }, String(x)),
          h('td', null, x === d.keptX ? `${stageOf(x)} · kept` : stageOf(x)),
          h('td', { class: 'num' }, d.accuracy[i] == null ? '–' : formatPercent(d.accuracy[i]!)),
          h('td', { class: 'num' }, d.valAccuracy[i] == null ? '–' : formatPercent(d.valAccuracy[i]!)),
          h('td', { class: 'num' }, d.loss[i] == null ? '–' : formatLoss(d.loss[i]!)),
          h('td', { class: 'num' }, d.valLoss[i] == null ? '–' : formatLoss(d.valLoss[i]!)),
        ),
      ),
    );
  }

  const resize = new ResizeObserver((entries) => {
    for (const entry of entries) boxWidths[chartBoxes.indexOf(entry.target as HTMLDivElement)] = entry.contentRect.width;
    charts.forEach((chart, i) => {
      const width = chartWidth(i);
      if (chart.width !== width) chart.setSize({ width, height: CHART_HEIGHT });
    });
  });
  chartBoxes.forEach((box) => resize.observe(box));
  dark.addEventListener('change', create);
  // Built now, while the page starts, not at the first epoch: a chart's first draw is the page's first canvas
  // text, and the browser's font setup for it would make that epoch's update a long task.
  create();

  return {
    update(history) {
      const next = history ? curveData(history) : null;
      if (!history || !next || next.x.length === 0) {
        data = null;
        charts.forEach((chart, i) => chart.setData(aligned(SPECS[i], EMPTY)));
        replace(el, placeholder);
        return;
      }
      data = next;
      if (!grid.isConnected) replace(el, grid, table);
      charts.forEach((chart, i) => chart.setData(aligned(SPECS[i], next)));
      renderTable(next, history);
    },
  };
}
