// The school-based assessment (校本应用考核) on screen, over the existing API:
//   teacher: submit evidence for a point → self-rate it; peers rate what they were assigned;
//   school:  rate the items of submissions waiting for it (a complete school rating is final);
//   teacher: the portfolio (电子档案) shows the result per point.
import { apiDownload, apiGet, apiSend, listOf } from "./api.js";
import { clear, h, loading, showError, table } from "./dom.js";
import { getLang, t } from "./i18n.js";
import { pointLabel, pointName } from "./points.js";

const enc = encodeURIComponent;
const RATINGS = ["优秀", "合格", "不合格"];
const MEDIA = ["document", "video", "audio", "image", "slides", "link", "other"];

export function ratingLabel(rating) {
  return rating ? t(`rating.${rating}`) : "–";
}

function statusTag(status) {
  return h("span", { class: `tag review ${status}`, "data-review-status": status }, t(`review.${status}`));
}

/** The violations of a problem document, in the reader's language. */
function problemMessages(error) {
  const problem = (error && error.problem) || {};
  const en = getLang() === "en";
  const found = [...(problem.violations || []), ...Object.values(problem.item_violations || {}).flat()];
  const messages = found.map((v) => (en ? v.message_en : v.message_zh)).filter(Boolean);
  return messages.length ? messages : [problem.detail || problem.title || String(error)];
}

function note(box, kind, messages) {
  clear(box).append(h("div", { class: kind, role: "status" }, h("ul", { class: "reasons" }, messages.map((m) => h("li", {}, m)))));
}

/** A rating select + comment + button that POSTs one review; `done` runs after success. */
function ratingForm(evidenceId, role, label, done) {
  const select = h("select", { name: "rating", "aria-label": t("review.rating") }, RATINGS.map((r) => h("option", { value: r }, ratingLabel(r))));
  const comment = h("input", { name: "comment", required: true, placeholder: t("review.comment"), "aria-label": t("review.comment") });
  const message = h("div", { class: "form-note" });
  const form = h("form", { class: "inline-form", "data-testid": `review-${role}`, "data-evidence": evidenceId },
    select, comment, h("button", { type: "submit" }, label), message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await apiSend("POST", `/v1/evidence/${enc(evidenceId)}/reviews`, { role, rating: select.value, comment: comment.value.trim() });
      note(message, "ok", [t("review.saved")]);
      await done();
    } catch (error) {
      note(message, "error", problemMessages(error));
    }
  });
  return form;
}

function artifactFields(artifact, index) {
  const named = (field) => `items.${index}.${field}`;
  const name = getLang() === "en" ? artifact.name_en || artifact.name_zh : artifact.name_zh;
  return h("fieldset", { class: "artifact", "data-artifact": artifact.name_zh },
    h("legend", {}, name, artifact.required ? h("span", { class: "tag violation" }, t("evidence.required")) : null),
    h("label", {}, t("evidence.title"), h("input", { name: named("title"), required: artifact.required })),
    h("label", {}, t("evidence.media"), h("select", { name: named("media") }, MEDIA.map((m) => h("option", { value: m }, t(`media.${m}`))))),
    h("label", {}, t("evidence.link"), h("input", { name: named("link"), type: "url", placeholder: "https://" })),
    h("label", {}, t("evidence.duration"), h("input", { name: named("duration_minutes"), type: "number", min: "1", max: "600", step: "any" })),
    h("label", {}, t("evidence.lesson"), h("input", { name: named("lesson") })),
    h("label", {}, t("evidence.class"), h("input", { name: named("class_name") })),
  );
}

/** The evidence form of one point: one fieldset per artifact the framework asks for. */
async function submitForm(teacherId, points, reload, flash) {
  const select = h("select", { name: "point", id: "evidence-point", "aria-label": t("col.point") },
    points.map((code) => h("option", { value: code }, `${code} ${pointName(code)}`)));
  const fields = h("div", { class: "artifacts" });
  const message = h("div", { class: "form-note", "data-testid": "evidence-result" });
  const form = h("form", { id: "evidence-form", class: "evidence-form" },
    h("label", {}, t("col.point"), select), fields, h("button", { type: "submit" }, t("evidence.submit")), message);
  let artifacts = [];
  const showPoint = async () => {
    clear(fields).append(h("p", { class: "empty" }, t("state.loading")));
    try {
      artifacts = (await apiGet(`/v1/competencies/${enc(select.value)}`)).artifacts || [];
      clear(fields).append(...artifacts.map(artifactFields));
    } catch (error) {
      showError(fields, error);
    }
  };
  select.addEventListener("change", showPoint);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const items = artifacts
      .map((artifact, i) => {
        const value = (field) => String(data.get(`items.${i}.${field}`) || "").trim();
        const duration = value("duration_minutes");
        return {
          artifact: artifact.name_zh,
          title: value("title"),
          media: value("media") || "document",
          link: value("link") || null,
          duration_minutes: duration ? Number(duration) : null,
          lesson: value("lesson") || null,
          class_name: value("class_name") || null,
        };
      })
      .filter((item) => item.title);
    try {
      const made = await apiSend("POST", `/v1/teachers/${enc(teacherId)}/evidence`, { point: select.value, items });
      // The card is rebuilt with the new submission; the note goes into the new form.
      await reload([t("evidence.accepted").replace("{peers}", (made.peer_reviewers || []).join(", ") || "–")]);
    } catch (error) {
      note(message, "error", problemMessages(error));
    }
  });
  await showPoint();
  if (flash) note(message, "ok", flash);
  return form;
}

function itemLink(item) {
  return item.link ? h("a", { href: item.link, rel: "noopener noreferrer", target: "_blank" }, item.title) : item.title;
}

/** The teacher's submissions with the review state; self-rating forms where still missing. */
function submissionsTable(payload, teacherId, reload, role) {
  const rows = listOf(payload, "data").flatMap((sub) =>
    sub.items.map((item, i) => ({ sub, item, review: (sub.review.items || []).find((r) => r.evidence_id === item.evidence_id) || {}, first: i === 0 })));
  return table(
    [
      { label: t("col.point"), value: (r) => (r.first ? [pointLabel(r.sub.point), " ", statusTag(r.sub.review.status)] : "") },
      { label: t("evidence.artifact"), value: (r) => r.item.artifact },
      { label: t("evidence.title"), value: (r) => itemLink(r.item) },
      { label: t("review.self"), value: (r) => (r.review.self_rating ? ratingLabel(r.review.self_rating) : role === "self" ? ratingForm(r.item.evidence_id, "self", t("review.selfButton"), reload) : "–") },
      { label: t("review.peers"), value: (r) => Object.values(r.review.peer_ratings || {}).map(ratingLabel).join("、") || `– (${(r.sub.peer_reviewers || []).join(", ")})` },
      { label: t("review.school"), value: (r) => (r.review.school_rating ? ratingLabel(r.review.school_rating) : role === "school" && r.sub.review.status !== "final" ? ratingForm(r.item.evidence_id, "school", t("review.schoolButton"), reload) : "–") },
    ],
    rows,
    { "data-testid": role === "school" ? "school-rating" : "my-evidence" },
  );
}

async function renderTeacherAssessment(box, teacherId, overview, flash = null) {
  const reload = (message = null) => renderTeacherAssessment(box, teacherId, overview, message);
  const [evidence, assignments, portfolio] = await Promise.all([
    apiGet(`/v1/teachers/${enc(teacherId)}/evidence`),
    apiGet(`/v1/teachers/${enc(teacherId)}/review-assignments`),
    apiGet(`/v1/teachers/${enc(teacherId)}/portfolio`),
  ]);
  const targets = overview.plan ? overview.plan.targets : [];
  const points = [...new Set([...targets, ...listOf(overview, "points").map((p) => p.point)])];
  const results = Object.entries(portfolio.results || {});
  const download = h("button", { type: "button", class: "download", "data-testid": "portfolio-xlsx" }, t("assessment.portfolioXlsx"));
  download.addEventListener("click", () => apiDownload(`/v1/teachers/${enc(teacherId)}/portfolio`, { format: "xlsx" }, `portfolio-${teacherId}.xlsx`));
  clear(box).append(
    h("h3", {}, t("assessment.results")),
    h("p", { class: "summary", "data-testid": "portfolio-status" }, `${t("assessment.cycle")}: `, h("b", {}, t(`cycle.${portfolio.status?.status}`))),
    table(
      [
        { label: t("col.point"), value: ([code]) => pointLabel(code) },
        { label: t("assessment.result"), value: ([, rating]) => h("span", { class: `tag rating`, "data-rating": rating }, ratingLabel(rating)) },
      ],
      results,
      { "data-testid": "portfolio-results" },
    ),
    download,
    h("h3", {}, `${t("assessment.mine")} (${evidence.count ?? 0})`),
    submissionsTable(evidence, teacherId, reload, "self"),
    h("h3", {}, `${t("assessment.toReview")} (${assignments.count ?? 0})`),
    table(
      [
        { label: t("teacher.id"), value: (r) => r.teacher_id },
        { label: t("col.point"), value: (r) => pointLabel(r.point) },
        { label: t("evidence.artifact"), value: (r) => r.artifact },
        { label: t("evidence.title"), value: (r) => itemLink(r) },
        { label: t("review.mine"), value: (r) => (r.my_rating ? ratingLabel(r.my_rating) : ratingForm(r.evidence_id, "peer", t("review.peerButton"), reload)) },
      ],
      listOf(assignments, "data"),
      { "data-testid": "review-assignments" },
    ),
    h("h3", {}, t("assessment.submit")),
    await submitForm(teacherId, points, reload, flash),
  );
  return results.length;
}

/** The teacher's assessment card (results, own evidence, peer reviews to do, a new submission). */
export async function loadAssessment(teacherId, overview) {
  const box = document.getElementById("assessment-body");
  loading(box);
  try {
    return await renderTeacherAssessment(box, teacherId, overview);
  } catch (error) {
    showError(box, error);
    return -1;
  }
}

async function renderSchoolRating(box, schoolId, policyName, openTeacher = null) {
  const summary = await apiGet(`/v1/schools/${enc(schoolId)}/assessment`, { policy: policyName });
  const waiting = listOf(summary, "data").filter((row) => row.rounds_awaiting_school > 0);
  const detail = h("div", { id: "school-rating-detail" });
  const open = async (teacherId) => {
    loading(detail);
    try {
      const evidence = await apiGet(`/v1/teachers/${enc(teacherId)}/evidence`);
      const pending = { ...evidence, data: listOf(evidence, "data").filter((sub) => sub.review.status !== "final") };
      clear(detail).append(h("h3", {}, `${t("assessment.rateFor")} ${teacherId}`), submissionsTable(pending, teacherId, () => renderSchoolRating(box, schoolId, policyName, teacherId), "school"));
    } catch (error) {
      showError(detail, error);
    }
  };
  // After a rating the card is rebuilt with the teacher being rated still open. The detail is
  // filled before the card is swapped in, so the rated form and the remaining ones change in one
  // step: no moment shows the card without forms while the evidence is fetched.
  if (openTeacher) await open(openTeacher);
  const counts = summary.status_counts || {};
  clear(box).append(
    h("p", { class: "summary" }, Object.entries(counts).map(([status, n]) => h("span", {}, `${t(`cycle.${status}`)}: `, h("b", {}, n)))),
    h("h3", {}, `${t("assessment.waiting")} (${waiting.length})`),
    table(
      [
        { label: t("teacher.id"), value: (r) => r.teacher_id },
        { label: t("teacher.group"), value: (r) => r.research_group },
        { label: t("assessment.rounds"), value: (r) => r.rounds_awaiting_school, num: true },
        { label: "", value: (r) => {
          const button = h("button", { type: "button", "data-testid": "rate-teacher", "data-teacher": r.teacher_id }, t("assessment.rate"));
          button.addEventListener("click", () => open(r.teacher_id));
          return button;
        } },
      ],
      waiting,
      { "data-testid": "awaiting-school" },
    ),
    detail,
  );
  return waiting.length;
}

/** The school's card: teachers whose evidence waits for the school's rating, and the rating forms. */
export async function loadSchoolRating(schoolId, policyName) {
  const box = document.getElementById("school-assessment");
  loading(box);
  try {
    return await renderSchoolRating(box, schoolId, policyName);
  } catch (error) {
    showError(box, error);
    return -1;
  }
}
