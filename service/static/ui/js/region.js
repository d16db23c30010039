// Region view: a province/city office drills down region → city → district → school, with
// teachers, started, meeting the hour rules and mean hours per unit (aggregated by the server).
import { apiDownload, apiGet, listOf } from "./api.js";
import { clear, fmt, h, loading, showError, table } from "./dom.js";
import { getLang, t } from "./i18n.js";
import { cycleFlag, renderTrends } from "./school.js";

/** Rows of the 未达标名单 shown on screen; the .xlsx holds all of them. */
const BEHIND_SHOWN = 50;

const enc = encodeURIComponent;
const pct = (value) => (Number.isFinite(Number(value)) ? `${(Number(value) * 100).toFixed(1)}%` : "–");

/** The next level down and the link that opens it. */
function drill(region, level, row, policy) {
  const query = new URLSearchParams({ region });
  if (policy) query.set("policy", policy);
  if (level === "city") {
    query.set("city", row.city);
    return h("a", { href: `#/region/${enc(region)}?${query}&level=district` }, row.city);
  }
  if (level === "district") {
    query.set("city", row.city);
    query.set("district", row.district);
    return h("a", { href: `#/region/${enc(region)}?${query}&level=school` }, row.district);
  }
  const schoolQuery = new URLSearchParams({ region });
  if (policy) schoolQuery.set("policy", policy);
  return h("a", { href: `#/school/${enc(row.school_id)}?${schoolQuery}` }, row.school_id);
}

function xlsxButton(testid, path, request, filename) {
  const button = h("button", { type: "button", class: "download", "data-testid": testid }, t("progress.xlsx"));
  button.addEventListener("click", () => apiDownload(path, { ...request, format: "xlsx" }, filename));
  return button;
}

function renderRollout(payload, path, request) {
  const rows = listOf(payload, "rows");
  clear(document.getElementById("table-rollout")).append(
    table(
      [
        { label: t("progress.batch"), value: (r) => (r.batch === null ? t("rollout.none") : `${r.batch}${r.year ? ` (${r.year})` : ""}`) },
        { label: t("region.schools"), value: (r) => fmt(r.n_schools, 0), num: true },
        { label: t("progress.teachers"), value: (r) => fmt(r.n_teachers, 0), num: true },
        { label: t("progress.startedShare"), value: (r) => pct(r.started_share), num: true },
        { label: t("progress.compliantShare"), value: (r) => pct(r.compliant_share), num: true },
        { label: t("progress.meanHours"), value: (r) => fmt(r.mean_hours, 1), num: true },
        { label: t("progress.planned"), value: (r) => pct(r.planned_cumulative_share), num: true },
        { label: t("progress.actual"), value: (r) => pct(r.actual_cumulative_share), num: true },
      ],
      rows,
      { "data-testid": "rollout" },
    ),
    xlsxButton("rollout-xlsx", path, request, "rollout.xlsx"),
  );
  return rows.length;
}

function renderBehind(payload, path, request) {
  const rows = listOf(payload, "data");
  const en = getLang() === "en";
  clear(document.getElementById("table-region-behind")).append(
    h("p", { class: "summary" }, `${t("progress.behind")}: `, h("b", { "data-testid": "region-behind-count" }, fmt(payload.count, 0)),
      payload.count > Math.min(rows.length, BEHIND_SHOWN) ? ` · ${t("behind.shown").replace("{n}", Math.min(rows.length, BEHIND_SHOWN))}` : ""),
    table(
      [
        { label: t("region.school"), value: (r) => r.school_id },
        { label: t("teacher.id"), value: (r) => r.teacher_id },
        { label: t("teacher.group"), value: (r) => r.research_group },
        { label: t("progress.hours"), value: (r) => fmt(r.hours, 1), num: true },
        { label: t("progress.cycle"), value: (r) => cycleFlag(r) },
        { label: t("progress.reason"), value: (r) => (en ? r.reasons_en : r.reasons_zh) },
      ],
      rows.slice(0, BEHIND_SHOWN),
      { "data-testid": "region-behind" },
    ),
    xlsxButton("region-behind-xlsx", path, request, "behind.xlsx"),
  );
  return rows.length;
}

async function card(boxId, work) {
  const box = document.getElementById(boxId);
  loading(box);
  try {
    return await work();
  } catch (error) {
    showError(box, error);
    return -1;
  }
}

/** Rollout batches, 学时 per month and the 未达标名单 of the area the drill-down shows. */
function loadAreaCards(region, city, district, policy) {
  const request = { city, district, policy };
  const base = `/v1/regions/${enc(region)}`;
  return Promise.all([
    card("table-rollout", async () => renderRollout(await apiGet(`${base}/rollout`, request), `${base}/rollout`, request)),
    card("table-region-trends", async () =>
      renderTrends(await apiGet(`${base}/trends`, request), "chart-region-trends", "table-region-trends", () =>
        apiDownload(`${base}/trends`, { ...request, format: "xlsx" }, "trends.xlsx"))),
    card("table-region-behind", async () =>
      renderBehind(await apiGet(`${base}/behind`, { ...request, limit: BEHIND_SHOWN }), `${base}/behind`, request)),
  ]);
}

/** Load one level of the drill-down into the region view. */
export async function loadRegion(region, params) {
  const level = params.get("level") || "city";
  const city = params.get("city") || "";
  const district = params.get("district") || "";
  const policy = params.get("policy") || "";
  const crumbs = clear(document.getElementById("region-crumbs"));
  const query = (extra) => {
    const q = new URLSearchParams({ ...extra });
    if (policy) q.set("policy", policy);
    return q.toString();
  };
  crumbs.append(h("a", { href: `#/region/${enc(region)}?${query({})}` }, region));
  if (city) crumbs.append(" › ", h("a", { href: `#/region/${enc(region)}?${query({ city, level: "district" })}` }, city));
  if (district) crumbs.append(" › ", h("span", {}, district));
  const box = document.getElementById("table-region");
  loading(box);
  const areaCards = loadAreaCards(region, city, district, policy);
  try {
    const request = { level, city, district, policy };
    const payload = await apiGet(`/v1/regions/${enc(region)}/breakdown`, request);
    const rows = payload.rows || [];
    const download = h("button", { type: "button", class: "download", "data-testid": "region-xlsx" }, t("progress.xlsx"));
    download.addEventListener("click", () =>
      apiDownload(`/v1/regions/${enc(region)}/breakdown`, { ...request, format: "xlsx" }, `breakdown-${level}.xlsx`),
    );
    clear(box).append(
      table(
        [
          { label: t(`region.${level}`), value: (r) => drill(region, level, r, policy) },
          level === "city" ? null : { label: t("region.city"), value: (r) => r.city },
          { label: t("region.schools"), value: (r) => fmt(r.n_schools, 0), num: true },
          { label: t("progress.teachers"), value: (r) => fmt(r.n_teachers, 0), num: true },
          { label: t("progress.started"), value: (r) => fmt(r.teachers_started, 0), num: true },
          { label: t("progress.compliant"), value: (r) => `${fmt(r.n_compliant, 0)} (${pct(r.compliant_share)})`, num: true },
          { label: t("progress.meanHours"), value: (r) => fmt(r.mean_hours, 1), num: true },
          { label: t("progress.meanPractice"), value: (r) => fmt(r.mean_practice_hours, 1), num: true },
          { label: t("progress.cycleEndedShort"), value: (r) => fmt(r.n_cycle_ended_short ?? 0, 0), num: true },
        ],
        rows,
        { "data-testid": "region-breakdown" },
      ),
      download,
    );
    await areaCards;
    return rows.length;
  } catch (error) {
    showError(box, error);
    if (error && error.status === 401) document.dispatchEvent(new CustomEvent("nengli:unauthorised"));
    await areaCards;
    return -1;
  }
}
