"""What a password a person chooses must be (the plan's `portal:` section; 等保 level 3, ASVS 2.1): long
enough, of three kinds of characters or a long passphrase, not guessable by a strength estimate (zxcvbn:
keyboard walks, repeats, common passwords, dates) and not made of the person's login, name (also in
pinyin), unit or the programme. Not one of their last passwords: accounts.change_password checks that."""

from __future__ import annotations

from pypinyin import lazy_pinyin
from zxcvbn import zxcvbn

from duban.plan import Plan

PASSWORD_MAX = 128
ESTIMATED = 64  # zxcvbn's time grows with the length: beyond this many characters it is not needed
CLASSES = (str.islower, str.isupper, str.isdigit)


class PasswordRefused(ValueError):
    """Why, in Chinese."""


def check_length(plan: Plan, password: str) -> None:
    minimum = plan.portal.password_min_length
    if len(password) < minimum:
        raise PasswordRefused(f"密码至少{minimum}个字符")
    if len(password) > PASSWORD_MAX:
        raise PasswordRefused(f"密码不能超过{PASSWORD_MAX}个字符")


def check_chosen(plan: Plan, password: str, *, login: str, name: str, unit: str) -> None:
    """A password the person chose (an initial one set by the Office is changed at the first sign-in)."""
    rules = plan.portal
    check_length(plan, password)
    kinds = sum(any(test(c) for c in password) for test in CLASSES) + any(not c.isalnum() for c in password)
    if kinds < rules.password_classes and len(password) < rules.passphrase_length:
        raise PasswordRefused(
            f"密码须包含大写字母、小写字母、数字、其他字符中的至少{rules.password_classes}类"
            f"（或使用不少于{rules.passphrase_length}个字符的口令短语）"
        )
    personal = _personal(login, name, unit, plan)
    lowered = password.lower()
    if any(word in lowered for word in personal if len(word) >= 2):
        raise PasswordRefused("密码不能包含登录名、姓名（含拼音）、单位名称或方案名称")
    if len(password) <= ESTIMATED and zxcvbn(password, user_inputs=personal)["score"] < rules.password_min_score:
        raise PasswordRefused("密码容易被猜中（键盘连续字符、重复字符、常见密码、日期或常用词），请另设")


def _personal(login: str, name: str, unit: str, plan: Plan) -> list[str]:
    programme = plan.programme
    words = {login, name, "".join(lazy_pinyin(name)), unit, "".join(lazy_pinyin(unit))}
    words |= {programme.code, programme.title, programme.district}
    return sorted(w.lower() for w in words if w)
