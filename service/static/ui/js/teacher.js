// Teacher view in plain words, from GET /v1/teachers/{id}/overview (one diagnosis behind every
// card): levels 已掌握 / 待提升 / 薄弱 with the probability behind a "为什么？" toggle, titled
// courses and tasks with their one or two best reasons, a dated week-by-week plan with finished
// items marked done, and the school-based assessment (evidence, peer review, results).
import { apiGet, listOf } from "./api.js";
import { loadAssessment } from "./assessment.js";
import { levelBars, pathTimeline } from "./charts.js";
import { clear, fmt, h, loading, showError, table } from "./dom.js";
import { getLang, t } from "./i18n.js";
import { DIMENSIONS, ENVIRONMENTS, dimensionLabel, environmentLabel, pointInfo, pointLabel, sortCodes } from "./points.js";

const DEFAULT_PRACTICE_KINDS = ["practice", "school_research"];
const enc = encodeURIComponent;

/** Overview `points` → rows in framework order (the one mastery figure of the page). */
export function levelRows(payload) {
  const rows = listOf(payload, "points").map((r) => ({
    point: r.point,
    level: r.level,
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

export function levelTag(level) {
  return h("span", { class: `tag level ${level}`, "data-level": level }, t(`level.${level}`));
}

function reasonList(zh, en) {
  const reasons = (getLang() === "en" ? en : zh) ?? [];
  return h("ul", { class: "reasons" }, reasons.map((r) => h("li", {}, r)));
}

function pointsCell(codes) {
  return h("span", {}, (codes || []).map((code, i) => [i ? ", " : "", pointLabel(code)]));
}

/** "为什么？": the probability, its uncertainty and the evidence behind the level, on request. */
function why(row, thresholds) {
  const text = t("level.why")
    .replace("{p}", fmt(row.mastery))
    .replace("{sd}", fmt(row.sd))
    .replace("{n}", fmt(row.evidence, 0))
    .replace("{gap}", fmt(thresholds.gap_below))
    .replace("{mastered}", fmt(thresholds.mastered_from));
  return h("details", { class: "why", "data-testid": "why" }, h("summary", {}, t("level.whyToggle")), h("p", {}, text));
}

function countsBy(rows, keyOf) {
  const counts = {};
  for (const row of rows) {
    const key = keyOf(row);
    counts[key] ??= { mastered: 0, developing: 0, gap: 0 };
    counts[key][row.level] += 1;
  }
  return counts;
}

function renderLevels(payload) {
  const rows = levelRows(payload);
  const tableBox = document.getElementById("table-points");
  if (!rows.length) {
    clear(tableBox).append(h("p", { class: "empty" }, t("state.empty")));
    return 0;
  }
  levelBars(
    "chart-mastery-bar",
    DIMENSIONS.map((d) => ({ key: d, label: dimensionLabel(d) })),
    countsBy(rows, (r) => pointInfo(r.point).dimension),
  );
  levelBars(
    "chart-mastery-radar",
    ENVIRONMENTS.map((e) => ({ key: e, label: environmentLabel(e) })),
    countsBy(rows, (r) => pointInfo(r.point).environment),
  );
  const counts = payload.level_counts || {};
  clear(tableBox).append(
    h("p", { class: "summary", "data-testid": "level-counts" },
      ["mastered", "developing", "gap"].map((level) => h("span", {}, levelTag(level), " ", h("b", {}, counts[level] ?? 0)))),
    table(
      [
        { label: t("col.point"), value: (r) => pointLabel(r.point) },
        { label: t("col.environment"), value: (r) => environmentLabel(pointInfo(r.point).environment) },
        { label: t("col.dimension"), value: (r) => dimensionLabel(pointInfo(r.point).dimension) },
        { label: t("col.level"), value: (r) => [levelTag(r.level), r.insufficient ? h("span", { class: "tag insufficient" }, t("tag.insufficient")) : null] },
        { label: "", value: (r) => why(r, payload.thresholds || {}) },
      ],
      rows,
      { "data-testid": "diagnosis" },
    ),
  );
  return rows.length;
}

function renderItems(container, items, coldStart) {
  clear(container);
  if (coldStart) container.append(h("p", { class: "empty" }, t("teacher.coldStart")));
  container.append(
    table(
      [
        { label: t("col.title"), value: (r) => h("span", { title: r.item_id }, r.title_zh) },
        { label: t("col.kind"), value: (r) => h("span", { class: "nowrap" }, kindLabel(r.kind)) },
        { label: t("col.hours"), value: (r) => fmt(r.hours, 1), num: true },
        { label: t("col.point"), value: (r) => pointsCell(r.points) },
        { label: t("col.reasons"), value: (r) => reasonList(r.reasons_zh, r.reasons_en) },
      ],
      items,
      { "data-testid": "recommendations" },
    ),
  );
  return items.length;
}

function violationList(violations) {
  if (!violations.length) return h("span", { class: "tag ok" }, t("tag.ok"));
  const en = getLang() === "en";
  return h("ul", { class: "reasons" },
    violations.map((v) => h("li", {}, h("span", { class: "tag violation" }, v.rule), " ", en ? v.message_en : v.message_zh)));
}

function dateLabel(iso) {
  const [, month, day] = iso.split("-").map(Number);
  return getLang() === "en" ? `${iso.slice(5)}` : `${month}月${day}日`;
}

function renderPlan(payload, policy) {
  const plan = payload.plan;
  const summary = clear(document.getElementById("path-summary"));
  const box = clear(document.getElementById("table-path"));
  if (!plan) {
    const problem = payload.plan_problem || {};
    box.append(h("p", { class: "error", "data-status": "422" }, t("path.none"), problem.detail ? ` — ${problem.detail}` : ""));
    if (Array.isArray(problem.violations)) box.append(violationList(problem.violations));
    return 0;
  }
  const practiceKinds = new Set(policy?.practice_kinds ?? DEFAULT_PRACTICE_KINDS);
  const totals = plan.totals || {};
  const required = policy && policy.total_hours;
  summary.append(
    h("span", {}, `${t("path.targets")}: `, pointsCell(plan.targets || [])),
    h("span", {}, `${t("path.total")}: `, h("b", {}, fmt(totals.hours, 1)), required ? ` / ${required}` : ""),
    h("span", { "data-testid": "done-hours" }, `${t("path.doneHours")}: `, h("b", {}, fmt(plan.done_hours, 1))),
    h("span", {}, `${t("path.plannedHours")}: `, h("b", {}, fmt(plan.planned_hours, 1))),
    h("span", {}, `${t("path.practice")}: `, h("b", {}, fmt(totals.practice_hours, 1)), policy?.min_practice_hours ? ` / ≥${policy.min_practice_hours}` : ""),
    h("span", { "data-testid": "violations" }, `${t("path.violations")}: `, violationList(plan.violations || [])),
  );
  const evidence = Object.entries(plan.evidence || {});
  if (evidence.length) {
    summary.append(h("div", { class: "evidence", "data-testid": "evidence" }, h("b", {}, `${t("path.evidence")}: `),
      h("ul", { class: "reasons" }, evidence.map(([code, artifacts]) => h("li", {}, pointLabel(code), "：", (artifacts || []).join("、"))))));
  }
  const weekly = plan.weeks.flatMap((week) =>
    week.items.map((item) => ({ ...item, week: week.week, practice: practiceKinds.has(item.kind) })));
  if (weekly.length) pathTimeline("chart-path", weekly, required);
  const itemColumns = [
    { label: t("col.title"), value: (i) => h("span", { title: i.id }, i.title_zh) },
    { label: t("col.kind"), value: (i) => h("span", { class: "nowrap" }, kindLabel(i.kind)) },
    { label: t("col.hours"), value: (i) => fmt(i.hours, 1), num: true },
    { label: t("col.point"), value: (i) => pointsCell(i.points) },
    { label: t("col.reasons"), value: (i) => reasonList(i.reasons_zh, i.reasons_en) },
  ];
  if (plan.done.length) {
    box.append(
      h("h3", {}, `${t("path.done")} (${plan.done.length})`),
      table([{ label: t("col.status"), value: (i) => h("span", { class: "tag ok" }, `✓ ${t("path.doneOn")} ${i.completed_on}`) }, ...itemColumns], plan.done, { "data-testid": "path-done" }),
    );
  }
  for (const week of plan.weeks) {
    box.append(
      h("h3", { "data-testid": "week" }, t("path.weekTitle").replace("{n}", week.week).replace("{from}", dateLabel(week.starts_on)).replace("{to}", dateLabel(week.ends_on)), ` · ${fmt(week.hours, 1)} ${t("col.hours")}`),
      table(itemColumns, week.items, { "data-testid": "path", "data-week": week.week }),
    );
  }
  return weekly.length;
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

function renderSummary(teacherId, payload) {
  const profile = payload.profile || {};
  clear(document.getElementById("teacher-summary")).append(
    h("span", {}, `${t("teacher.id")}: `, h("b", {}, payload.teacher_id ?? teacherId)),
    h("span", {}, `${t("teacher.school")}: `, h("b", {}, profile.school_id ?? "–")),
    h("span", {}, `${t("teacher.stage")}: `, h("b", {}, profile.stage ?? "–")),
    h("span", {}, `${t("teacher.subject")}: `, h("b", {}, profile.subject ?? "–")),
    h("span", {}, `${t("teacher.group")}: `, h("b", {}, profile.research_group ?? "–")),
    h("span", {}, `${t("teacher.asOf")}: `, h("b", {}, payload.as_of ?? "–")),
    h("span", {}, `${t("teacher.cycleEnds")}: `, h("b", {}, payload.cycle?.cycle_ends_on ?? "–")),
    payload.cycle?.cycle_ended_short
      ? h("span", { class: "badge warn", title: t("progress.cycleEndedShortNote"), "data-testid": "teacher-cycle-flag" }, t("progress.cycleEndedShort"))
      : "",
  );
}

/** Load the teacher view; resolves once every card has rendered or shown its error. */
export async function loadTeacher(teacherId, policyName) {
  const id = enc(teacherId);
  const boxes = ["teacher-summary", "table-points", "list-courses", "list-tasks", "table-path"].map((name) => document.getElementById(name));
  boxes.forEach(loading);
  let overview;
  try {
    overview = await apiGet(`/v1/teachers/${id}/overview`, { policy: policyName });
  } catch (error) {
    boxes.forEach((box) => showError(box, error));
    if (error && error.status === 401) document.dispatchEvent(new CustomEvent("nengli:unauthorised"));
    clear(document.getElementById("assessment-body"));
    return -1;
  }
  renderSummary(teacherId, overview);
  const policyTask = overview.plan ? apiGet(`/v1/policies/${enc(overview.plan.policy)}`).catch(() => null) : Promise.resolve(null);
  return Promise.all([
    section(boxes[1], async () => renderLevels(overview)),
    section(boxes[2], async () => renderItems(boxes[2], overview.courses, overview.cold_start)),
    section(boxes[3], async () => renderItems(boxes[3], overview.tasks, false)),
    section(boxes[4], async () => renderPlan(overview, await policyTask)),
    loadAssessment(teacherId, overview),
  ]);
}
