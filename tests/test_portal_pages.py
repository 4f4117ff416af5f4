"""Every page type, for every role, on a phone and on an office PC: nothing beyond the screen's right edge,
no sideways scroll, no serious or critical axe-core finding, no raw code in the text, touch-sized targets
on the phone; and a few pages at 200 % zoom.

The pages are data, found as a person finds them: from 待办 (or 总览), every link of the menu and the
header, then the first link of each new kind on those pages, three levels deep. A page's kind is its
path with the variable parts named (`/items/{code}`), so a new page is walked as soon as a menu or a list
links to it. A few pages are named besides, to be sure they are walked (an item with evidence, 修改密码,
帮助): each is walked if the role may open it (a 404 for another unit's item is the right answer).

The rules, as checked (each failure names the role, the size, the page, the element and the rule):
- geometry: no visible link, button or field whose box ends right of the viewport, and the document no
  wider than the viewport (`scrollWidth <= clientWidth`);
- axe-core (axe-playwright-python): no violation of impact serious or critical, on every page kind for
  every role on the phone, and on each kind once on the desktop (the markup is the same at both sizes);
- raw words: in the page's title, `document.body.innerText`, the options of its lists and the fields'
  placeholders, after removing what is data (logins, e-mail addresses, URLs, file names and a format
  named by its extension, `.xlsx`), no lowercase ASCII word (a code such as open, in_progress, sent,
  email, draft), none of None/True/False, no ISO month before 月 (2022-06月);
- touch (phone only): buttons, link-buttons (`a.button`), `summary`, menu, header and pager links, form
  fields at least 44x44 px (a checkbox or radio: its label at least 44 px tall); a link standing alone in
  its table cell, list item, description or paragraph at least 44 px tall; links inside running text are
  exempt (WCAG 2.5.8's inline exception), as are links a cell or list item shares with other words;
- charts: every label of an SVG chart drawn at 12 px or more and inside the chart's box;
- every page linked answers 200 (a link to a page the reader may not open is a defect of the page).
Screenshots of every page go to $DUBAN_SCREENSHOTS/pages (else a temporary folder); the failures also go,
as JSON, to failures-<role>-<size>.json there.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import portal_state
import pytest
from axe_playwright_python.base import AXE_SCRIPT
from axe_playwright_python.sync_playwright import Axe
from conftest import PLAN
from playwright.sync_api import Browser, BrowserContext, Page
from portal import PASSWORD, quick_home, running_portal
from test_portal_browser import SHOTS, device, press

from duban import glossary
from duban.plan import load_plan
from duban.signin import accounts

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 1}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}
ZOOMED = {"viewport": {"width": 683, "height": 384}, "device_scale_factor": 2}  # 1366x768 at 200 %
SIZES = {"phone": PHONE, "desktop": DESKTOP}
PAGES = SHOTS / "pages"
DEPTH = 3
# A page's kind: the first pattern its path matches; any other path is its own kind (digits as N).
KINDS = [
    (r"/", "待办"),
    (r"/dashboard", "总览"),
    (r"/items", "问题清单"),
    (r"/items/[^/]+", "问题"),
    (r"/reports", "月度报送"),
    (r"/reports/\d{4}-\d{2}", "报送"),
    (r"/reports/\d{4}-\d{2}/[^/]+", "报表审核"),
    (r"/campaigns", "专项督导"),
    (r"/campaigns/new", "发起专项督导"),
    (r"/campaigns/\d+", "专项督导详情"),
    (r"/projects", "项目联审"),
    (r"/projects/[^/]+", "项目"),
    (r"/deliverables", "长效机制文件"),
    (r"/ledger/import", "台账导入"),
    (r"/outbox", "消息"),
    (r"/bulletins", "通报"),
    (r"/accounts", "账号"),
    (r"/security", "安全管理"),
    (r"/audit", "审计日志"),
    (r"/account/password", "修改密码"),
    (r"/account/second-factor", "动态口令"),
    (r"/help", "帮助"),
    (r"/notices", "通知"),
    (r"/notices/sign-all", "全部签收"),
    (r"/notices/escalation/.+", "督办通知"),
    (r"/notices/.+", "通知详情"),
    (r"/supervised", "被督办事项"),
    (r"/items/[^/]+/return", "退回整改"),
]
# Named besides the menu's links (each walked when the role may open it).
NAMED = {
    "/items/PT2022-0001": "问题（含佐证材料）",
    "/items/PT2022-0002": "问题（已销号）",
    "/projects/XM2022-002": "项目（已退回）",
    "/account/password": "修改密码",
    "/help": "帮助",
}
OWN_ACCOUNT = ("/account/password", "/help")  # all the three administrators reach besides their own page
NOT_PAGES = re.compile(r"^/(logout|static/)|/evidence/|/file$|\.[A-Za-z0-9]{2,5}$|/bulletins/\d+/|/export")
# What each role must at least find (others' new pages add to these).
EXPECTED = {
    "cg-clerk": {"帮助", "待办", "问题清单", "问题", "问题（含佐证材料）", "月度报送", "报送", "专项督导",
                 "专项督导详情", "项目联审", "项目", "长效机制文件", "修改密码"},
    "mz-reviewer": {"帮助", "待办", "问题清单", "问题", "问题（含佐证材料）", "月度报送", "报送", "报表审核",
                    "专项督导", "项目联审", "项目", "长效机制文件", "修改密码"},
    "pt-staff": {"帮助", "待办", "总览", "问题清单", "问题", "问题（含佐证材料）", "月度报送", "报送", "报表审核",
                 "专项督导", "专项督导详情", "发起专项督导", "项目联审", "项目", "长效机制文件", "台账导入", "消息",
                 "通报", "修改密码"},
    "pt-admin": {"账号", "帮助", "修改密码", "动态口令"},
    "pt-sec": {"安全管理", "帮助", "修改密码", "动态口令"},
    "pt-audit": {"审计日志", "帮助", "修改密码", "动态口令"},
    "qz-leader": {"帮助", "总览", "问题清单", "问题", "问题（含佐证材料）", "项目联审", "项目", "长效机制文件", "通报",
                  "修改密码"},
}  # fmt: skip

# -- what the browser measures -------------------------------------------------------------------------

CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]"
GEOMETRY = """(sel) => {
  const vw = document.documentElement.clientWidth;
  const out = {vw, scroll: document.documentElement.scrollWidth, beyond: []};
  for (const el of document.querySelectorAll(sel)) {
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right + window.scrollX > vw + 0.5) out.beyond.push(describe(el) + ` right=${Math.round(r.right)}`);
  }
  return out;
  function describe(el) {
    const text = (el.getAttribute('aria-label') || el.innerText || el.value || el.name || '').trim().slice(0, 30);
    const classes = el.className ? '.' + String(el.className).replace(/ /g, '.') : '';
    return `<${el.tagName.toLowerCase()}${classes}> "${text}"`;
  }
}"""
TOUCH = """() => {
  const big = 'button, input[type=submit], input[type=button], input[type=reset], a.button, [role=button], summary, '
    + 'nav a, header a, .pager a, select, textarea, input:not([type]), input[type=text], input[type=date], '
    + 'input[type=number], input[type=password], input[type=email], input[type=search], input[type=file], '
    + 'input[type=month], input[type=tel]';
  const small = [];
  const shown = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
    && el.getBoundingClientRect().width > 0;
  const describe = (el, r) => {
    const text = (el.getAttribute('aria-label') || el.innerText || el.value || el.name || '').trim().slice(0, 30);
    return `<${el.tagName.toLowerCase()}> "${text}" ${Math.round(r.width)}x${Math.round(r.height)}`;
  };
  for (const el of document.querySelectorAll(big)) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 43.5 || r.height < 43.5) small.push(describe(el, r) + ' (44x44)');
  }
  for (const el of document.querySelectorAll('input[type=checkbox], input[type=radio]')) {
    if (!shown(el)) continue;
    const target = el.closest('label') || el;
    const r = target.getBoundingClientRect();
    if (r.height < 43.5) small.push(describe(target, r) + ' (label 44 tall)');
  }
  for (const el of document.querySelectorAll('main a[href]')) {
    if (!shown(el) || el.matches(big)) continue;
    const parent = el.parentElement;
    if (!parent.matches('td, li, dd, p')) continue;
    if (parent.innerText.trim() !== el.innerText.trim()) continue;  // shares its block with words: inline
    const r = el.getBoundingClientRect();
    if (r.height < 43.5) small.push(describe(el, r) + ' (alone in its block: 44 tall)');
  }
  return small;
}"""
CHARTS = """() => [...document.querySelectorAll('svg text')].filter(t => t.checkVisibility()).flatMap(t => {
  const scale = Math.hypot(t.getScreenCTM().a, t.getScreenCTM().b);
  const size = parseFloat(getComputedStyle(t).fontSize) * scale;
  const r = t.getBoundingClientRect(), box = t.ownerSVGElement.getBoundingClientRect();
  const found = [];
  if (size < 11.95) found.push(`"${t.textContent}" drawn at ${size.toFixed(1)} px (12)`);
  if (r.right > box.right + 0.5 || r.left < box.left - 0.5) found.push(`"${t.textContent}" cut at the chart's edge`);
  return found;
})"""
TEXT = """() => [document.title, document.body.innerText,
  ...[...document.querySelectorAll('option')].map(o => o.text),
  ...[...document.querySelectorAll('[placeholder]')].map(e => e.placeholder)].join('\\n')"""
LINKS = """() => [...document.querySelectorAll('header a[href], nav a[href], main a[href]')]
  .filter(a => !a.hasAttribute('download') && a.target !== '_blank')
  .map(a => a.href)"""


def raw_words(text: str) -> list[str]:
    """The raw codes a person should never read: lowercase ASCII words, None/True/False, 2022-06月."""
    for data in (EMAIL, URL, FILENAME, LOGINS):
        text = data.sub(" ", text)
    found = [m.group(0) for m in WORD.finditer(text)]
    found += [m.group(0) for m in MONTH_CODE.finditer(text)]
    return sorted(set(found))


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"https?://\S+")
FILENAME = re.compile(r"[^\s/\\：:（）()，、]*\.(?:pdf|docx?|xlsx?|txt|png|jpe?g|html?|md|csv|zip)\b", re.I)
LOGINS = re.compile("|".join(re.escape(login) for login in portal_state.ACCOUNTS))
WORD = re.compile(r"(?<![A-Za-z0-9_])(?:[a-z][a-z_]+|None|True|False)(?![A-Za-z0-9_])")
MONTH_CODE = re.compile(r"\d{4}-\d{2}月")


def codes_of_duban() -> set[str]:
    """Every code a label stands for (the glossary's keys, the plan's category, stage and gate codes):
    what the word rule above must catch; checked once below so the rule is known to cover them."""
    tables = [table for name, table in vars(glossary).items() if name.isupper() and isinstance(table, dict)]
    codes = {code for table in tables for code in table if isinstance(code, str)}
    plan, _ = load_plan(PLAN)
    codes |= {c.code for c in plan.categories} | {s.code for s in plan.stages}
    codes |= {g.code for g in plan.mechanism.gates}
    return codes


def test_the_raw_word_rule_catches_every_code_of_duban() -> None:
    codes = codes_of_duban()
    assert {"open", "in_progress", "close_requested", "queued", "email", "file", "draft", "accepted"} <= codes
    for code in sorted(codes):
        assert raw_words(f"状态：{code}。") == [code], code
    assert raw_words("2022-06月报 None True False") == ["2022-06月", "False", "None", "True"]
    allowed = "PDF、Word、Excel 文件（.xlsx 或 .csv） a@b.cn http://x.cn/a_b 印发文件.pdf cg-clerk 2022年6月"
    assert raw_words(allowed) == []


# -- the programme, the portal, and one person walking it ----------------------------------------------


@dataclass
class Site:
    base: str
    portal: object


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("portal-pages")
    with quick_home(workdir / "home"):
        portal_state.build(workdir / "home", workdir)
        with running_portal(portal_state.DAY) as portal:
            try:
                yield Site(str(portal), portal)
            finally:
                accounts._dummy.cache_clear()


@dataclass
class Walk:
    role: str
    size: str
    found: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (rule, element) -> pages
    kinds: dict[str, str] = field(default_factory=dict)  # kind -> path walked
    seconds: dict[str, float] = field(default_factory=dict)  # where the time went: load, checks, axe, shots

    def took(self, phase: str, since: float) -> float:
        now = time.monotonic()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - since
        return now

    def fail(self, kind: str, path: str, rule: str, detail: str) -> None:
        self.found.setdefault((rule, detail), []).append(f"{kind} {path}")

    @property
    def failures(self) -> list[str]:
        """One line a rule and element, with the pages it was found on (the menu's are on every page)."""
        return [
            f"{self.role} · {self.size} · {rule}: {detail} · on {'、'.join(pages)}"
            for (rule, detail), pages in self.found.items()
        ]


def kind_of(path: str) -> str:
    for pattern, name in KINDS:
        if re.fullmatch(pattern, path):
            return name
    return re.sub(r"\d+", "N", path)


def signed_in(page: Page, base: str, login: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("登录名").fill(login)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    press(page, page.get_by_role("button", name="登录"))
    assert urlsplit(page.url).path != "/login", f"{login} could not sign in"


def walk(page: Page, base: str, walk: Walk, *, touch: bool, axe: set[str] | None, shots: bool = True) -> None:
    """Breadth first from the landing page: each new kind of page once, checked where it stands. `axe`: the
    kinds axe-core has read already at this size and need not read again (None: no axe at all)."""
    landing = urlsplit(page.url).path
    queue: list[tuple[str, int, str | None, str]] = [(landing, 0, None, "")]  # (link, depth, name, linked from)
    duty = portal_state.ACCOUNTS[walk.role][1] in accounts.DUTIES
    named = {p: n for p, n in NAMED.items() if p in OWN_ACCOUNT} if duty else NAMED
    queue += [(path, DEPTH - 1, name, "") for path, name in named.items()]  # and what they link to
    seen: set[str] = set()
    while queue:
        target, depth, named, source = queue.pop(0)
        kind = named or kind_of(urlsplit(target).path)
        if kind in seen:
            continue
        seen.add(kind)
        url = base + target if target.startswith("/") else target
        if named and page.request.get(url, max_redirects=0).status == 404:
            continue  # another unit's item, or a page not (yet) there: asked aside, not in the page's console
        started = time.monotonic()
        response = page.goto(url)
        walk.took("load", started)
        if response is None:
            continue
        path = urlsplit(page.url).path
        if response.status != 200:
            walk.fail(kind, path, "status", f"{response.status} (linked from {source or 'the walk'})")
            continue
        if named is None and kind_of(path) != kind:  # redirected (the leader's 待办 is 总览)
            kind = kind_of(path)
            if kind in walk.kinds:
                continue
            seen.add(kind)
        walk.kinds[kind] = path
        check(page, walk, kind, path, touch=touch, axe=axe is not None and kind not in axe, shots=shots)
        if axe is not None and walk.size != "phone":
            axe.add(kind)
        if depth < DEPTH:
            for href in page.evaluate(LINKS):
                parts = urlsplit(href)
                if parts.netloc != urlsplit(base).netloc or NOT_PAGES.search(parts.path):
                    continue
                link = parts.path + (f"?{parts.query}" if parts.query else "")
                if kind_of(parts.path) not in seen:
                    queue.append((link, depth + 1, None, path))


def check(page: Page, walk: Walk, kind: str, path: str, *, touch: bool, axe: bool, shots: bool) -> None:
    started = time.monotonic()
    geometry = page.evaluate(GEOMETRY, CONTROLS)
    if geometry["scroll"] > geometry["vw"]:
        walk.fail(kind, path, "sideways scroll", f"scrollWidth {geometry['scroll']} > {geometry['vw']}")
    for element in geometry["beyond"]:
        walk.fail(kind, path, "beyond the right edge", element)
    for label in page.evaluate(CHARTS):
        walk.fail(kind, path, "chart label", label)
    words = raw_words(page.evaluate(TEXT))
    if words:
        walk.fail(kind, path, "raw words", " ".join(words))
    if touch:
        for element in page.evaluate(TOUCH):
            walk.fail(kind, path, "touch target", element)
    started = walk.took("checks", started)
    if axe:
        if not page.evaluate("typeof axe !== 'undefined'"):  # a desktop page: not in every page there
            page.evaluate(AXE_SCRIPT)
        for violation in AXE.run(page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = "; ".join(" ".join(n["target"]) for n in violation["nodes"][:3])
                walk.fail(
                    kind,
                    path,
                    f"axe {violation['id']} ({violation['impact']})",
                    f"{len(violation['nodes'])}x {targets}",
                )
    started = walk.took("axe", started)
    if shots:
        PAGES.mkdir(parents=True, exist_ok=True)
        name = f"{walk.role}-{walk.size}-{kind.replace('/', '_')}.png"
        page.screenshot(path=str(PAGES / name), full_page=walk.size == "phone")
        walk.took("shots", started)


# axe-core reads every page kind for every role on the phone, and each kind once on the desktop: the page's
# markup is the same at both sizes (only the style sheet's layout differs), the phone's holds every role's.
AXED: dict[str, set[str]] = {"phone": set(), "desktop": set()}  # kinds read once already (the desktop's only)
AXE = Axe(axe_script="void 0")  # axe-core itself is in every page already: an init script of the context


def report(walk: Walk) -> None:
    PAGES.mkdir(parents=True, exist_ok=True)
    (PAGES / f"failures-{walk.role}-{walk.size}.json").write_text(
        json.dumps({"kinds": walk.kinds, "failures": walk.failures}, ensure_ascii=False, indent=1), encoding="utf-8"
    )


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("role", list(portal_state.ACCOUNTS))
def test_every_page_for_every_role(
    site: Site, browser: Browser, people: list[BrowserContext], role: str, size: str
) -> None:
    started = time.monotonic()
    page = device(browser, people, SIZES[size])
    if size == "phone":  # axe-core reads every page there: in each page from the start, rather than evaluated
        page.context.add_init_script(AXE_SCRIPT)  # anew in each (0.2 s a page); on the desktop, in the few it reads
    signed_in(page, site.base, role)
    walked = Walk(role, size)
    walk(page, site.base, walked, touch=size == "phone", axe=AXED[size])
    report(walked)
    missing = EXPECTED.get(role, set()) - set(walked.kinds)
    assert not missing, f"{role} did not find {sorted(missing)} (found {sorted(walked.kinds)})"
    spent = ", ".join(f"{phase} {seconds:.1f}" for phase, seconds in walked.seconds.items())
    print(f"{role} {size}: {len(walked.kinds)} pages in {time.monotonic() - started:.1f} s ({spent})")
    assert not walked.failures, "\n".join(walked.failures)


@pytest.mark.parametrize("role", ["cg-clerk", "pt-staff"])
def test_every_page_at_200_percent_zoom(site: Site, browser: Browser, people: list[BrowserContext], role: str) -> None:
    """1366x768 at 200 %: a 683 px wide CSS viewport; nothing beyond its edge, nothing scrolls sideways."""
    page = device(browser, people, ZOOMED)
    signed_in(page, site.base, role)
    walked = Walk(role, "zoom200")
    walk(page, site.base, walked, touch=False, axe=None)
    report(walked)
    assert not walked.failures, "\n".join(walked.failures)


PRINTED = """() => {
  const shown = (el) => el.checkVisibility();
  return {
    chrome: [...document.querySelectorAll('header, nav, footer, form, button, .button')].filter(shown).length,
    heads: [...document.querySelectorAll('thead')].map(t => getComputedStyle(t).display),
    cells: [...document.querySelectorAll('main tbody td')].slice(0, 5).map(t => getComputedStyle(t).display),
    rows: document.querySelectorAll('main tbody tr').length,
  };
}"""


@pytest.mark.parametrize("path", ["/items", "/projects", "/outbox"])
def test_a_list_prints_on_a4(site: Site, browser: Browser, people: list[BrowserContext], path: str) -> None:
    """Printed, a list is its content: no menu, header, footer, form or button; a table (not the phone's
    cards, though A4 is narrow) with its header on every page; A4 (595x842 points)."""
    page = device(browser, people, DESKTOP)
    signed_in(page, site.base, "pt-staff")
    page.goto(site.base + path)
    page.set_viewport_size({"width": 680, "height": 962})  # A4 less 15 mm margins, as print lays it out
    page.emulate_media(media="print")
    printed = page.evaluate(PRINTED)
    assert printed["chrome"] == 0 and printed["rows"] > 0
    assert set(printed["heads"]) == {"table-header-group"} and set(printed["cells"]) == {"table-cell"}
    pdf = page.pdf(prefer_css_page_size=True)
    PAGES.mkdir(parents=True, exist_ok=True)
    (PAGES / f"print{path.replace('/', '-')}.pdf").write_bytes(pdf)
    boxes = {tuple(round(float(n)) for n in box.split()) for box in re.findall(rb"/MediaBox \[([\d. ]+)\]", pdf)}
    assert boxes == {(0, 0, 595, 842)}


FOCUSED = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return [el.tagName.toLowerCase() + ' ' + (el.innerText || el.name || '').trim().slice(0, 20),
          style.outlineStyle, parseFloat(style.outlineWidth)];
}"""


def test_the_keyboard_focus_is_visible(site: Site, browser: Browser, people: list[BrowserContext]) -> None:
    """Tabbing through a page, each link, button and field in turn shows a 3 px outline."""
    page = device(browser, people, DESKTOP)
    signed_in(page, site.base, "cg-clerk")
    page.goto(site.base + "/items")
    seen = []
    for _ in range(25):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(FOCUSED))
    assert len({name for name, _, _ in seen}) > 15
    assert [s for s in seen if s[1] == "none" or s[2] < 3] == []
