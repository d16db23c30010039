"""The dashboard in a real browser against a live demo server.

A small simulated province is generated, a model trained on it and the province stored in a
fresh SQLite database; the real app then runs under uvicorn on a free loopback port and headless
Chromium (Debian's ``chromium`` package, driven by Playwright's bundled driver, never a
downloaded browser) loads the teacher and school views with an admin key. The test checks what a
person would look at — point codes, course titles, the 未核实 labels, the charts — that no
request left the origin and that no script error happened, and saves screenshots under the test's
temporary directory (the path is printed; run with ``-s`` to see it).

Skipped with a reason when ``/usr/bin/chromium`` or Playwright is missing (``.ci/run`` installs
Chromium with apt).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip(
        f"{CHROMIUM} not found; install Debian's chromium (apt-get install -y chromium) to run the "
        "dashboard browser test",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)

pytestmark = pytest.mark.slow

N_TEACHERS, N_SCHOOLS, SEED = 180, 3, 11
TIMEOUT_MS = 90_000
HTTP_TIMEOUT = 60.0  # seconds; generous because CI machines can be busy, never asserted on
STARTUP_SECONDS = 240  # a loaded shared machine can take minutes to import and load the model
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

# Runs in the server process: the real factory, plus mount_ui (idempotent) so that this test
# exercises the dashboard even before create_app mounts it; test_ui.py checks that it does.
SERVER = """
import sys, uvicorn
from service.api.ui import mount_ui
from service.app import create_app
app = create_app()
mount_ui(app)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


@dataclass(frozen=True)
class Demo:
    """What the browser needs: where the server is, a key, and ids that exist."""

    base_url: str
    key: str
    teacher_key: str
    teacher_id: str
    school_id: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _build(root: Path) -> tuple[str, list[str]]:
    """Simulate, train and store a small province.

    Returns the admin key and the teachers who answered the questionnaire (so their diagnosis
    has evidence to show), in id order.
    """
    from competency_model.province import write_province
    from recommender.training import train_model_dir
    from service.auth import Principal, create_key
    from service.db.engine import make_engine, make_session_factory
    from service.db.migrate import upgrade_database
    from service.db.stores.province import store_tables
    from training_data.simulator import simulate_province

    province = simulate_province(n_teachers=N_TEACHERS, n_schools=N_SCHOOLS, seed=SEED)
    write_province(province, root / "data")
    train_model_dir(root / "data", root / "model", seed=SEED)
    engine = make_engine(_database_url(root))
    upgrade_database(engine)
    with make_session_factory(engine)() as session:
        token, row = create_key(session, "admin")
        admin = Principal(key_id=row.key_id, role="admin", scope=None)
        tables = ("schools", "teachers", "responses", "grades", "events")
        store_tables(session, admin, {name: getattr(province, name) for name in tables})
        session.commit()
    engine.dispose()
    return token, sorted(set(province.responses["teacher_id"].astype(str)))


def _database_url(root: Path) -> str:
    return f"sqlite:///{root / 'nengli.sqlite'}"


def _teacher_key(root: Path, teacher_id: str) -> str:
    """A key scoped to one teacher, written straight into the demo database."""
    from service.auth import create_key
    from service.db.engine import make_engine, make_session_factory

    engine = make_engine(_database_url(root))
    with make_session_factory(engine)() as session:
        token, _ = create_key(session, "teacher", teacher_id)
        session.commit()
    engine.dispose()
    return token


def _pick_teacher(base_url: str, key: str, candidates: list[str]) -> tuple[str, str]:
    """The first teacher whose learning path the service can build, and their school.

    Some simulated teachers have no policy-compliant path (too few catalog hours for their
    school's environment and subject): the service answers 422 for them, which the dashboard
    shows in the path card, but the content checks need a teacher with a full page.
    """
    headers = {"Authorization": f"Bearer {key}"}
    for teacher_id in candidates[:30]:
        path = httpx.get(
            f"{base_url}/v1/teachers/{teacher_id}/learning-path",
            headers=headers,
            timeout=HTTP_TIMEOUT,
        )
        if path.status_code == 200 and path.json()["items"]:
            teacher = httpx.get(
                f"{base_url}/v1/teachers/{teacher_id}", headers=headers, timeout=HTTP_TIMEOUT
            )
            return teacher_id, str(teacher.json()["school_id"])
    pytest.fail(f"none of the first 30 teachers has a learning path: {candidates[:30]}")


def _wait_until_up(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"demo server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(
        f"demo server did not become ready in {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}"
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """A live uvicorn serving the real app over the demo province."""
    root = tmp_path_factory.mktemp("ui_demo")
    key, candidates = _build(root)
    port = _free_port()
    env = {
        **os.environ,
        "NENGLI_DATABASE_URL": _database_url(root),
        "NENGLI_MODEL_DIR": str(root / "model"),
        "NENGLI_DATA_DIR": str(root / "data"),
        "NENGLI_LOG_LEVEL": "WARNING",
    }
    log = root / "server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(port)], env=env, stdout=sink, stderr=sink
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, server, log)
        teacher_id, school_id = _pick_teacher(base_url, key, candidates)
        yield Demo(base_url, key, _teacher_key(root, teacher_id), teacher_id, school_id)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass
class Session:
    """One browser page plus everything it reported."""

    page: Any
    errors: list[str]
    foreign_requests: list[str]
    shots: Path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for the module (Debian's binary, never a downloaded one)."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go (printed, so a person can look at them)."""
    directory = tmp_path_factory.mktemp("ui_screenshots")
    print(f"\ndashboard screenshots: {directory}")
    return directory


def _session(browser: Any, demo: Demo, key: str, shots: Path) -> Session:
    """A fresh browser context (own sessionStorage) with ``key`` typed into the form once."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    session = Session(page, [], [], shots)
    page.on("pageerror", lambda error: session.errors.append(f"pageerror: {error}"))
    page.on(
        "console",
        lambda message: (
            session.errors.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    page.on(
        "request",
        lambda request: (
            session.foreign_requests.append(request.url)
            if not request.url.startswith((demo.base_url, "data:"))
            else None
        ),
    )
    page.goto(f"{demo.base_url}/ui/")
    page.fill("#key-input", key)
    page.click("#key-form button[type=submit]")
    return session


@pytest.fixture(scope="module")
def browser_session(browser: Any, demo: Demo, shots: Path) -> Iterator[Session]:
    """The dashboard with the admin key entered once, shared by the content tests."""
    session = _session(browser, demo, demo.key, shots)
    session.page.wait_for_selector("#key-panel", state="hidden")
    yield session
    session.page.context.close()


def rendered_after(page: Any, view: str, action: Callable[[], object]) -> None:
    """Run ``action`` (a click, or a navigation within the page) and wait until ``view`` is ready.

    Every view is marked stale first, so "ready" can only mean the render ``action`` started: a
    hash change or a language switch re-renders the same document, and without the mark the
    previous render's ``ready`` answered at once (a full suite run once read the former cards).
    """
    page.evaluate("document.querySelectorAll('.view').forEach(v => { v.dataset.state = 'stale'; })")
    action()
    page.wait_for_selector(f"#view-{view}[data-state=ready]")


def _open(session: Session, demo: Demo, fragment: str, view: str) -> tuple[str, dict[str, Any]]:
    """Navigate to a view and wait until it has loaded.

    Returns the view's text and the JSON of every v1 response the page received, keyed by path
    (query dropped, ``kind=`` kept for recommendations), so checks compare the page with what
    it was actually sent rather than with a second request.
    """
    page = session.page
    received: list[Any] = []

    def record(response: Any) -> None:
        if "/v1/" in response.url and response.status == 200:
            received.append(response)

    page.on("response", record)
    rendered_after(page, view, lambda: page.goto(f"{demo.base_url}/ui/#/{fragment}"))
    page.remove_listener("response", record)
    bodies: dict[str, Any] = {}
    for response in received:
        url = httpx.URL(response.url)
        kind = url.params.get("kind")
        bodies[url.path + (f"?kind={kind}" if kind else "")] = response.json()
    return page.inner_text(f"#view-{view}"), bodies


def test_teacher_view_shows_diagnosis_recommendations_and_path(
    demo: Demo, browser_session: Session
) -> None:
    text, sent = _open(browser_session, demo, f"teacher/{demo.teacher_id}", "teacher")
    page = browser_session.page
    page.screenshot(path=str(browser_session.shots / "teacher_zh.png"), full_page=True)
    base = f"/v1/teachers/{demo.teacher_id}"

    assert page.locator("#view-teacher .error").count() == 0, text
    overview = sent[f"{base}/overview"]
    rows = page.locator("[data-testid=diagnosis] tbody tr")
    assert rows.count() == len(overview["points"]) == 30
    for code in ("A1", "B3", "C4"):
        assert page.locator(f"[data-testid=diagnosis] [data-code={code}]").count() == 1
    # Unverified point names are labelled as such, verified ones (A1) are not.
    assert "未核实" in text
    assert page.locator("[data-testid=diagnosis] [data-code=A1] .tag").count() == 0
    # Plain words: a level per point, the probability only behind the 为什么？ toggle.
    levels = page.locator("[data-testid=diagnosis] [data-level]").evaluate_all(
        "nodes => nodes.map(n => n.dataset.level)"
    )
    assert levels == [row["level"] for row in _framework_order(overview["points"], page)]
    assert "±" not in text and "标准差" not in text and "score" not in text.lower()
    why = page.locator("[data-testid=why]").first
    assert not why.locator("p").is_visible()
    why.locator("summary").click()
    assert "掌握概率" in why.inner_text()

    # Titles with hours, never bare catalog ids, and at most two reasons per item.
    titles = [item["title_zh"] for item in overview["courses"] + overview["tasks"]]
    assert titles and all(title in text for title in titles)
    assert not re.search(r"\b(CRS|TSK)-\d{4}\b", text)
    for cell in page.locator("[data-testid=recommendations] ul.reasons").all():
        assert 1 <= cell.locator("li").count() <= 2

    plan = overview["plan"]
    weeks = page.locator("[data-testid=week]")
    assert weeks.count() == len(plan["weeks"]) > 0
    first = plan["weeks"][0]
    assert (
        f"{int(first['starts_on'][5:7])}月{int(first['starts_on'][8:10])}日"
        in weeks.first.inner_text()
    )
    scheduled = page.locator("[data-testid=path] tbody tr").count()
    assert scheduled == sum(len(week["items"]) for week in plan["weeks"])
    assert page.locator("[data-testid=path-done] tbody tr").count() == len(plan["done"])
    for chart in ("#chart-mastery-bar", "#chart-mastery-radar", "#chart-path"):
        assert page.locator(f"{chart} svg").count() >= 1, chart


def _framework_order(points: list[dict[str, Any]], page: Any) -> list[dict[str, Any]]:
    """The overview's rows in the order the page lists them (framework order, by data-code)."""
    codes = page.locator("[data-testid=diagnosis] tbody tr .point").evaluate_all(
        "nodes => nodes.map(n => n.dataset.code)"
    )
    by_code = {row["point"]: row for row in points}
    return [by_code[code] for code in codes]


def test_school_view_shows_heatmap_targets_and_progress(
    demo: Demo, browser_session: Session
) -> None:
    text, sent = _open(browser_session, demo, f"school/{demo.school_id}", "school")
    page = browser_session.page
    page.screenshot(path=str(browser_session.shots / "school_zh.png"), full_page=True)

    assert page.locator("#view-school .error").count() == 0, page.locator(
        "#view-school .error"
    ).all_inner_texts()
    assert demo.school_id in text
    assert page.locator("#chart-heatmap svg").count() >= 1
    targets = sent[f"/v1/schools/{demo.school_id}/plan"]["targets"]
    assert page.locator("[data-testid=targets] tbody tr").count() == len(targets) > 0
    for code in targets:
        assert page.locator(f"[data-testid=targets] [data-code={code}]").count() == 1
    assert page.locator("[data-testid=progress] tbody tr").count() >= 1
    # The targets name their courses by title and hours, not by catalog id.
    targets_text = page.inner_text("[data-testid=targets]")
    assert not re.search(r"\b(CRS|TSK)-\d{4}\b", targets_text)
    items = sent[f"/v1/schools/{demo.school_id}/plan"]["items"]
    assert items and any(item["title_zh"] in targets_text for item in items.values())
    assert page.locator("#chart-trends svg").count() >= 1
    assert page.locator("[data-testid=trends] tbody tr").count() >= 1


def test_english_switch_relabels_the_page(demo: Demo, browser_session: Session) -> None:
    _open(browser_session, demo, f"teacher/{demo.teacher_id}", "teacher")
    page = browser_session.page
    rendered_after(page, "teacher", lambda: page.click("#lang-switch"))
    page.screenshot(path=str(browser_session.shots / "teacher_en.png"), full_page=True)
    assert page.inner_text("#tab-teacher") == "Teacher"
    assert "unverified" in page.inner_text("#view-teacher")
    page.click("#lang-switch")
    assert page.inner_text("#tab-teacher") == "教师视图"


def test_no_script_errors_and_nothing_fetched_from_elsewhere(browser_session: Session) -> None:
    # Runs after the tests sharing this session: it judges everything they made the page do.
    assert browser_session.errors == []
    assert browser_session.foreign_requests == []


def test_teacher_key_sees_its_teacher_and_no_school_data(
    browser: Any, demo: Demo, shots: Path
) -> None:
    session = _session(browser, demo, demo.teacher_key, shots)
    page = session.page
    text, _ = _open(session, demo, f"teacher/{demo.teacher_id}", "teacher")
    assert page.locator("#view-teacher .error").count() == 0, text
    assert page.locator("[data-testid=diagnosis] tbody tr").count() == 30
    # The school's plan and portrait are outside a teacher key's scope: each card says so
    # (404, no existence leak) instead of breaking the page.
    _open(session, demo, f"school/{demo.school_id}", "school")
    page.screenshot(path=str(shots / "school_with_teacher_key.png"), full_page=True)
    statuses = page.locator("#view-school .error").evaluate_all(
        "nodes => nodes.map(n => n.dataset.status)"
    )
    assert statuses and set(statuses) == {"404"}
    assert [e for e in session.errors if "pageerror" in e] == []
    page.context.close()


def test_wrong_key_is_forgotten_and_asked_for_again(browser: Any, demo: Demo, shots: Path) -> None:
    session = _session(browser, demo, "nl_0000000000000000_not-a-real-key", shots)
    page = session.page
    page.goto(f"{demo.base_url}/ui/#/teacher/{demo.teacher_id}")
    page.wait_for_selector("#view-teacher[data-state=ready]")
    page.wait_for_selector("#banner:not([hidden])")
    assert "密钥无效" in page.inner_text("#banner")
    assert page.locator("#key-panel").is_visible()
    assert page.evaluate("sessionStorage.getItem('nengli.apiKey')") is None
    page.context.close()
