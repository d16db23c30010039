// The competency framework as served by GET /v1/competencies: names, environment, dimension and
// verification status of each point, so every view can label codes honestly (未核实 when unverified).
import { apiGet, listOf } from "./api.js";
import { getLang, t } from "./i18n.js";
import { h } from "./dom.js";

export const ENVIRONMENTS = ["multimedia", "blended", "smart"];
export const ENVIRONMENT_LETTERS = { A: "multimedia", B: "blended", C: "smart" };
export const DIMENSIONS = ["learner_analysis", "instructional_design", "learning_guidance", "assessment"];
export const DIMENSION_LABELS = {
  learner_analysis: { zh: "学情分析", en: "Learner analysis" },
  instructional_design: { zh: "教学设计", en: "Instructional design" },
  learning_guidance: { zh: "学法指导", en: "Learning guidance" },
  assessment: { zh: "学业评价", en: "Assessment" },
};

let registry = new Map();
let order = [];

/** One point of GET /v1/competencies, reduced to what the views label with. */
function normalise(raw) {
  return {
    code: raw.code,
    name_zh: raw.name_zh,
    name_en: raw.name_en || raw.name_zh,
    environment: raw.environment,
    dimension: raw.dimension,
    status: raw.verification ? raw.verification.status : "unverified",
  };
}

/** Load the framework once per page (every page of it); on failure views fall back to bare codes. */
export async function loadPoints() {
  if (order.length) return;
  try {
    const rows = [];
    let cursor = null;
    do {
      const page = await apiGet("/v1/competencies", { limit: 500, cursor });
      rows.push(...listOf(page, "data"));
      cursor = page.next_cursor;
    } while (cursor);
    registry = new Map(rows.map((row) => [row.code, normalise(row)]));
    order = rows.map((row) => row.code);
  } catch {
    registry = new Map();
    order = [];
  }
}

/** Point metadata, synthesised from the code when the framework could not be loaded. */
export function pointInfo(code) {
  return (
    registry.get(code) || {
      code,
      name_zh: code,
      name_en: code,
      environment: ENVIRONMENT_LETTERS[String(code)[0]] || "",
      dimension: "",
      status: "unknown",
    }
  );
}

/** Codes in framework order; unknown codes keep their natural sort after the known ones. */
export function sortCodes(codes) {
  const position = new Map(order.map((code, index) => [code, index]));
  return [...new Set(codes)].sort((a, b) => {
    const pa = position.has(a) ? position.get(a) : 1e6;
    const pb = position.has(b) ? position.get(b) : 1e6;
    return pa - pb || String(a).localeCompare(String(b), "en", { numeric: true });
  });
}

export function pointName(code) {
  const info = pointInfo(code);
  return getLang() === "en" ? info.name_en : info.name_zh;
}

export function dimensionLabel(dimension) {
  const labels = DIMENSION_LABELS[dimension];
  return labels ? labels[getLang()] : dimension || "–";
}

export function environmentLabel(environment) {
  return environment ? t(`env.${environment}`) : "–";
}

/** A verification tag: 未核实 for unverified names, 单一来源 for one-source names, nothing when confirmed. */
export function verificationTag(code) {
  const status = pointInfo(code).status;
  if (status === "unverified") return h("span", { class: "tag unverified", title: status }, t("tag.unverified"));
  if (status === "one_source") return h("span", { class: "tag weak", title: status }, t("tag.one_source"));
  return null;
}

/** "A1 技术支持的学情分析 [未核实]" as a node. */
export function pointLabel(code) {
  return h("span", { class: "point", "data-code": code }, h("b", {}, code), " ", pointName(code), verificationTag(code));
}
