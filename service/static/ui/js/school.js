// School view: portrait heatmap (point × 教研组), proposed targets (一校一策), the school's own
// progress against the policy (by 教研组, by teacher, 未达标名单 with reasons, xlsx export), and
// pairing suggestions when the API offers them.
import { apiDownload, apiGet, apiPaths, listOf } from "./api.js";
import { loadSchoolRating } from "./assessment.js";
import { groupProgressChart, portraitHeatmap, trendChart } from "./charts.js";
import { clear, fmt, h, loading, showError, table } from "./dom.js";
import { getLang, t } from "./i18n.js";
import { pointLabel, sortCodes } from "./points.js";

const enc = encodeURIComponent;

const num = (...values) => {
  for (const v of values) if (v !== undefined && v !== null && v !== "" && Number.isFinite(Number(v))) return Number(v);
  return NaN;
};

const pct = (value) => (Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : "–");

function codeList(codes) {
  return (codes || []).map((code, i) => [i ? ", " : "", pointLabel(code)]);
}

/** Portrait → {codes, groups, cells:[{point, group, value}]}; `heatmap` is {group: {code: mastery}}. */
export function portraitCells(payload) {
  const heatmap = payload.heatmap ?? {};
  const cells = [];
  for (const [group, row] of Object.entries(heatmap)) {
    for (const [point, value] of Object.entries(row || {})) cells.push({ group, point, value: num(value) });
  }
  const codes = sortCodes(cells.map((c) => c.point));
  const groups = [...new Set(cells.map((c) => c.group))].sort((a, b) => a.localeCompare(b, "zh"));
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

/** Item titles with hours (the plan's `items`), never bare CRS-0003 ids; the id stays a tooltip. */
function titled(list, items) {
  if (!Array.isArray(list)) return "";
  return h("ul", { class: "reasons" }, list.map((id) => {
    const item = (items || {})[id];
    return h("li", { title: id }, item ? `${item.title_zh}（${fmt(item.hours, 1)} ${t("col.hours")}）` : id);
  }));
}

/** SchoolPlan JSON: target codes plus per-point dicts, per-教研组 targets and notes. */
function renderPlan(plan) {
  const at = (field, code) => (plan[field] && typeof plan[field] === "object" ? plan[field][code] : undefined);
  const targets = (plan.targets || []).map((code) => ({
    point: code,
    mastery: num(at("mean_mastery", code)),
    need: num(at("need", code)),
    gain: num(at("expected_improvement", code)),
    courses: at("courses", code),
    activities: at("research_activities", code),
  }));
  const box = clear(document.getElementById("list-targets"));
  box.append(
    table(
      [
        { label: t("col.point"), value: (r) => pointLabel(r.point) },
        { label: t("col.schoolMastery"), value: (r) => pct(r.mastery), num: true },
        { label: t("col.gain"), value: (r) => (Number.isFinite(r.gain) ? `+${pct(r.gain)}` : "–"), num: true },
        { label: t("col.courses"), value: (r) => titled(r.courses, plan.items) },
        { label: t("col.activities"), value: (r) => titled(r.activities, plan.items) },
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
          { label: t("col.point"), value: ([, codes]) => codeList(codes) },
        ],
        groups,
        { "data-testid": "group-targets" },
      ),
    );
  }
  if ((plan.notes || []).length) box.append(h("ul", { class: "reasons" }, plan.notes.map((n) => h("li", {}, n))));
  return targets.length;
}

/** Chongqing §三(一): a badge on a teacher whose five-year cycle ended short of the hours. */
export function cycleFlag(row) {
  return row.cycle_ended_short
    ? h("span", { class: "badge warn", title: t("progress.cycleEndedShortNote"), "data-testid": "cycle-flag" }, t("progress.cycleEndedShort"))
    : "";
}

/** The school's progress: headline against the policy, by 教研组, and the 未达标名单 with reasons. */
function renderSchoolProgress(progress, schoolId, policyName) {
  const box = clear(document.getElementById("table-progress"));
  const required = progress.required || {};
  const rows = [
    { label: t("progress.teachers"), value: fmt(progress.n_teachers, 0) },
    { label: t("progress.compliant"), value: `${fmt(progress.n_compliant, 0)} (${pct(num(progress.compliant_share))})` },
    { label: t("progress.meanHours"), value: fmt(progress.mean_hours, 1), required: required.total_hours },
    { label: t("progress.practiceShare"), value: pct(num(progress.mean_practice_share)), required: Number.isFinite(num(required.min_practice_share)) ? pct(num(required.min_practice_share)) : "" },
  ];
  if (progress.rollout_batch) rows.push({ label: t("school.batch"), value: String(progress.rollout_batch) });
  rows.push({ label: t("progress.cycleEndedShort"), value: fmt(progress.n_cycle_ended_short ?? 0, 0) });
  const download = h("button", { type: "button", class: "download", "data-testid": "progress-xlsx" }, t("progress.xlsx"));
  download.addEventListener("click", () =>
    apiDownload(`/v1/schools/${enc(schoolId)}/progress`, { policy: policyName, format: "xlsx" }, `progress-${schoolId}.xlsx`),
  );
  box.append(
    table(
      [
        { label: t("col.metric"), value: (r) => r.label },
        { label: t("col.value"), value: (r) => r.value, num: true },
        { label: t("path.required"), value: (r) => (r.required ? `≥ ${r.required}` : ""), num: true },
      ],
      rows,
      { "data-testid": "progress" },
    ),
    download,
  );
  const groups = listOf(progress, "groups");
  if (groups.length) {
    groupProgressChart("chart-progress", groups);
    box.append(
      h("h3", {}, t("progress.byGroup")),
      table(
        [
          { label: t("teacher.group"), value: (r) => r.research_group },
          { label: t("progress.teachers"), value: (r) => fmt(r.n_teachers, 0), num: true },
          { label: t("progress.compliant"), value: (r) => `${fmt(r.n_compliant, 0)} (${pct(num(r.compliant_share))})`, num: true },
          { label: t("progress.meanHours"), value: (r) => fmt(r.mean_hours, 1), num: true },
          { label: t("progress.practiceShare"), value: (r) => pct(num(r.mean_practice_share)), num: true },
          { label: t("progress.assessed"), value: (r) => fmt(r.n_assessed, 0), num: true },
        ],
        groups,
        { "data-testid": "progress-groups" },
      ),
    );
  }
  const behind = listOf(progress, "behind");
  const behindXlsx = h("button", { type: "button", class: "download", "data-testid": "behind-xlsx" }, t("progress.behindXlsx"));
  behindXlsx.addEventListener("click", () =>
    apiDownload(`/v1/schools/${enc(schoolId)}/behind`, { policy: policyName, format: "xlsx" }, `behind-${schoolId}.xlsx`),
  );
  box.append(h("h3", {}, `${t("progress.behind")} (${behind.length})`), behindXlsx);
  box.append(
    behind.length
      ? table(
          [
            { label: t("teacher.id"), value: (r) => r.teacher_id },
            { label: t("teacher.group"), value: (r) => r.research_group },
            { label: t("progress.hours"), value: (r) => fmt(r.hours, 1), num: true },
            { label: t("progress.cycle"), value: (r) => cycleFlag(r) },
            { label: t("progress.reason"), value: (r) => (getLang() === "en" ? r.reasons_en : r.reasons_zh) },
          ],
          behind,
          { "data-testid": "progress-behind" },
        )
      : h("p", { class: "empty" }, t("progress.allCompliant")),
  );
  return rows.length;
}

/** Pairing suggestions, whatever their columns: ids as text, point codes labelled. */
function renderPairing(payload) {
  const rows = listOf(payload, "pairs", "pairing", "pairings", "mentors");
  const box = clear(document.getElementById("list-pairing"));
  if (!rows.length) {
    box.append(h("p", { class: "empty" }, t("state.empty")));
    return 0;
  }
  const columns = Object.keys(rows[0]).map((name) => ({
    label: t(`pair.${name}`) === `pair.${name}` ? name : t(`pair.${name}`),
    value: (r) => {
      const value = r[name];
      if (name === "point" && value) return pointLabel(value);
      if (Array.isArray(value)) return value.join(", ");
      if (value && typeof value === "object") return JSON.stringify(value);
      if (typeof value === "number") return fmt(value, Number.isInteger(value) ? 0 : 2);
      if (typeof value === "boolean") return t(value ? "value.yes" : "value.no");
      return value ?? "";
    },
  }));
  box.append(table(columns, rows, { "data-testid": "pairing" }));
  return rows.length;
}

/** 学时 per month by 教研组 (bars) with the running mean per teacher against the policy total. */
export function renderTrends(payload, chartId, tableId, xlsx) {
  const rows = listOf(payload, "rows");
  const box = clear(document.getElementById(tableId));
  if (!rows.length) {
    clear(document.getElementById(chartId));
    box.append(h("p", { class: "empty" }, t("state.empty")));
    return 0;
  }
  trendChart(chartId, rows, payload.total_hours);
  const months = [...new Set(rows.map((r) => r.month))].sort();
  const last = months.slice(-6);
  const download = h("button", { type: "button", class: "download", "data-testid": "trends-xlsx" }, t("progress.xlsx"));
  download.addEventListener("click", xlsx);
  box.append(
    table(
      [
        { label: t("trend.group"), value: (r) => (r.group === "total" ? t("trend.total") : r.group) },
        { label: t("trend.month"), value: (r) => r.month },
        { label: t("trend.hours"), value: (r) => fmt(r.hours, 1), num: true },
        { label: t("path.practice"), value: (r) => fmt(r.practice_hours, 1), num: true },
        { label: t("trend.active"), value: (r) => fmt(r.active_teachers, 0), num: true },
        { label: t("trend.cumulative"), value: (r) => fmt(r.cumulative_mean_hours, 1), num: true },
      ],
      rows.filter((r) => last.includes(r.month)),
      { "data-testid": "trends" },
    ),
    h("p", { class: "empty" }, t("trend.lastMonths").replace("{n}", last.length)),
    download,
  );
  return rows.length;
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

/** Load every section of one school; the region (for progress) comes from the school record. */
export async function loadSchool(schoolId, region, policyName) {
  const id = enc(schoolId);
  const summary = clear(document.getElementById("school-summary"));
  const schoolTask = apiGet(`/v1/schools/${id}`).then(
    (school) => {
      summary.append(
        h("span", {}, `${t("school.id")}: `, h("b", {}, school.school_id)),
        h("span", {}, `${t("school.region")}: `, h("b", {}, [school.region, school.city, school.district].filter(Boolean).join(" · "))),
        h("span", {}, `${t("school.environment")}: `, h("b", {}, school.environment ? t(`env.${school.environment}`) : "–")),
        h("span", {}, `${t("school.chosen")}: `, codeList(school.chosen_points)),
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
    summary.append(h("span", {}, `${t("school.teachers")}: `, h("b", {}, plan.n_teachers ?? "–")));
    return renderPlan(plan);
  });
  const portraitTask = section(document.getElementById("chart-heatmap"), async () =>
    renderPortrait(await apiGet(`/v1/schools/${id}/portrait`)),
  );
  const progressTask = section(document.getElementById("table-progress"), async () =>
    renderSchoolProgress(await apiGet(`/v1/schools/${id}/progress`, { policy: policyName }), schoolId, policyName),
  );
  const pairingTask = section(document.getElementById("list-pairing"), async () => {
    // Only call an endpoint this server documents: no 404 noise against servers without one.
    const paths = await apiPaths();
    const box = document.getElementById("list-pairing");
    // Match by shape, whatever the server calls its path parameters.
    const offers = (pattern) => [...paths].some((path) => pattern.test(path));
    if (offers(/^\/v1\/schools\/\{[^}]+\}\/pairing$/)) {
      return renderPairing(await apiGet(`/v1/schools/${id}/pairing`, { policy: policyName }));
    }
    if (offers(/^\/v1\/regions\/\{[^}]+\}\/pairing$/)) {
      const school = await schoolTask;
      const regionId = region || (school && school.region);
      if (regionId) {
        const payload = await apiGet(`/v1/regions/${enc(regionId)}/pairing`, { policy: policyName });
        // Keep the pairs this school takes part in (as the weak school or as the partner).
        const mine = listOf(payload, "pairs", "pairing", "pairings", "mentors").filter((row) =>
          Object.values(row).some((value) => value === schoolId),
        );
        return renderPairing(mine);
      }
    }
    clear(box).append(h("p", { class: "empty" }, t("school.noPairing")));
    return 0;
  });
  const trendsTask = section(document.getElementById("table-trends"), async () =>
    renderTrends(await apiGet(`/v1/schools/${id}/trends`, { policy: policyName }), "chart-trends", "table-trends", () =>
      apiDownload(`/v1/schools/${id}/trends`, { policy: policyName, format: "xlsx" }, `trends-${schoolId}.xlsx`)),
  );
  const ratingTask = loadSchoolRating(schoolId, policyName);
  return Promise.all([schoolTask, planTask, portraitTask, progressTask, pairingTask, trendsTask, ratingTask]);
}
