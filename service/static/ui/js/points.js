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
const ENV_BY_ZH = { 多媒体教学环境: "multimedia", 混合式学习环境: "blended", 混合学习环境: "blended", 智慧学习环境: "smart" };
const DIM_BY_ZH = { 学情分析: "learner_analysis", 教学设计: "instructional_design", 学法指导: "learning_guidance", 学业评价: "assessment" };

let registry = new Map();
let order = [];

function normalise(raw) {
  const code = raw.code;
  const verification = raw.verification || {};
  const status = verification.status || verification.name || raw.verification_status || "unverified";
  return {
    code,
    name_zh: raw.name_zh || code,
    name_en: raw.name_en || raw.name_zh || code,
    environment: ENV_BY_ZH[raw.environment] || (ENVIRONMENTS.includes(raw.environment) ? raw.environment : ENVIRONMENT_LETTERS[code[0]] || ""),
    dimension: DIM_BY_ZH[raw.dimension] || raw.dimension || "",
    status,
  };
}

/** Load the framework once per page; on failure fall back to codes only (letters give the environment). */
export async function loadPoints() {
  if (order.length) return;
  try {
    const payload = await apiGet("/v1/competencies");
    const rows = listOf(payload, "points", "competencies");
    registry = new Map(rows.map((row) => [row.code, normalise(row)]));
    order = rows.map((row) => row.code);
  } catch (error) {
    registry = new Map();
    order = [];
  }
}

export function resetPoints() {
  registry = new Map();
  order = [];
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

/** A verification tag: 未核实 for unverified names, 弱核实 for weakly verified, nothing when verified. */
export function verificationTag(code) {
  const status = pointInfo(code).status;
  if (status === "unverified") return h("span", { class: "tag unverified", title: status }, t("tag.unverified"));
  if (status === "weakly_verified") return h("span", { class: "tag weak", title: status }, t("tag.weak"));
  return null;
}

/** "A1 技术支持的学情分析 [未核实]" as a node. */
export function pointLabel(code) {
  return h("span", { class: "point", "data-code": code }, h("b", {}, code), " ", pointName(code), verificationTag(code));
}
