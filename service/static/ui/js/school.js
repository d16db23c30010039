// School view: portrait heatmap (point × 教研组), proposed targets, progress, pairing suggestions.
import { apiGet, listOf } from "./api.js";
import { portraitHeatmap, progressBars } from "./charts.js";
import { clear, fmt, h, loading, showError, table } from "./dom.js";
import { getLang, t } from "./i18n.js";
import { pointLabel, sortCodes } from "./points.js";

function enc(id) {
  return encodeURIComponent(id);
}

const num = (...values) => {
  for (const v of values) if (v !== undefined && v !== null && Number.isFinite(Number(v))) return Number(v);
  return NaN;
};

/** Portrait → {codes, groups, cells:[{point, group, value}]} from a long table or a matrix. */
export function portraitCells(payload) {
  let cells = [];
  const matrix = payload.matrix ?? payload.values;
  const groupsField = payload.groups ?? payload.research_groups;
  const pointsField = payload.points ?? payload.codes;
  if (Array.isArray(matrix) && Array.isArray(groupsField) && Array.isArray(pointsField)) {
    groupsField.forEach((group, g) =>
      pointsField.forEach((point, p) => cells.push({ group, point, value: num(matrix[g]?.[p]) })),
    );
  } else {
    cells = listOf(payload, "cells", "rows", "portrait").map((r) => ({
      group: r.research_group ?? r.group ?? "–",
      point: r.point ?? r.code,
      value: num(r.mastery_probability, r.mastery, r.mean_mastery, r.value),
    }));
  }
  const codes = sortCodes(cells.map((c) => c.point));
  const groups = [...new Set(cells.map((c) => c.group))].sort();
  return { codes, groups, cells };
}

function renderPortrait(payload) {
  const { codes, groups, cells } = portraitCells(payload);
  const box = document.getElementById("chart-heatmap");
  if (!cells.length) {
    clear(box).append(h("p", { class: "empty" }, t("state.empty")));
    return 0;
  }
  return portraitHeatmap(box.id, codes, groups, cells);
}

function reasonOf(row) {
  const en = getLang() === "en";
  const reason = (en ? row.reason_en ?? row.reasons_en : row.reason_zh ?? row.reasons_zh) ?? row.reason ?? row.reasons ?? "";
  return Array.isArray(reason) ? reason.join("；") : String(reason);
}

function renderPlan(payload) {
  const targets = listOf(payload, "targets", "target_points").map((r) => (typeof r === "string" ? { point: r } : r));
  clear(document.getElementById("list-targets")).append(
    table(
      [
        { label: t("col.point"), value: (r) => pointLabel(r.point ?? r.code) },
        { label: t("col.mastery"), value: (r) => fmt(num(r.mean_mastery, r.mastery, r.mastery_probability)), num: true },
        { label: t("col.teachers"), value: (r) => fmt(num(r.teachers, r.n_teachers, r.count), 0), num: true },
        { label: t("col.reasons"), value: reasonOf },
      ],
      targets,
      { "data-testid": "targets" },
    ),
  );
  const pairs = listOf(payload.pairing ?? payload.pairings ?? payload.pairs ?? [], "pairs");
  clear(document.getElementById("list-pairing")).append(
    table(
      [
        { label: t("col.mentor"), value: (r) => r.mentor ?? r.mentor_id ?? r.mentor_teacher_id ?? "–" },
        { label: t("col.mentee"), value: (r) => r.mentee ?? r.mentee_id ?? r.mentee_teacher_id ?? "–" },
        { label: t("col.point"), value: (r) => pointLabel(r.point ?? r.code ?? "") },
        { label: t("col.group"), value: (r) => r.research_group ?? r.group ?? "" },
        { label: t("col.reasons"), value: reasonOf },
      ],
      pairs,
      { "data-testid": "pairing" },
    ),
  );
  return targets.length;
}

/** Progress → bars of {label, value, target}; accepts a flat object of numbers or a list of metrics. */
export function progressBarsOf(payload) {
  const rows = listOf(payload, "metrics", "progress", "batches");
  if (rows.length) {
    return rows.map((r) => ({
      label: String(r.label_zh && getLang() === "zh" ? r.label_zh : r.label ?? r.metric ?? r.name ?? r.batch ?? "?"),
      value: num(r.value, r.share, r.completion, r.progress),
      target: num(r.target, r.expected),
    })).filter((b) => Number.isFinite(b.value));
  }
  return Object.entries(payload || {})
    .filter(([, v]) => typeof v === "number")
    .map(([label, value]) => ({ label, value, target: NaN }));
}

function renderProgress(payload) {
  const bars = progressBarsOf(payload);
  const box = document.getElementById("table-progress");
  if (!bars.length) {
    clear(box).append(h("p", { class: "empty" }, t("state.empty")));
    return 0;
  }
  progressBars("chart-progress", bars);
  clear(box).append(
    table(
      [
        { label: t("col.metric"), value: (b) => b.label },
        { label: t("col.value"), value: (b) => (b.value <= 1 ? `${(b.value * 100).toFixed(1)}%` : fmt(b.value, 1)), num: true },
        { label: t("path.required"), value: (b) => (Number.isFinite(b.target) ? fmt(b.target, 2) : "–"), num: true },
      ],
      bars,
      { "data-testid": "progress" },
    ),
  );
  return bars.length;
}

async function section(container, work) {
  loading(container);
  try {
    return await work();
  } catch (error) {
    showError(container, error);
    if (error && error.status === 401) document.dispatchEvent(new CustomEvent("nengli:unauthorised"));
    return -1;
  }
}

/** Load every section of one school (and its region's progress when a region is known). */
export async function loadSchool(schoolId, region, policyName) {
  const id = enc(schoolId);
  const summary = clear(document.getElementById("school-summary"));
  summary.append(h("span", {}, `${t("school.id")}: `, h("b", {}, schoolId)));
  const planTask = section(document.getElementById("list-targets"), async () => {
    const plan = await apiGet(`/v1/schools/${id}/plan`, { policy: policyName });
    if (plan.environment) summary.append(h("span", {}, `${t("school.environment")}: `, h("b", {}, t(`env.${plan.environment}`))));
    return renderPlan(plan);
  });
  const portraitTask = section(document.getElementById("chart-heatmap"), async () => {
    const portrait = await apiGet(`/v1/schools/${id}/portrait`);
    if (portrait.n_teachers) summary.append(h("span", {}, `${t("school.teachers")}: `, h("b", {}, portrait.n_teachers)));
    return { count: renderPortrait(portrait), region: portrait.region };
  });
  const progressTask = section(document.getElementById("table-progress"), async () => {
    const portrait = await portraitTask;
    const regionId = region || (portrait && portrait.region);
    const progress = regionId
      ? await apiGet(`/v1/regions/${enc(regionId)}/progress`, { policy: policyName })
      : await apiGet(`/v1/schools/${id}/plan`, { policy: policyName }).then((p) => p.progress ?? {});
    return renderProgress(progress);
  });
  return Promise.all([planTask, portraitTask, progressTask]);
}
