// Thin client of the v1 API. The key lives in sessionStorage only: typed once per tab.
const KEY_STORAGE = "nengli.apiKey";

export function getKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

export function setKey(key) {
  sessionStorage.setItem(KEY_STORAGE, key.trim());
}

export function clearKey() {
  sessionStorage.removeItem(KEY_STORAGE);
}

let signIn = { enabled: false, signed_in: false };

/** Ask the server whether sign-in is available and who is signed in (kept for later calls). */
export async function loadSession() {
  try {
    const response = await fetch(new URL("/auth/session", window.location.origin), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    signIn = response.ok ? await response.json() : { enabled: false, signed_in: false };
  } catch {
    signIn = { enabled: false, signed_in: false };
  }
  return signIn;
}

/** The session last reported by the server ({enabled, signed_in, role, scope, csrf_token}). */
export function currentSession() {
  return signIn;
}

/** Whether API calls are authenticated: a typed key or a signed-in session. */
export function isAuthenticated() {
  return Boolean(getKey()) || Boolean(signIn.signed_in);
}

/** End the signed-in session (the CSRF token proves the request comes from this page). */
export async function signOut() {
  if (!signIn.signed_in) return;
  await fetch(new URL("/auth/logout", window.location.origin), {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-Nengli-CSRF": signIn.csrf_token || "" },
  });
  signIn = { enabled: signIn.enabled, signed_in: false };
}

/** An HTTP failure carrying the RFC 9457 problem document when the server sent one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

/** GET a JSON document from the API; `params` become the query string (null values dropped). */
export async function apiGet(path, params = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json" };
  const key = getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    // Without a key, the sign-in cookie (same origin only) authenticates the call.
    response = await fetch(url, { headers, credentials: "same-origin" });
  } catch (error) {
    throw new ApiError(0, { title: String(error) });
  }
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      problem = null;
    }
    throw new ApiError(response.status, problem);
  }
  return response.json();
}

/** POST/PUT a JSON body; a signed-in write carries the session's CSRF token (another origin cannot). */
export async function apiSend(method, path, body) {
  const headers = { Accept: "application/json", "Content-Type": "application/json" };
  const key = getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  else if (signIn.signed_in) headers["X-Nengli-CSRF"] = signIn.csrf_token || "";
  let response;
  try {
    response = await fetch(new URL(path, window.location.origin), {
      method,
      headers,
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, { title: String(error) });
  }
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  return response.json();
}

/** Download a file from the API (e.g. ``format=xlsx``) with the same credentials as apiGet. */
export async function apiDownload(path, params, filename) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, value);
  }
  const headers = {};
  const key = getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  const response = await fetch(url, { headers, credentials: "same-origin" });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

/** The list inside a response, whichever envelope the endpoint uses ({data: [...]}, {items: [...]}, or a bare list). */
export function listOf(payload, ...names) {
  if (Array.isArray(payload)) return payload;
  if (!payload || typeof payload !== "object") return [];
  for (const name of [...names, "data", "items", "results"]) {
    if (Array.isArray(payload[name])) return payload[name];
  }
  return [];
}

let documentedPaths = null;

/** The set of paths in the server's OpenAPI document (fetched once; empty set on failure). */
export async function apiPaths() {
  if (documentedPaths === null) {
    try {
      const response = await fetch(new URL("/openapi.json", window.location.origin));
      documentedPaths = response.ok ? new Set(Object.keys((await response.json()).paths || {})) : new Set();
    } catch {
      documentedPaths = new Set();
    }
  }
  return documentedPaths;
}
