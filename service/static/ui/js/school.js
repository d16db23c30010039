// School view: portrait heatmap (point × 教研组), proposed targets (一校一策), progress of the
// region against the policy and the rollout, and pairing suggestions when the API offers them.
import { apiGet, apiPaths, listOf } from "./api.js";
import { portraitHeatmap, rolloutChart } from "./charts.js";
import { clear, fmt, h, loading, showError, table } from "./dom.js";
import { t } from "./i18n.js";
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

function ids(list) {
  return Array.isArray(list) ? h("span", { class: "id" }, list.join(", ")) : "";
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
        { label: t("col.mastery"), value: (r) => fmt(r.mastery), num: true },
        { label: t("col.need"), value: (r) => fmt(r.need), num: true },
        { label: t("col.gain"), value: (r) => fmt(r.gain), num: true },
        { label: t("col.courses"), value: (r) => ids(r.courses) },
        { label: t("col.activities"), value: (r) => ids(r.activities) },
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

/** Region progress: headline numbers against the policy, rollout by batch, assessment pass rates. */
function renderProgress(progress, policy) {
  const box = clear(document.getElementById("table-progress"));
  const rows = [
    { label: t("progress.teachers"), value: fmt(progress.n_teachers, 0) },
    { label: t("progress.started"), value: fmt(progress.teachers_started, 0) },
    { label: t("progress.compliant"), value: `${fmt(progress.teachers_compliant, 0)} (${pct(num(progress.compliant_share))})` },
    { label: t("progress.meanHours"), value: fmt(progress.mean_hours, 1), required: policy?.total_hours },
    { label: t("progress.meanPractice"), value: fmt(progress.mean_practice_hours, 1), required: policy?.min_practice_hours },
  ];
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
  );
  const rollout = listOf(progress, "rollout");
  if (rollout.length) rolloutChart("chart-progress", rollout);
  const assessed = listOf(progress, "assessments").filter((r) => num(r.n_assessed) > 0);
  if (assessed.length) {
    box.append(
      h("h3", {}, t("progress.assessments")),
      table(
        [
          { label: t("col.point"), value: (r) => pointLabel(r.point) },
          { label: t("progress.assessed"), value: (r) => fmt(r.n_assessed, 0), num: true },
          { label: t("progress.passRate"), value: (r) => pct(num(r.pass_rate)), num: true },
          { label: t("progress.excellentRate"), value: (r) => pct(num(r.excellent_rate)), num: true },
        ],
        sortCodes(assessed.map((r) => r.point)).map((code) => assessed.find((r) => r.point === code)),
        { "data-testid": "assessments" },
      ),
    );
  }
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
  const progressTask = section(document.getElementById("table-progress"), async () => {
    const school = await schoolTask;
    const regionId = region || (school && school.region);
    if (!regionId) {
      clear(document.getElementById("table-progress")).append(h("p", { class: "empty" }, t("school.noRegion")));
      return 0;
    }
    const progress = await apiGet(`/v1/regions/${enc(regionId)}/progress`, { policy: policyName });
    let policy = null;
    try {
      policy = await apiGet(`/v1/policies/${enc(progress.policy)}`);
    } catch {
      policy = null; // Without it the requirement column stays empty; the numbers still show.
    }
    return renderProgress(progress, policy);
  });
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
  return Promise.all([schoolTask, planTask, portraitTask, progressTask, pairingTask]);
}
