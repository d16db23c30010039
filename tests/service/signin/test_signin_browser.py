"""Sign-in in a real browser: Chromium → nengli's dashboard → a real OIDC provider → back.

The demo province, model and server come from the dashboard browser test's helpers; the
provider is oidc-provider with accounts for one teacher and that teacher's principal. The test
signs in as each, checks that the dashboard opens their own view without any key typed, in
Chinese and English, and signs out. Screenshots are saved under the test's temporary directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.service.api import test_ui_browser as ui
from tests.service.signin.conftest import demo_server, run_provider

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class SignInDemo:
    base_url: str
    teacher_id: str
    school_id: str
    region: str


@pytest.fixture(scope="module")
def signin_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignInDemo]:
    with demo_server(tmp_path_factory.mktemp("signin_demo")) as demo:
        base_url = demo.base_url
        accounts: dict[str, dict[str, object]] = {
            "zhang.teacher": {"nengli_role": "教师", "teacher_id": demo.teacher_id},
            "li.principal": {"nengli_role": "学校管理员", "school_id": demo.school_id},
            "wang.province": {"nengli_role": "省级管理员", "region": demo.region},
        }
        with run_provider(demo.root, demo.provider_port, [f"{base_url}/auth/callback"], accounts):
            yield SignInDemo(base_url, demo.teacher_id, demo.school_id, demo.region)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with ui.sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(ui.CHROMIUM), args=ui.CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("signin_screenshots")
    print(f"\nsign-in screenshots: {directory}")
    return directory


def _sign_in(browser: Any, demo: SignInDemo, login: str, shots: Path) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(ui.TIMEOUT_MS)
    page.goto(f"{demo.base_url}/ui/")
    page.wait_for_selector("#signin-box:not([hidden])")
    assert page.locator("#key-panel").is_visible()  # the key form stays for platforms
    page.screenshot(path=str(shots / "signin_offered.png"))
    page.click("#signin-link")
    page.wait_for_selector("input[name=login]")  # the provider's own login page
    assert not page.url.startswith(demo.base_url)
    page.screenshot(path=str(shots / f"provider_login_{login}.png"))
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any")
    page.click("button[type=submit]")
    page.wait_for_url(f"{demo.base_url}/ui/**")
    return page


def test_a_teacher_signs_in_and_lands_on_their_own_view(
    browser: Any, signin_demo: SignInDemo, shots: Path
) -> None:
    page = _sign_in(browser, signin_demo, "zhang.teacher", shots)
    page.wait_for_selector("#view-teacher[data-state=ready]")
    assert page.url.endswith(f"#/teacher/{signin_demo.teacher_id}")
    assert page.locator("#key-panel").is_hidden()
    assert page.locator("#signin-box").is_hidden()
    status = page.inner_text("#key-status")
    assert "已登录" in status and signin_demo.teacher_id in status
    assert page.locator("#view-teacher .error").count() == 0
    assert page.locator("[data-testid=diagnosis] tbody tr").count() == 30
    page.screenshot(path=str(shots / "teacher_signed_in_zh.png"), full_page=True)
    ui.rendered_after(page, "teacher", lambda: page.click("#lang-switch"))
    assert "signed in" in page.inner_text("#key-status")
    page.screenshot(path=str(shots / "teacher_signed_in_en.png"), full_page=True)
    ui.rendered_after(page, "teacher", lambda: page.click("#lang-switch"))
    # Another teacher is outside the session's scope: the cards say 404, nothing leaks.
    ui.rendered_after(
        page, "teacher", lambda: page.goto(f"{signin_demo.base_url}/ui/#/teacher/T9999999")
    )
    statuses = page.locator("#view-teacher .error").evaluate_all(
        "nodes => nodes.map(n => n.dataset.status)"
    )
    assert statuses and set(statuses) == {"404"}
    page.click("#signout")
    page.wait_for_selector("#signin-box:not([hidden])")
    assert page.evaluate("fetch('/v1/me').then(r => r.status)") == 401
    page.context.close()


def test_a_principal_signs_in_and_lands_on_the_school_view(
    browser: Any, signin_demo: SignInDemo, shots: Path
) -> None:
    page = _sign_in(browser, signin_demo, "li.principal", shots)
    page.wait_for_selector("#view-school[data-state=ready]")
    assert page.url.endswith(f"#/school/{signin_demo.school_id}")
    # Loaded once: the school line is not repeated by a second, concurrent load.
    assert page.inner_text("#school-summary").count(signin_demo.school_id) == 1
    assert page.locator("#view-school .error").count() == 0, page.inner_text("#view-school")
    # The school's own progress, by 教研组 and with the 未达标名单 (not the whole region's).
    assert page.locator("[data-testid=progress-groups] tbody tr").count() >= 1
    assert page.locator("#chart-heatmap svg").count() >= 1
    page.screenshot(path=str(shots / "school_signed_in_zh.png"), full_page=True)
    page.context.close()


def test_a_province_office_drills_down_from_region_to_school(
    browser: Any, signin_demo: SignInDemo, shots: Path
) -> None:
    page = _sign_in(browser, signin_demo, "wang.province", shots)
    page.wait_for_selector("#view-region[data-state=ready]")
    rows = page.locator("[data-testid=region-breakdown] tbody tr")
    assert rows.count() >= 1 and page.locator("#view-region .error").count() == 0
    page.screenshot(path=str(shots / "region_cities_zh.png"), full_page=True)
    for level in ("district", "school"):
        page.evaluate("document.getElementById('view-region').dataset.state = 'stale'")
        page.locator("[data-testid=region-breakdown] tbody tr a").first.click()
        page.wait_for_selector("#view-region[data-state=ready]")
        assert f"level={level}" in page.url
        assert page.locator("[data-testid=region-breakdown] tbody tr").count() >= 1
    page.screenshot(path=str(shots / "region_schools_zh.png"), full_page=True)
    page.locator("[data-testid=region-breakdown] tbody tr a").first.click()
    page.wait_for_selector("#view-school[data-state=ready]")
    assert page.locator("#view-school .error").count() == 0, page.inner_text("#view-school")
    page.context.close()
