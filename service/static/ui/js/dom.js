// DOM helpers. Data from the API is only ever inserted as text nodes, never parsed as HTML.
import { t } from "./i18n.js";

/** Create an element: h("td", {class: "num"}, "0.42"). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Format a number with `digits` decimals; "–" for missing values. */
export function fmt(value, digits = 2) {
  const number = Number(value);
  if (value === null || value === undefined || value === "" || !Number.isFinite(number)) return "–";
  return number.toFixed(digits);
}

/**
 * A table from column specs {label, value(row) -> Node|string, num?} and rows.
 * Returns an "empty" note instead of an empty table.
 */
export function table(columns, rows, attrs = {}) {
  columns = columns.filter(Boolean);
  if (!rows || rows.length === 0) return h("p", { class: "empty" }, t("state.empty"));
  const head = h("tr", {}, columns.map((c) => h("th", {}, c.label)));
  const body = rows.map((row) =>
    h("tr", {}, columns.map((c) => h("td", { class: c.num ? "num" : null }, c.value(row)))),
  );
  return h("table", attrs, h("thead", {}, head), h("tbody", {}, body));
}

/** Replace a container's content with a readable error (status + problem title/detail). */
export function showError(container, error) {
  const status = error && error.status;
  let message;
  if (status === 0) message = t("error.network");
  else if (status === 401 || status === 403 || status === 404) message = t(`error.${status}`);
  else message = `${t("error.generic")} (${status ?? "?"})`;
  const detail = error && error.problem && (error.problem.detail || error.problem.title);
  clear(container).append(
    h("p", { class: "error", "data-status": status ?? "" }, message, detail ? ` — ${detail}` : ""),
  );
}

export function loading(container) {
  clear(container).append(h("p", { class: "empty" }, t("state.loading")));
}
