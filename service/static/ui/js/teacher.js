// Teacher view: diagnosis (bar + radar + table), recommended courses and tasks, learning path.
// Each section loads on its own so one failing endpoint does not blank the page.
import { apiGet, listOf } from "./api.js";
import { masteryBar, masteryRadar, pathTimeline } from "./charts.js";
import { clear, fmt, h, loading, showError, table } from "./dom.js";
import { getLang, t } from "./i18n.js";
import { dimensionLabel, environmentLabel, pointInfo, pointLabel, sortCodes } from "./points.js";

const DEFAULT_PRACTICE_KINDS = ["practice", "school_research"];

function enc(id) {
  return encodeURIComponent(id);
}

/** GET …/diagnosis `points` → {point, mastery, sd, evidence, insufficient}, in framework order. */
export function diagnosisRows(payload) {
  const rows = listOf(payload, "points").map((r) => ({
    point: r.point,
    mastery: Number(r.mastery_probability),
    sd: Number(r.sd),
    evidence: r.evidence_count,
    insufficient: Boolean(r.insufficient_evidence),
  }));
  const byCode = new Map(rows.map((r) => [r.point, r]));
  return sortCodes(rows.map((r) => r.point)).map((code) => byCode.get(code));
}

function kindLabel(kind) {
  const key = `kind.${kind}`;
  const label = t(key);
  return label === key ? kind : label;
}

function reasonsOf(rec) {
  const en = getLang() === "en";
  const reasons = (en ? rec.reasons_en : rec.reasons_zh) ?? [];
  return h("ul", { class: "reasons" }, reasons.map((r) => h("li", {}, r)));
}

function pointsCell(points) {
  const codes = Array.isArray(points) ? points : Object.keys(points || {});
  return h("span", {}, codes.map((code, i) => [i ? ", " : "", pointLabel(code)]));
}

function renderRecommendations(container, payload) {
  const rows = listOf(payload, "data");
  clear(container);
  // A teacher newer than the model is ranked from the profile alone; say so.
  if (payload.cold_start) container.append(h("p", { class: "empty" }, t("teacher.coldStart")));
  container.append(
    table(
      [
        { label: t("col.item"), value: (r) => h("span", { class: "id" }, r.item_id) },
        { label: t("col.title"), value: (r) => r.title_zh },
        { label: t("col.hours"), value: (r) => fmt(r.hours, 1), num: true },
        { label: t("col.point"), value: (r) => pointsCell(r.points) },
        { label: t("col.score"), value: (r) => fmt(r.score, 3), num: true },
        { label: t("col.reasons"), value: reasonsOf },
      ],
      rows,
      { "data-testid": "recommendations" },
    ),
  );
  return rows.length;
}

function renderDiagnosis(payload) {
  const rows = diagnosisRows(payload);
  const barBox = document.getElementById("chart-mastery-bar");
  const tableBox = document.getElementById("table-points");
  if (!rows.length) {
    clear(tableBox).append(h("p", { class: "empty" }, t("state.empty")));
    return 0;
  }
  masteryBar(barBox.id, rows);
  masteryRadar("chart-mastery-radar", rows);
  clear(tableBox).append(
    table(
      [
        { label: t("col.point"), value: (r) => pointLabel(r.point) },
        { label: t("col.environment"), value: (r) => environmentLabel(pointInfo(r.point).environment) },
        { label: t("col.dimension"), value: (r) => dimensionLabel(pointInfo(r.point).dimension) },
        { label: t("col.mastery"), value: (r) => fmt(r.mastery), num: true },
        { label: t("col.sd"), value: (r) => fmt(r.sd), num: true },
        { label: t("col.evidence"), value: (r) => fmt(r.evidence, 0), num: true },
        {
          label: t("col.status"),
          value: (r) => (r.insufficient ? h("span", { class: "tag insufficient" }, t("tag.insufficient")) : ""),
        },
      ],
      rows,
      { "data-testid": "diagnosis" },
    ),
  );
  return rows.length;
}

function violationList(violations) {
  if (!violations.length) return h("span", { class: "tag ok" }, t("tag.ok"));
  const en = getLang() === "en";
  return h(
    "ul",
    { class: "reasons" },
    violations.map((v) => h("li", {}, h("span", { class: "tag violation" }, v.rule), " ", en ? v.message_en : v.message_zh)),
  );
}

function renderPath(plan, policy) {
  // Which kinds count as practice is the policy's call; the service's default otherwise.
  const practiceKinds = new Set(policy?.practice_kinds ?? DEFAULT_PRACTICE_KINDS);
  const items = (plan.items || []).map((i) => ({ ...i, hours: Number(i.hours), week: Number(i.week), practice: practiceKinds.has(i.kind) }));
  const totals = plan.totals || {};
  const required = policy && policy.total_hours;
  const summary = clear(document.getElementById("path-summary"));
  summary.append(
    h("span", {}, `${t("path.targets")}: `, pointsCell(plan.targets || [])),
    h("span", {}, `${t("path.total")}: `, h("b", {}, fmt(totals.hours, 1)), required ? ` / ${required}` : ""),
    h("span", {}, `${t("path.online")}: `, h("b", {}, fmt(totals.online_hours, 1)), policy?.min_online_hours ? ` / ≥${policy.min_online_hours}` : ""),
    h("span", {}, `${t("path.practice")}: `, h("b", {}, fmt(totals.practice_hours, 1)), policy?.min_practice_hours ? ` / ≥${policy.min_practice_hours}` : ""),
    h("span", { "data-testid": "violations" }, `${t("path.violations")}: `, violationList(plan.violations || [])),
  );
  // What the school assessment will ask for: the evidence each target point needs.
  const evidence = Object.entries(plan.evidence || {});
  if (evidence.length) {
    summary.append(
      h("div", { class: "evidence", "data-testid": "evidence" }, h("b", {}, `${t("path.evidence")}: `),
        h("ul", { class: "reasons" }, evidence.map(([code, artifacts]) => h("li", {}, pointLabel(code), "：", (artifacts || []).join("、"))))),
    );
  }
  if (items.length) pathTimeline("chart-path", items, required);
  const en = getLang() === "en";
  clear(document.getElementById("table-path")).append(
    table(
      [
        { label: t("col.week"), value: (i) => i.week, num: true },
        { label: t("col.item"), value: (i) => h("span", { class: "id" }, i.id) },
        { label: t("col.kind"), value: (i) => h("span", { class: "nowrap" }, kindLabel(i.kind)) },
        { label: t("col.hours"), value: (i) => fmt(i.hours, 1), num: true },
        { label: t("col.point"), value: (i) => pointsCell(i.points) },
        { label: t("col.reasons"), value: (i) => (en && i.reason_en) || i.reason || "" },
      ],
      items,
      { "data-testid": "path" },
    ),
  );
  return items.length;
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

/** Load every section of one teacher; resolves once all sections have rendered or failed. */
export async function loadTeacher(teacherId, policyName) {
  const id = enc(teacherId);
  const summary = clear(document.getElementById("teacher-summary"));
  const tasks = [
    section(summary, async () => {
      const teacher = await apiGet(`/v1/teachers/${id}`);
      clear(summary).append(
        h("span", {}, `${t("teacher.id")}: `, h("b", {}, teacher.teacher_id ?? teacherId)),
        h("span", {}, `${t("teacher.school")}: `, h("b", {}, teacher.school_id ?? "–")),
        h("span", {}, `${t("teacher.stage")}: `, h("b", {}, teacher.stage ?? "–")),
        h("span", {}, `${t("teacher.subject")}: `, h("b", {}, teacher.subject ?? "–")),
        h("span", {}, `${t("teacher.group")}: `, h("b", {}, teacher.research_group ?? "–")),
      );
    }),
    section(document.getElementById("table-points"), async () => renderDiagnosis(await apiGet(`/v1/teachers/${id}/diagnosis`))),
    section(document.getElementById("list-courses"), async () =>
      renderRecommendations(document.getElementById("list-courses"), await apiGet(`/v1/teachers/${id}/recommendations`, { kind: "course", k: 8 })),
    ),
    section(document.getElementById("list-tasks"), async () =>
      renderRecommendations(document.getElementById("list-tasks"), await apiGet(`/v1/teachers/${id}/recommendations`, { kind: "task", k: 6 })),
    ),
    section(document.getElementById("table-path"), async () => {
      const plan = await apiGet(`/v1/teachers/${id}/learning-path`, { policy: policyName });
      let policy = null;
      try {
        policy = await apiGet(`/v1/policies/${enc(plan.policy)}`);
      } catch {
        policy = null; // The chart still shows the hours; only the requirement line is missing.
      }
      return renderPath(plan, policy);
    }),
  ];
  return Promise.all(tasks);
}
