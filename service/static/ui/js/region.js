// Region view: a province/city office drills down region → city → district → school, with
// teachers, started, meeting the hour rules and mean hours per unit (aggregated by the server).
import { apiDownload, apiGet } from "./api.js";
import { clear, fmt, h, loading, showError, table } from "./dom.js";
import { t } from "./i18n.js";

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
        ],
        rows,
        { "data-testid": "region-breakdown" },
      ),
      download,
    );
    return rows.length;
  } catch (error) {
    showError(box, error);
    if (error && error.status === 401) document.dispatchEvent(new CustomEvent("nengli:unauthorised"));
    return -1;
  }
}
