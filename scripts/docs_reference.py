"""The manual's reference, written from the code before `mkdocs build` (`make docs` runs it):

- every key of the plan file, from the plan's schema (duban/plan.py): type, default and meaning (the
  Field's description, else the comment beside or above it in plan.py);
- every environment variable duban reads (duban/config.py ENVIRONMENT);
- every command of `duban` (the click CLI: names, options, help);
- the 用户手册 of each role, from the same file the portal's /help shows (duban/web/help/guides.yaml).

Why generated: a reference written by hand drifts from the code; this one cannot, and
tests/test_docs_reference.py holds it to the code. The pages it writes are not committed (.gitignore).

    .venv/bin/python scripts/docs_reference.py [DOCS_DIR]
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
import types
import typing
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PLAN = ROOT / "plans" / "community-facilities-2022.yaml"
GENERATED = ("reference/plan-keys.md", "reference/environment.md", "reference/commands.md")


# -- the plan's keys ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One key of the plan file: where it sits (`chain.townships[].name`), its type, default and meaning."""

    path: str
    type: str
    default: str
    meaning: str


def _comments(source: Path) -> dict[tuple[str, str], str]:
    """(class, field) -> the comment beside the field's line, else the comment lines just above it."""
    text = source.read_text(encoding="utf-8")
    trailing: dict[int, str] = {}
    alone: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            line = token.start[0]
            body = token.string.lstrip("#").strip()
            if token.line.strip().startswith("#"):
                alone[line] = body
            else:
                trailing[line] = body
    found: dict[tuple[str, str], str] = {}
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                above, line = [], item.lineno - 1
                while line in alone:
                    above.insert(0, alone[line])
                    line -= 1
                said = trailing.get(item.lineno) or trailing.get(item.end_lineno or item.lineno) or " ".join(above)
                if said:
                    found[(node.name, item.target.id)] = said
    return found


def _type_name(annotation: Any) -> str:
    """The annotation as a reader of YAML needs it: list of X, one of "a"/"b", a section."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" or null" if type(None) in args else "")
    if origin in (tuple, list):
        if origin is tuple and len(args) == 2 and args[1] is not Ellipsis:
            return f"[{_type_name(args[0])}, {_type_name(args[1])}]"
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"mapping of {_type_name(args[0])} to {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section" if annotation.__name__ not in _LIST_ITEMS else "entry"
    if origin is not None and typing.get_origin(origin) is typing.Literal:  # an alias of a Literal
        return _type_name(origin)
    names = {str: "text", int: "integer", bool: "true/false", date: "date (YYYY-MM-DD)", Decimal: "number"}
    if annotation in names:
        return names[annotation]
    alias = getattr(annotation, "__value__", None)  # `type X = Literal[...]`
    return _type_name(alias) if alias is not None else getattr(annotation, "__name__", str(annotation))


_LIST_ITEMS: set[str] = set()


def _shown(value: Any) -> str:
    """A default as it would be written in the YAML."""
    if isinstance(value, BaseModel):
        return "(its keys' defaults)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value is None:
        return "`null`"
    if isinstance(value, tuple | list):
        return "`[" + ", ".join(_shown(v).strip("`") for v in value) + "]`"
    if isinstance(value, dict):
        return "`{}`" if not value else f"`{value}`"
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""`'
    return f"`{value}`"


def _models(annotation: Any) -> list[tuple[type[BaseModel], bool]]:
    """The sections inside an annotation, and whether each is a list's entries."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, False)]
    if origin in (tuple, list):
        return [(model, True) for arg in args if arg is not Ellipsis for model, _ in _models(arg)]
    if origin in (typing.Union, types.UnionType):
        return [found for arg in args for found in _models(arg)]
    return []


def _owner(model: type[BaseModel], name: str) -> str:
    """The class that declares the field (a township's `name` is declared by Unit)."""
    for cls in model.__mro__:
        if name in getattr(cls, "__annotations__", {}):
            return cls.__name__
    return model.__name__


def plan_keys() -> list[Key]:
    """Every key of the plan's schema, depth first in the schema's order."""
    from duban import plan as schema

    comments = _comments(Path(schema.__file__))
    keys: list[Key] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            path = f"{prefix}{name}"
            inner = _models(field.annotation)
            listed = any(is_list for _, is_list in inner)
            for sub, _ in inner:
                if listed:
                    _LIST_ITEMS.add(sub.__name__)
            if field.is_required():
                default = "required"
            elif field.default_factory is not None:
                default = _shown(field.default_factory())
            else:
                default = _shown(field.default if field.default is not PydanticUndefined else None)
            meaning = field.description or comments.get((_owner(model, name), name), "")
            if not meaning and len(inner) == 1:
                meaning = " ".join((inner[0][0].__doc__ or "").split())
            keys.append(Key(path, _type_name(field.annotation), default, meaning))
            several = len(inner) > 1
            for sub, is_list in inner:
                tag = f" ({_variant(sub)})" if several else ""
                walk(sub, f"{path}{'[]' if is_list else ''}{tag}.")

    walk(schema.Plan, "")
    return keys


def _variant(model: type[BaseModel]) -> str:
    """A union's member named by its `type` literal (email, wecom, wecom_app), else its class."""
    kind = model.model_fields.get("type")
    if kind is not None and typing.get_origin(kind.annotation) is typing.Literal:
        return f"type: {typing.get_args(kind.annotation)[0]}"
    return model.__name__


def plan_page() -> str:
    lines = [
        "# Plan keys",
        "",
        "Every key of the plan file (`plans/*.yaml`), written by `make docs` from the plan's schema",
        "(`duban/plan.py`): do not edit this page. `[]` marks a list's entries; a key marked required must be",
        "written, the others take the default shown. What each section is for, and the sample plan's values:",
        "[The plan file](plan-file.md).",
        "",
    ]
    section = None
    for key in plan_keys():
        top = key.path.split(".")[0].split("[")[0]
        if top != section:
            section = top
            lines += ["", f"## `{top}`", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        lines.append(f"| `{key.path}` | {key.type} | {key.default} | {_cell(key.meaning)} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# -- the environment ------------------------------------------------------------------------------------------


def environment_page() -> str:
    from duban.config import ENVIRONMENT

    lines = [
        "# Environment variables",
        "",
        "Every environment variable duban reads, written by `make docs` from `duban/config.py` (`ENVIRONMENT`),",
        "which a test holds to the source: do not edit this page. Machine settings live here; the programme's",
        "rules live in the plan file. Besides these, each WeCom group bot's webhook key is in a variable the plan",
        "names (`key_env: DUBAN_WECOM_…` in a contact's channels), so that no secret is written in the plan.",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name, (default, meaning) in ENVIRONMENT.items():
        lines.append(f"| `{name}` | {_cell(default)} | {_cell(meaning)} |")
    return "\n".join(lines) + "\n"


# -- the commands ---------------------------------------------------------------------------------------------


def commands() -> list[tuple[str, click.Command, click.Context]]:
    """(`duban ledger import`, the command, its context) for every command and group, depth first."""
    from duban.cli import main

    found: list[tuple[str, click.Command, click.Context]] = []

    def walk(command: click.Command, name: str, parent: click.Context | None) -> None:
        ctx = click.Context(command, info_name=name.split()[-1], parent=parent)
        found.append((name, command, ctx))
        if isinstance(command, click.Group):
            for sub in command.list_commands(ctx):
                child = command.get_command(ctx, sub)
                if child is not None and not child.hidden:
                    walk(child, f"{name} {sub}", ctx)

    walk(main, "duban", None)
    return found


def commands_page() -> str:
    lines = [
        "# Commands",
        "",
        "Every command of `duban`, written by `make docs` from the CLI itself (`duban.cli.main`, click): what",
        "`duban COMMAND --help` prints. Do not edit this page. How the Office uses them: the pages of",
        "[How the Office runs the programme](../operator/index.md).",
        "",
    ]
    for name, command, ctx in commands():
        lines += [f"## `{name}`", ""]
        summary = (command.help or "").strip()
        if summary:
            lines += [summary, ""]
        lines += ["```text", command.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(lines)


# -- 用户手册 ------------------------------------------------------------------------------------------------


def manual_pages() -> dict[str, str]:
    """One page per role from duban/web/help/guides.yaml, with the sample plan's dates and limits."""
    from duban import glossary
    from duban.plan import load_plan
    from duban.web.guides import KINDS, guides

    plan, _ = load_plan(SAMPLE_PLAN)
    every = guides(plan)
    pages = {
        "manual/index.md": "\n".join(
            [
                "# 用户手册",
                "",
                "督办平台各类用户的操作说明，与平台“帮助”页面（/help）显示的内容相同，出自同一文件",
                "（`duban/web/help/guides.yaml`）。文中的报送日期、重新报送期限和密码长度按示例实施方案",
                "（`plans/community-facilities-2022.yaml`）填写，实际以本区实施方案为准，平台“帮助”页面显示的是实施方案的规定。",
                "",
                *(f"- [{glossary.UNIT_KIND[kind]}操作说明]({kind}.md)" for kind in KINDS),
                "",
            ]
        )
    }
    for kind in KINDS:
        lines = [f"# {glossary.UNIT_KIND[kind]}操作说明", ""]
        for section in (*every[kind], *every["common"]):
            lines += [f"## {section.title}", ""]
            lines += [f"{n}. {step}" for n, step in enumerate(section.steps, 1)] or [section.text]
            lines.append("")
        pages[f"manual/{kind}.md"] = "\n".join(lines)
    return pages


def pages() -> dict[str, str]:
    """Every generated page, by its path under docs/."""
    return {
        "reference/plan-keys.md": plan_page(),
        "reference/environment.md": environment_page(),
        "reference/commands.md": commands_page(),
        **manual_pages(),
    }


def main() -> None:
    docs = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs"
    for relative, text in pages().items():
        target = docs / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    print(f"reference and 用户手册 written under {docs}")


if __name__ == "__main__":
    main()
