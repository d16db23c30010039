// Entry point: key handling, language switch and hash routing
//   #/teacher/T0000001?policy=jiangsu      #/school/S000001?region=江苏&policy=jiangsu
import {
  clearKey,
  currentSession,
  getKey,
  isAuthenticated,
  loadSession,
  setKey,
  signOut,
} from "./api.js";
import { applyStaticText, getLang, setLang, t } from "./i18n.js";
import { loadPoints } from "./points.js";
import { loadRegion } from "./region.js";
import { loadSchool } from "./school.js";
import { loadTeacher } from "./teacher.js";

const $ = (id) => document.getElementById(id);

function parseHash() {
  const raw = window.location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const [view = "teacher", id = ""] = path.split("/").map(decodeURIComponent);
  const known = ["teacher", "school", "region"].includes(view) ? view : "teacher";
  return { view: known, id, params: new URLSearchParams(query) };
}

const RETURN_HASH = "nengli.returnHash";

function showKeyState() {
  const hasKey = Boolean(getKey());
  const session = currentSession();
  const signedIn = Boolean(session.signed_in) && !hasKey;
  $("key-panel").hidden = hasKey || signedIn;
  $("signin-box").hidden = !session.enabled || signedIn || hasKey;
  $("key-status").textContent = signedIn
    ? `${t("signin.as")}：${t(`role.${session.role}`)} ${session.scope || ""}`.trim()
    : hasKey
      ? t("key.set")
      : t("key.none");
  $("key-clear").hidden = !hasKey;
  $("signout").hidden = !signedIn;
}

/** A signed-in teacher or school lands on its own view; the hash before sign-in comes back. */
function landingHash() {
  const saved = sessionStorage.getItem(RETURN_HASH);
  sessionStorage.removeItem(RETURN_HASH);
  if (saved && saved !== "#" && saved !== "#/teacher" && saved !== "#/school") return saved;
  const session = currentSession();
  if (session.signed_in && session.role === "teacher") return `#/teacher/${encodeURIComponent(session.scope)}`;
  if (session.signed_in && session.role === "school") return `#/school/${encodeURIComponent(session.scope)}`;
  if (session.signed_in && session.role === "platform") return `#/region/${encodeURIComponent(session.scope)}`;
  return saved || "";
}

function showBanner(message) {
  const banner = $("banner");
  banner.textContent = message || "";
  banner.hidden = !message;
}

async function route() {
  const { view, id, params } = parseHash();
  for (const name of ["teacher", "school", "region"]) {
    $(`view-${name}`).hidden = name !== view;
    $(`tab-${name}`).classList.toggle("active", name === view);
  }
  const section = $(`view-${view}`);
  if (!isAuthenticated() || !id) {
    section.dataset.state = "idle";
    document.body.dataset.state = "idle";
    return;
  }
  section.dataset.state = "loading";
  document.body.dataset.state = "loading";
  showBanner("");
  await loadPoints();
  if (view === "teacher") {
    $("teacher-id").value = id;
    $("teacher-policy").value = params.get("policy") || "";
    await loadTeacher(id, params.get("policy") || "");
  } else if (view === "region") {
    $("region-id").value = id;
    $("region-policy").value = params.get("policy") || "";
    await loadRegion(id, params);
  } else {
    $("school-id").value = id;
    $("school-region").value = params.get("region") || "";
    $("school-policy").value = params.get("policy") || "";
    await loadSchool(id, params.get("region") || "", params.get("policy") || "");
  }
  // Tests and people can tell a finished page from one still fetching.
  section.dataset.state = "ready";
  document.body.dataset.state = "ready";
}

function navigate(view, id, params) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString();
  const target = `#/${view}/${encodeURIComponent(id.trim())}${query ? `?${query}` : ""}`;
  if (window.location.hash === target) route();
  else window.location.hash = target;
}

function relabel() {
  applyStaticText();
  $("lang-switch").textContent = t("lang.other");
  showKeyState();
}

async function init() {
  await loadSession();
  relabel();
  if (currentSession().signed_in) {
    const target = landingHash();
    // replaceState, not location.hash: no hashchange, so the page loads once (route() below).
    if (target && target !== window.location.hash) history.replaceState(null, "", target);
  }
  $("signin-link").addEventListener("click", () => {
    sessionStorage.setItem(RETURN_HASH, window.location.hash);
  });
  $("signout").addEventListener("click", async () => {
    await signOut();
    showKeyState();
    route();
  });
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("key-input").value.trim();
    if (!value) return;
    setKey(value);
    $("key-input").value = "";
    showKeyState();
    route();
  });
  $("key-clear").addEventListener("click", () => {
    clearKey();
    showKeyState();
  });
  $("lang-switch").addEventListener("click", () => {
    setLang(getLang() === "zh" ? "en" : "zh");
    relabel();
    route(); // Re-render data-driven labels (point names, reasons) in the new language.
  });
  $("teacher-form").addEventListener("submit", (event) => {
    event.preventDefault();
    navigate("teacher", $("teacher-id").value, { policy: $("teacher-policy").value.trim() });
  });
  $("region-form").addEventListener("submit", (event) => {
    event.preventDefault();
    navigate("region", $("region-id").value, { policy: $("region-policy").value.trim() });
  });
  $("school-form").addEventListener("submit", (event) => {
    event.preventDefault();
    navigate("school", $("school-id").value, {
      region: $("school-region").value.trim(),
      policy: $("school-policy").value.trim(),
    });
  });
  document.addEventListener("nengli:unauthorised", async () => {
    clearKey();
    await loadSession(); // an expired sign-in shows the sign-in button again
    showKeyState();
    showBanner(t("error.401"));
  });
  window.addEventListener("hashchange", route);
  route();
}

init();
