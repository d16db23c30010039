// ECharts figures. `echarts` is the global from the vendored vendor/echarts.min.js.
import { t } from "./i18n.js";
import {
  DIMENSIONS, ENVIRONMENTS, dimensionLabel, environmentLabel, pointInfo, pointName,
} from "./points.js";

// ECharts renders tooltip strings as HTML: anything from the API goes through esc().
const esc = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const ENV_COLOURS = { multimedia: "#2f6fb0", blended: "#e08a1e", smart: "#3a9a5b", "": "#888" };
const charts = new Map();

function chartFor(elementId) {
  const el = document.getElementById(elementId);
  const existing = charts.get(elementId);
  if (existing && !existing.isDisposed()) existing.dispose();
  // Drop a loading/error note left in the container before the chart takes it over.
  while (el.firstChild) el.removeChild(el.firstChild);
  // SVG keeps the text crisp in screenshots and needs no canvas font metrics.
  const chart = echarts.init(el, null, { renderer: "svg" });
  charts.set(elementId, chart);
  return chart;
}

export function disposeChart(elementId) {
  const chart = charts.get(elementId);
  if (chart && !chart.isDisposed()) chart.dispose();
  charts.delete(elementId);
}

window.addEventListener("resize", () => {
  for (const chart of charts.values()) if (!chart.isDisposed()) chart.resize();
});

/** Bar per point coloured by environment, with ±sd whiskers drawn by a custom series. */
export function masteryBar(elementId, rows) {
  const chart = chartFor(elementId);
  const codes = rows.map((r) => r.point);
  const bars = rows.map((r) => ({
    value: r.mastery,
    itemStyle: { color: ENV_COLOURS[pointInfo(r.point).environment] || "#888", opacity: r.insufficient ? 0.45 : 1 },
  }));
  const whiskers = rows.map((r, i) => [i, Math.max(0, r.mastery - r.sd), Math.min(1, r.mastery + r.sd)]);
  chart.setOption({
    animation: false,
    grid: { left: 40, right: 10, top: 34, bottom: 40 },
    tooltip: {
      trigger: "axis",
      formatter: (items) => {
        const i = items[0].dataIndex;
        const r = rows[i];
        return `${esc(r.point)} ${esc(pointName(r.point))}<br>${t("col.mastery")}: ${r.mastery.toFixed(2)} ± ${r.sd.toFixed(2)}`;
      },
    },
    xAxis: { type: "category", data: codes, axisLabel: { interval: 0, rotate: codes.length > 16 ? 60 : 0, fontSize: 10 } },
    yAxis: { type: "value", min: 0, max: 1, name: t("col.mastery") },
    series: [
      { type: "bar", data: bars, barMaxWidth: 22 },
      {
        type: "custom",
        data: whiskers,
        z: 10,
        renderItem: (params, api) => {
          const low = api.coord([api.value(0), api.value(1)]);
          const high = api.coord([api.value(0), api.value(2)]);
          const half = 4;
          const style = { stroke: "#333", lineWidth: 1 };
          return {
            type: "group",
            children: [
              { type: "line", shape: { x1: low[0], y1: low[1], x2: high[0], y2: high[1] }, style },
              { type: "line", shape: { x1: low[0] - half, y1: low[1], x2: low[0] + half, y2: low[1] }, style },
              { type: "line", shape: { x1: high[0] - half, y1: high[1], x2: high[0] + half, y2: high[1] }, style },
            ],
          };
        },
      },
    ],
  });
}

/** Radar over the four dimensions, one polygon per environment (mean mastery of its points). */
export function masteryRadar(elementId, rows) {
  const chart = chartFor(elementId);
  const series = [];
  for (const environment of ENVIRONMENTS) {
    const values = DIMENSIONS.map((dimension) => {
      const cell = rows.filter((r) => {
        const info = pointInfo(r.point);
        return info.environment === environment && info.dimension === dimension;
      });
      if (!cell.length) return null;
      return cell.reduce((sum, r) => sum + r.mastery, 0) / cell.length;
    });
    if (values.some((v) => v !== null)) {
      series.push({
        name: environmentLabel(environment),
        value: values.map((v) => (v === null ? 0 : Number(v.toFixed(3)))),
        itemStyle: { color: ENV_COLOURS[environment] },
        areaStyle: { opacity: 0.12 },
      });
    }
  }
  chart.setOption({
    animation: false,
    legend: { bottom: 0 },
    tooltip: {},
    radar: { indicator: DIMENSIONS.map((d) => ({ name: dimensionLabel(d), max: 1 })), radius: "62%" },
    series: [{ type: "radar", data: series }],
  });
  return series.length;
}

/** Weekly online and practice hours (stacked) with the cumulative total against the policy's total. */
export function pathTimeline(elementId, items, requiredTotal) {
  const chart = chartFor(elementId);
  const weeks = [...new Set(items.map((i) => i.week))].sort((a, b) => a - b);
  const online = weeks.map((w) => items.filter((i) => i.week === w && !i.practice).reduce((s, i) => s + i.hours, 0));
  const practice = weeks.map((w) => items.filter((i) => i.week === w && i.practice).reduce((s, i) => s + i.hours, 0));
  let running = 0;
  const cumulative = weeks.map((_, k) => (running += online[k] + practice[k]));
  const markLine = requiredTotal
    ? { symbol: "none", data: [{ yAxis: requiredTotal, name: t("path.required") }], label: { formatter: `${t("path.required")} ${requiredTotal}`, position: "insideEndTop" }, lineStyle: { color: "#b3261e", type: "dashed" } }
    : undefined;
  chart.setOption({
    animation: false,
    legend: { bottom: 0 },
    grid: { left: 45, right: 45, top: 30, bottom: 50 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: weeks.map((w) => `${t("col.week")} ${w}`) },
    yAxis: [
      // Explicit maximum: with two axes ECharts may otherwise clip the tallest stacked week.
      { type: "value", name: t("col.hours"), max: Math.ceil(Math.max(...online.map((v, k) => v + practice[k]), 1)) },
      { type: "value", name: t("path.cumulative"), max: Math.ceil(Math.max(requiredTotal || 0, running) * 1.1) || null },
    ],
    series: [
      { name: t("path.online"), type: "bar", stack: "hours", data: online, itemStyle: { color: "#2f6fb0" } },
      { name: t("path.practice"), type: "bar", stack: "hours", data: practice, itemStyle: { color: "#3a9a5b" } },
      { name: t("path.cumulative"), type: "line", yAxisIndex: 1, data: cumulative, markLine, itemStyle: { color: "#b5470b" } },
    ],
  });
}

/** Heatmap of mastery: points on x, research groups on y. `cells` = [{point, group, value}]. */
export function portraitHeatmap(elementId, codes, groups, cells) {
  const chart = chartFor(elementId);
  const xIndex = new Map(codes.map((c, i) => [c, i]));
  const yIndex = new Map(groups.map((g, i) => [g, i]));
  const data = cells
    .filter((c) => xIndex.has(c.point) && yIndex.has(c.group) && Number.isFinite(c.value))
    .map((c) => [xIndex.get(c.point), yIndex.get(c.group), Number(c.value.toFixed(3))]);
  chart.setOption({
    animation: false,
    tooltip: {
      formatter: (p) => `${esc(groups[p.value[1]])} · ${esc(codes[p.value[0]])} ${esc(pointName(codes[p.value[0]]))}<br>${t("col.mastery")}: ${p.value[2]}`,
    },
    grid: { left: 110, right: 20, top: 10, bottom: 80 },
    xAxis: { type: "category", data: codes, splitArea: { show: true }, axisLabel: { interval: 0, rotate: 60, fontSize: 10 } },
    yAxis: { type: "category", data: groups, splitArea: { show: true }, axisLabel: { fontSize: 11 } },
    visualMap: { min: 0, max: 1, calculable: true, orient: "horizontal", left: "center", bottom: 0, itemHeight: 200, inRange: { color: ["#fbe9e7", "#ffcc80", "#81c784", "#1b5e20"] } },
    series: [{ type: "heatmap", data, label: { show: codes.length <= 15, fontSize: 9 } }],
  });
  return data.length;
}


/** Share of teachers meeting the hour rules and mean practice share, per 教研组. */
export function groupProgressChart(elementId, groups) {
  const chart = chartFor(elementId);
  const round = (v) => (Number.isFinite(Number(v)) ? Number(Number(v).toFixed(3)) : null);
  chart.setOption({
    animation: false,
    legend: { bottom: 0 },
    grid: { left: 45, right: 20, top: 20, bottom: 70 },
    tooltip: { trigger: "axis", valueFormatter: (v) => (v === null ? "–" : `${Math.round(v * 100)}%`) },
    xAxis: { type: "category", data: groups.map((g) => g.research_group), axisLabel: { interval: 0, rotate: 20 } },
    yAxis: { type: "value", min: 0, max: 1, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } },
    series: [
      { name: t("progress.compliantShare"), type: "bar", data: groups.map((g) => round(g.compliant_share)), itemStyle: { color: "#2f6fb0" } },
      { name: t("progress.practiceShare"), type: "bar", data: groups.map((g) => round(g.mean_practice_share)), itemStyle: { color: "#3a9a5b" } },
    ],
  });
}

export const LEVEL_COLOURS = { mastered: "#2e7d32", developing: "#e0a21e", gap: "#b3261e" };

/** Points per level (已掌握 / 待提升 / 薄弱), stacked, per category (dimension or environment). */
export function levelBars(elementId, categories, counts) {
  const chart = chartFor(elementId);
  chart.setOption({
    animation: false,
    legend: { bottom: 0 },
    grid: { left: 40, right: 10, top: 20, bottom: 50 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: categories.map((c) => c.label), axisLabel: { interval: 0 } },
    yAxis: { type: "value", minInterval: 1, name: t("level.points") },
    series: ["mastered", "developing", "gap"].map((level) => ({
      name: t(`level.${level}`),
      type: "bar",
      stack: "levels",
      data: categories.map((c) => counts[c.key]?.[level] ?? 0),
      itemStyle: { color: LEVEL_COLOURS[level] },
    })),
  });
}

/** 学时 added per month (bars) and the running mean per teacher against the policy total (line). */
export function trendChart(elementId, rows, requiredTotal) {
  const chart = chartFor(elementId);
  const months = [...new Set(rows.map((r) => r.month))].sort();
  const groups = [...new Set(rows.map((r) => r.group))];
  const value = (group, month, field) => {
    const row = rows.find((r) => r.group === group && r.month === month);
    return row ? Number(Number(row[field]).toFixed(2)) : 0;
  };
  const label = (group) => (group === "total" ? t("trend.total") : group);
  const markLine = requiredTotal
    ? { symbol: "none", data: [{ yAxis: requiredTotal }], label: { formatter: `${t("path.required")} ${requiredTotal}` }, lineStyle: { color: "#b3261e", type: "dashed" } }
    : undefined;
  chart.setOption({
    animation: false,
    legend: { bottom: 0, type: "scroll" },
    grid: { left: 50, right: 50, top: 30, bottom: 60 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: months },
    yAxis: [
      { type: "value", name: t("trend.hours") },
      { type: "value", name: t("trend.cumulative"), max: Math.ceil(Math.max(requiredTotal || 0, ...rows.map((r) => r.cumulative_mean_hours)) * 1.1) || null },
    ],
    series: [
      ...groups.map((g) => ({ name: label(g), type: "bar", stack: "hours", data: months.map((m) => value(g, m, "hours")) })),
      ...groups.map((g, i) => ({
        name: `${label(g)} · ${t("trend.cumulative")}`,
        type: "line",
        yAxisIndex: 1,
        data: months.map((m) => value(g, m, "cumulative_mean_hours")),
        markLine: i === 0 ? markLine : undefined,
      })),
    ],
  });
  return months.length;
}
