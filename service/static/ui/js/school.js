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

function perPoint(map, code) {
  return map && typeof map === "object" && !Array.isArray(map) ? map[code] : undefined;
}

function idList(ids) {
  return Array.isArray(ids) ? ids.join(", ") : "";
}

/** SchoolPlan JSON: targets (codes) with per-point dicts, group targets, pairing, notes. */
function renderPlan(payload) {
  const plan = payload.plan ?? payload;
  const targets = listOf(plan, "targets", "target_points").map((r) => {
    const code = typeof r === "string" ? r : r.point ?? r.code;
    const row = typeof r === "string" ? {} : r;
    return {
      ...row,
      point: code,
      mastery: num(row.mean_mastery, row.mastery, perPoint(plan.mean_mastery, code)),
      need: num(row.need, perPoint(plan.need, code)),
      gain: num(row.expected_improvement, perPoint(plan.expected_improvement, code)),
      courses: row.courses ?? perPoint(plan.courses, code),
      activities: row.research_activities ?? perPoint(plan.research_activities, code),
    };
  });
  const box = clear(document.getElementById("list-targets"));
  box.append(
    table(
      [
        { label: t("col.point"), value: (r) => pointLabel(r.point) },
        { label: t("col.mastery"), value: (r) => fmt(r.mastery), num: true },
        { label: t("col.need"), value: (r) => fmt(r.need), num: true },
        { label: t("col.gain"), value: (r) => fmt(r.gain), num: true },
        { label: t("col.courses"), value: (r) => idList(r.courses) },
        { label: t("col.activities"), value: (r) => idList(r.activities) },
      ],
      targets,
      { "data-testid": "targets" },
    ),
  );
  const groups = Object.entries(plan.group_targets || {});
  if (groups.length) {
    box.append(
      h("h3", {}, t("school.groupTargets")),
      table(
        [
          { label: t("col.group"), value: ([group]) => group },
          { label: t("col.point"), value: ([, codes]) => codes.map((c, i) => [i ? ", " : "", pointLabel(c)]) },
        ],
        groups,
        { "data-testid": "group-targets" },
      ),
    );
  }
  const notes = plan.notes || [];
  if (notes.length) box.append(h("ul", { class: "reasons notes" }, notes.map((n) => h("li", {}, n))));
  return targets.length;
}

function renderPairing(payload) {
  const pairs = listOf(payload, "pairs", "pairing", "pairings");
  clear(document.getElementById("list-pairing")).append(
    table(
      [
        { label: t("col.mentor"), value: (r) => r.mentor ?? r.mentor_id ?? r.mentor_teacher_id ?? "–" },
        { label: t("col.mentee"), value: (r) => r.mentee ?? r.mentee_id ?? r.mentee_teacher_id ?? "–" },
        { label: t("col.point"), value: (r) => {
          const codes = r.points ?? (r.point ?? r.code ? [r.point ?? r.code] : []);
          return codes.map((c, i) => [i ? ", " : "", pointLabel(c)]);
        } },
        { label: t("col.group"), value: (r) => r.research_group ?? r.group ?? "" },
        { label: t("col.reasons"), value: reasonOf },
      ],
      pairs,
      { "data-testid": "pairing" },
    ),
  );
  return pairs.length;
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
  // The school record gives the region (for progress) and the context shown in the summary.
  const schoolTask = apiGet(`/v1/schools/${id}`).then(
    (school) => {
      summary.append(
        h("span", {}, `${t("school.id")}: `, h("b", {}, school.school_id ?? schoolId)),
        h("span", {}, `${t("school.region")}: `, h("b", {}, [school.region, school.city, school.district].filter(Boolean).join(" · "))),
        h("span", {}, `${t("school.environment")}: `, h("b", {}, school.environment ? t(`env.${school.environment}`) : "–")),
        h("span", {}, `${t("school.chosen")}: `, (school.chosen_points || []).map((c, i) => [i ? ", " : "", pointLabel(c)])),
        school.rollout_batch ? h("span", {}, `${t("school.batch")}: `, h("b", {}, school.rollout_batch)) : null,
      );
      return school;
    },
    (error) => {
      showError(summary, error);
      if (error && error.status === 401) document.dispatchEvent(new CustomEvent("nengli:unauthorised"));
      return null;
    },
  );
  const planTask = section(document.getElementById("list-targets"), async () => {
    const plan = await apiGet(`/v1/schools/${id}/plan`, { policy: policyName });
    renderPairing(plan.pairing ?? plan.pairs ?? plan.pairings ?? []);
    return renderPlan(plan);
  });
  const portraitTask = section(document.getElementById("chart-heatmap"), async () =>
    renderPortrait(await apiGet(`/v1/schools/${id}/portrait`)),
  );
  const progressTask = section(document.getElementById("table-progress"), async () => {
    const school = await schoolTask;
    const regionId = region || (school && school.region);
    if (!regionId) return 0;
    return renderProgress(await apiGet(`/v1/regions/${enc(regionId)}/progress`, { policy: policyName }));
  });
  return Promise.all([schoolTask, planTask, portraitTask, progressTask]);
}
