"""The public API is documented: docstrings in the code, and docs/api.md in step with it.

The first three tests read the sources with ``ast`` only (no import of actnn or TensorFlow), so
they are fast; the fourth imports actnn to resolve every ``actnn.<module>.<name>`` in the page.
The tests of docs/config.md compare its tables of keys with the schema's tables in
``actnn.config`` and load (and, for the GLM, fit) its TOML examples.

Public means: a name in the module's ``__all__`` (in a module without ``__all__``, a function or
class whose name does not start with ``_``), and every method or property of such a class whose
name does not start with ``_``, including those it inherits from a base class of the same module
(e.g. ``FNN.fit`` from ``networks._NetworkModel``).
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "actnn"
API_PAGE = ROOT / "docs" / "api.md"

Def = ast.FunctionDef | ast.AsyncFunctionDef
MODULES = sorted(PACKAGE.glob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module_name(path: Path) -> str:
    return "actnn" if path.stem == "__init__" else f"actnn.{path.stem}"


def _all_names(tree: ast.Module) -> list[str] | None:
    """The module's ``__all__``; for the package, the keys of its lazy ``_EXPORTS``."""
    values: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            values[target.id] = value
    if "__all__" not in values:
        return None
    try:
        return list(ast.literal_eval(values["__all__"]))
    except ValueError:  # actnn/__init__.py: __all__ = sorted(_EXPORTS)
        return sorted(ast.literal_eval(values["_EXPORTS"]))


def _definitions(tree: ast.Module) -> dict[str, Def | ast.ClassDef]:
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }


def _public_names(tree: ast.Module) -> list[str]:
    names = _all_names(tree)
    if names is not None:
        return names
    return [name for name in _definitions(tree) if not name.startswith("_")]


def _public_methods(
    cls: ast.ClassDef, defs: dict[str, Def | ast.ClassDef]
) -> list[tuple[str, Def]]:
    """``("Owner.method", node)`` of the public methods of ``cls`` and of its bases defined in
    the same module; a method overridden by ``cls`` is listed once, as ``cls``'s."""
    methods: dict[str, tuple[str, Def]] = {}
    pending, seen = [cls], set()
    while pending:
        node = pending.pop(0)
        if node.name in seen:
            continue
        seen.add(node.name)
        for item in node.body:
            if isinstance(item, Def) and not item.name.startswith("_"):
                methods.setdefault(item.name, (f"{node.name}.{item.name}", item))
        for base in node.bases:
            if isinstance(base, ast.Name) and isinstance(defs.get(base.id), ast.ClassDef):
                pending.append(defs[base.id])
    return list(methods.values())


def _public_objects(path: Path) -> list[tuple[str, Def | ast.ClassDef]]:
    """``(qualified name, node)`` of every public function, class and method of a module."""
    tree = _tree(path)
    defs = _definitions(tree)
    out: list[tuple[str, Def | ast.ClassDef]] = []
    for name in _public_names(tree):
        node = defs.get(name)
        if node is None:  # a constant, or a name the package re-exports
            continue
        out.append((name, node))
        if isinstance(node, ast.ClassDef):
            out.extend(_public_methods(node, defs))
    return out


def _header(path: Path, node: Def | ast.ClassDef) -> str:
    """The ``def``/``class`` line(s) as written, without decorators and trailing comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    body = node.body[0]
    text = "\n".join(lines[node.lineno - 1 : body.lineno - 1])
    if body.lineno == node.lineno:  # a one-line def
        text = lines[node.lineno - 1]
    return "\n".join(re.sub(r"\s+#[^\"']*$", "", line) for line in text.splitlines())


def _normalise(signature: str) -> str:
    """A signature without layout: ``def f(\\n    a,\\n) -> T:`` becomes ``def f(a) -> T``."""
    text = " ".join(signature.split())
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r",?\s*\)", ")", text)
    return text.rstrip(":").rstrip()


def _page() -> str:
    if not API_PAGE.exists():
        pytest.fail(f"{API_PAGE.relative_to(ROOT)} is missing")
    return API_PAGE.read_text(encoding="utf-8")


def _sections(page: str) -> dict[str, str]:
    """The page's ``## `actnn.<module>` ...`` sections, by module name."""
    out: dict[str, str] = {}
    for part in re.split(r"^## ", page, flags=re.MULTILINE)[1:]:
        match = re.match(r"`(actnn(?:\.\w+)?)`", part)
        if match:
            out[match.group(1)] = part
    return out


def test_public_objects_have_docstrings():
    missing = [
        f"{path.relative_to(ROOT)}:{node.lineno} {name}"
        for path in MODULES
        for name, node in _public_objects(path)
        if not ast.get_docstring(node)
    ]
    assert not missing, "public objects without a docstring:\n" + "\n".join(missing)


def test_every_public_name_is_on_the_api_page():
    sections = _sections(_page())
    problems = []
    for path in MODULES:
        module = _module_name(path)
        if module not in sections:
            problems.append(f"{module}: no section '## `{module}`'")
            continue
        for name in _public_names(_tree(path)):
            if not re.search(rf"(?<![\w.]){re.escape(name)}\b", sections[module]):
                problems.append(f"{module}.{name}")
    assert not problems, "missing from docs/api.md:\n" + "\n".join(problems)


def test_signatures_on_the_api_page_match_the_code():
    page = _normalise(_page())
    stale = [
        f"{path.relative_to(ROOT)}:{node.lineno} {name}: {_normalise(_header(path, node))}"
        for path in MODULES
        for name, node in _public_objects(path)
        if _normalise(_header(path, node)) not in page
    ]
    assert not stale, "signatures not found (as in the code) in docs/api.md:\n" + "\n".join(stale)


def _resolve(reference: str) -> None:
    """Import the longest module prefix of ``actnn.a.b.c``, then get the remaining attributes."""
    parts = reference.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        try:
            obj = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and not name.startswith(exc.name):  # a dependency is missing
                raise
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return
    raise ModuleNotFoundError(reference)


def test_every_actnn_reference_on_the_api_page_resolves():
    references = sorted(set(re.findall(r"\bactnn(?:\.[A-Za-z_]\w*)+", _page())))
    assert len(references) > 50  # the page names its objects by their full paths
    broken = []
    for reference in references:
        try:
            _resolve(reference)
        except (ImportError, AttributeError) as exc:
            broken.append(f"{reference}: {exc}")
    assert not broken, "references in docs/api.md that do not resolve:\n" + "\n".join(broken)


def test_every_row_of_the_bad_input_table_names_a_test_that_exists():
    rows = [line for line in (ROOT / "docs" / "bad_input.md").read_text().splitlines()
            if line.startswith("| ") and not line.startswith(("| case", "| ---"))]  # fmt: skip
    assert len(rows) >= 30
    tests = "".join(path.read_text() for path in (ROOT / "tests").glob("test_*.py"))
    for row in rows:
        names = re.findall(r"`(test_\w+)`", row.rsplit("|", 2)[-2])
        assert names, f"a row of docs/bad_input.md names no test: {row[:80]}"
        for name in names:
            assert f"def {name}(" in tests, f"docs/bad_input.md names {name}, which does not exist"


# ---------------------------------------------------------------------- docs/config.md
CONFIG_PAGE = ROOT / "docs" / "config.md"


def _config_page_tables() -> dict[str, dict[str, dict[str, str]]]:
    """The key tables of docs/config.md by section (``"[model]"``, ...): key -> its cells by the
    table's column names (``type``, ``default``, ``accepted by``, ``meaning``)."""
    tables: dict[str, dict[str, dict[str, str]]] = {}
    text = CONFIG_PAGE.read_text(encoding="utf-8")
    for part in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        section = re.match(r"`(\[\[?[\w.]+\]\]?)`\n", part)
        if not section:
            continue
        rows = [line for line in part.splitlines() if line.startswith("| ")]
        header = [cell.strip() for cell in rows[0].strip("|").split("|")]
        keys: dict[str, dict[str, str]] = {}
        for row in rows[2:]:
            cells = [cell.strip() for cell in row.strip("|").split("|")]
            where = f"docs/config.md, {section[1]}, row {row[:50]!r}"
            assert len(cells) == len(header), f"{where}: {len(cells)} cells"
            key = re.fullmatch(r"`(\w+)`", cells[0])
            assert key, f"{where}: the first cell is not a `key`"
            assert key[1] not in keys, f"{where}: {key[1]} twice"
            keys[key[1]] = dict(zip(header[1:], cells[1:], strict=True))
        tables[section[1]] = keys
    return tables


def _config_schema() -> dict[str, dict[str, str]]:
    """The schema's tables of keys, by section, from ``actnn.config``."""
    from actnn import config

    return {
        "[model]": config._MODEL_KEYS,
        "[[features]]": config._FEATURE_FIELD_TYPES,
        "[network]": config._NETWORK_KEYS,
        "[network.inputs]": config._INPUTS_KEYS,
    }


def test_config_page_documents_every_key_of_the_schema_and_no_other():
    import dataclasses

    from actnn import config

    tables, schema = _config_page_tables(), _config_schema()
    assert set(tables) == set(schema), f"sections of docs/config.md: {sorted(tables)}"
    assert set(config._TOP_LEVEL) == {"model", "features", "network"}  # [network.inputs] inside
    # every field a [[features]] table accepts has its entry in _FEATURE_FIELD_TYPES
    fields = {f.name for cls in config.FEATURE_KINDS.values() for f in dataclasses.fields(cls)}
    assert fields - config._FITTED_FIELDS <= set(config._FEATURE_FIELD_TYPES)
    problems = []
    for section, keys in schema.items():
        documented = set(tables[section])
        problems += [
            f"{section} {key}: missing from docs/config.md" for key in set(keys) - documented
        ]
        problems += [
            f"{section} {key}: documented, not in actnn.config" for key in documented - set(keys)
        ]
    assert not problems, "\n".join(sorted(problems))


def _kinds_accepting(section: str, key: str) -> set[str]:
    """Which kinds of model (for [[features]]: of feature) accept ``key`` in ``section``."""
    import dataclasses

    from actnn import config

    if section == "[[features]]":
        return {
            kind
            for kind, cls in config.FEATURE_KINDS.items()
            if key == "kind" or key in {f.name for f in dataclasses.fields(cls)}
        }
    if section == "[model]":
        return set(config.MODEL_KINDS)
    return set(config._ONLY_FOR.get(key, config._NETWORK_CLASSES))


def test_config_page_says_which_kinds_accept_each_key():
    from actnn import config

    wrong = []
    for section, keys in _config_page_tables().items():
        everything = config.FEATURE_KINDS if section == "[[features]]" else config.MODEL_KINDS
        for key, cells in keys.items():
            cell = cells["accepted by"]
            documented = set(everything) if cell == "all" else set(re.split(r",\s*", cell))
            if documented != _kinds_accepting(section, key):
                wrong.append(f"{section} {key}: docs say {cell!r}, the code accepts it for "
                             f"{sorted(_kinds_accepting(section, key))}")  # fmt: skip
    assert not wrong, "\n".join(wrong)


def test_config_page_gives_the_network_classes_defaults():
    import inspect
    import tomllib

    from actnn.config import ModelConfig
    from actnn.networks import CANN, FNN

    defaults = {
        name: parameter.default
        for cls in (FNN, CANN)
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
    }
    defaults["balance_correct"] = ModelConfig.__dataclass_fields__["balance_correct"].default
    defaults["inputs"] = "required"
    wrong = []
    for key, cells in _config_page_tables()["[network]"].items():
        cell = cells["default"]
        if key not in defaults:  # not a key of the schema: the test above names it
            continue
        if cell in ("none", "required"):
            documented = None if cell == "none" else cell
        else:
            documented = tomllib.loads(f"v = {cell.strip('`')}")["v"]
        actual = list(defaults[key]) if isinstance(defaults[key], tuple) else defaults[key]
        if documented != actual or type(documented) is not type(actual):
            wrong.append(f"[network] {key}: docs say {cell}, the default is {defaults[key]!r}")
    assert not wrong, "\n".join(wrong)


def test_config_page_examples_are_valid_configurations(tmp_path, own_portfolio):
    from actnn import GLM
    from actnn.config import fit_from_config, load_config

    text = CONFIG_PAGE.read_text(encoding="utf-8")
    configs = []
    for i, example in enumerate(re.findall(r"```toml\n(.*?)```", text, flags=re.S), 1):
        path = tmp_path / f"example_{i}.toml"
        path.write_text(example)
        configs.append(load_config(path))  # a ConfigError names the file, section and key
    assert sorted(c.kind for c in configs) == ["cann", "glm"]  # one complete example of each
    # the GLM example fits on a portfolio with its columns (the CANN's: tests/test_cli_fit.py)
    glm = fit_from_config(next(c for c in configs if c.kind == "glm"), own_portfolio)
    assert isinstance(glm, GLM) and glm.coef_.notna().all()
