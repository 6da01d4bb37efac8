"""The public API is documented: docstrings in the code, and docs/api.md in step with it.

Most tests read the sources with ``ast`` only (no import of actnn or TensorFlow), so they are
fast; the last ones import actnn to resolve every ``actnn.<module>.<name>`` in the page. The tests
of docs/config.md compare its tables of keys with the schema's tables in ``actnn.config`` and
load (and, for the GLM, fit) its TOML examples.

The rules, for the package as a whole (``actnn/**/*.py``):

- A module is public unless a part of its dotted name starts with ``_`` (``actnn._validation``,
  ``actnn.metrics._binning``); a package's ``__init__.py`` is the module of the package
  (``actnn/metrics/__init__.py`` is ``actnn.metrics``). Every public module has a section
  ``## `actnn.<module>` `` in docs/api.md, and the page has no other module sections.
- A module's public names: its ``__all__`` (for ``actnn`` itself, the keys of its lazy
  ``_EXPORTS``); in a module without ``__all__``, its functions and classes whose names do not
  start with ``_``. Every public name is named in its module's section; a package's section thus
  lists what it re-exports.
- A public name is documented once, under its home: the module that defines it if that module
  is public and lists the name, else the shallowest public module that re-exports it (a name
  defined in a private module, as ``actnn.DataWarning`` from ``actnn._validation``). A public
  function or class has a heading ``### `name` `` in its home's section, with its signature as in
  the code, and under no other section.
- Public too: every method or property of a public class whose name does not start with ``_``,
  including those it inherits from actnn's own base classes (e.g. ``FNN.fit`` from
  ``actnn._network._NetworkModel``); their signatures are in the class's home section.
- Every heading ``### `name` `` of a module section names something that module has; what it
  names is checked like a public object (signature in that section), public or not.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "actnn"
API_PAGE = ROOT / "docs" / "api.md"

Def = ast.FunctionDef | ast.AsyncFunctionDef
Node = Def | ast.ClassDef
Binding = Node | ast.Assign | ast.AnnAssign


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_private(module: str) -> bool:
    return any(part.startswith("_") for part in module.split(".")[1:])


PATHS = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
MODULES = sorted(module for module in PATHS if not _is_private(module))


@functools.cache
def _tree(module: str) -> ast.Module:
    path = PATHS[module]
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _literals(tree: ast.Module) -> dict[str, ast.expr]:
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
    return values


def _exports(tree: ast.Module) -> dict[str, str]:
    """The package's lazy ``_EXPORTS`` (name -> module under actnn); empty elsewhere."""
    value = _literals(tree).get("_EXPORTS")
    return dict(ast.literal_eval(value)) if value is not None else {}


def _all_names(tree: ast.Module) -> list[str] | None:
    """The module's ``__all__``; for the package, the keys of its lazy ``_EXPORTS``."""
    values = _literals(tree)
    if "__all__" not in values:
        return None
    try:
        return list(ast.literal_eval(values["__all__"]))
    except ValueError:  # actnn/__init__.py: __all__ = sorted(_EXPORTS)
        return sorted(_exports(tree))


def _definitions(tree: ast.Module) -> dict[str, Node]:
    return {node.name: node for node in tree.body if isinstance(node, Node)}


@functools.cache
def _public_names(module: str) -> tuple[str, ...]:
    tree = _tree(module)
    names = _all_names(tree)
    if names is None:
        names = [name for name in _definitions(tree) if not name.startswith("_")]
    return tuple(names)


def _source_module(module: str, node: ast.ImportFrom) -> str | None:
    """The absolute name of the module a ``from ... import`` reads; None outside actnn."""
    if node.level:
        package = module.split(".")
        if PATHS[module].name != "__init__.py":
            package = package[:-1]
        package = package[: len(package) - (node.level - 1)]
        name = ".".join(package + ([node.module] if node.module else []))
    else:
        name = node.module or ""
    return name if name.split(".")[0] == "actnn" else None


@functools.cache
def _definition(module: str, name: str) -> tuple[str, Binding] | None:
    """``(module, node)`` of the def, class or assignment that ``module.name`` is, following
    ``from .x import name`` (and the package's ``_EXPORTS``) within actnn; None if ``module``
    binds no such name at its top level, or binds it to a module or to something outside actnn."""
    if module not in PATHS:
        return None
    tree = _tree(module)
    found: tuple[str, Binding] | tuple[str, str] | None = None
    for node in tree.body:  # the last binding wins, as when the module runs
        if isinstance(node, Node) and node.name == name:
            found = (module, node)
        elif isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            found = (module, node)
        elif isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == name:
            found = (module, node)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    source = _source_module(module, node)
                    found = None if source is None else (source, alias.name)
    if found is None and name in _exports(tree):
        found = (f"actnn.{_exports(tree)[name]}", name)
    if found is None or not isinstance(found[1], str):
        return found
    source, original = found
    if f"{source}.{original}" in PATHS:  # a module, not an object
        return None
    return _definition(source, original)


def _binding_name(node: Binding) -> str:
    if isinstance(node, Node):
        return node.name
    target = node.targets[0] if isinstance(node, ast.Assign) else node.target
    return target.id if isinstance(target, ast.Name) else ast.unparse(target)


Key = tuple[str, str]  # (defining module, name there)


@functools.cache
def _public() -> dict[Key, tuple[str, Binding | None]]:
    """Every public name's definition -> (its home module, its node)."""
    listed: dict[Key, list[str]] = {}
    nodes: dict[Key, Binding | None] = {}
    for module in MODULES:
        for name in _public_names(module):
            found = _definition(module, name)
            key = (found[0], _binding_name(found[1])) if found else (module, name)
            nodes[key] = found[1] if found else None
            listed.setdefault(key, []).append(module)
    out = {}
    for key, modules in listed.items():
        if key[0] in modules:
            home = key[0]
        else:
            home = min(modules, key=lambda m: (m.count("."), m))
        out[key] = (home, nodes[key])
    return out


def _methods(module: str, cls: ast.ClassDef) -> list[tuple[str, str, Def]]:
    """``("Owner.method", module, node)`` of the public methods of ``cls`` and of its base
    classes defined in actnn (the base followed through imports); a method overridden by
    ``cls`` is listed once, as ``cls``'s."""
    methods: dict[str, tuple[str, str, Def]] = {}
    pending, seen = [(module, cls)], set()
    while pending:
        owner, node = pending.pop(0)
        if (owner, node.name) in seen:
            continue
        seen.add((owner, node.name))
        for item in node.body:
            if isinstance(item, Def) and not item.name.startswith("_"):
                methods.setdefault(item.name, (f"{node.name}.{item.name}", owner, item))
        for base in node.bases:
            if isinstance(base, ast.Name):
                found = _definition(owner, base.id)
                if found and isinstance(found[1], ast.ClassDef):
                    pending.append(found)
    return list(methods.values())


def _objects(section: str, module: str, node: Node) -> list[tuple[str, str, str, Node]]:
    """``(section, qualified name, defining module, node)`` of an object and its methods."""
    out = [(section, node.name, module, node)]
    if isinstance(node, ast.ClassDef):
        out.extend((section, name, owner, item) for name, owner, item in _methods(module, node))
    return out


def _public_objects() -> list[tuple[str, str, str, Node]]:
    """Every public function, class and method, with the section that documents it."""
    return [
        item
        for (module, _), (home, node) in sorted(_public().items())
        if isinstance(node, Node)
        for item in _objects(home, module, node)
    ]


def _header(module: str, node: Node) -> str:
    """The ``def``/``class`` line(s) as written, without decorators and trailing comments."""
    lines = PATHS[module].read_text(encoding="utf-8").splitlines()
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
        match = re.match(r"`(actnn(?:\.\w+)*)`", part)
        if match:
            assert match.group(1) not in out, f"two sections '## `{match.group(1)}`'"
            out[match.group(1)] = part
    return out


def _headings(section: str) -> list[str]:
    return re.findall(r"^### `([^`]+)`", section, flags=re.MULTILINE)


def _documented_objects(sections: dict[str, str]) -> list[tuple[str, str, str, Node]]:
    """The public objects, and the functions and classes under the page's headings."""
    out = _public_objects()
    public = {key for key, (_, node) in _public().items() if isinstance(node, Node)}
    for section, text in sections.items():
        for name in _headings(text):
            found = _definition(section, name)
            if found and isinstance(found[1], Node) and (found[0], found[1].name) not in public:
                out.extend(_objects(section, found[0], found[1]))
    return out


def test_the_package_has_public_and_private_modules():
    assert {"actnn", "actnn.glm", "actnn.metrics", "actnn.metrics.scores"} <= set(MODULES)
    assert "actnn._validation" in PATHS and "actnn._validation" not in MODULES
    assert "actnn.metrics._binning" in PATHS and "actnn.metrics._binning" not in MODULES


def test_public_objects_have_docstrings():
    missing = {  # a dict, not a list: an inherited method once, not once per class
        f"{PATHS[module].relative_to(ROOT)}:{node.lineno} {name}": None
        for _, name, module, node in _public_objects()
        if not ast.get_docstring(node)
    }
    assert not missing, "public objects without a docstring:\n" + "\n".join(missing)


def test_every_public_name_exists():
    missing = [
        f"{module}.{name}"
        for module in MODULES
        for name in _public_names(module)
        if _definition(module, name) is None and f"{module}.{name}" not in PATHS
    ]
    assert not missing, "names in __all__ that the module does not define:\n" + "\n".join(missing)


def test_every_public_name_is_on_the_api_page():
    sections = _sections(_page())
    extra = sorted(set(sections) - set(MODULES))
    problems = [f"{module}: a section of the page, but not a public module" for module in extra]
    for module in MODULES:
        if module not in sections:
            problems.append(f"{module}: no section '## `{module}`'")
            continue
        for name in _public_names(module):
            if not re.search(rf"(?<![\w.]){re.escape(name)}\b", sections[module]):
                problems.append(f"{module}.{name}")
    assert not problems, "missing from docs/api.md:\n" + "\n".join(problems)


def test_every_public_object_is_documented_once_under_its_home():
    sections = _sections(_page())
    problems = []
    where: dict[Key, list[str]] = {}
    for section, text in sections.items():
        for name in _headings(text):
            found = _definition(section, name)
            if found is None:
                problems.append(f"### `{name}` under {section}: {section} has no {name}")
                continue
            where.setdefault((found[0], _binding_name(found[1])), []).append(section)
    for key, (home, node) in sorted(_public().items()):
        if isinstance(node, Node) and home not in where.get(key, []):
            problems.append(f"{home}.{key[1]}: no heading '### `{key[1]}`' under {home}")
    for key, headed in sorted(where.items()):
        home = _public()[key][0] if key in _public() else headed[0]
        if headed != [home]:
            problems.append(f"{home}.{key[1]}: documented under {', '.join(headed)}")
    assert not problems, "docs/api.md, headings:\n" + "\n".join(problems)


def test_signatures_on_the_api_page_match_the_code():
    sections = {module: _normalise(text) for module, text in _sections(_page()).items()}
    stale = {  # a dict, not a list: an inherited method once, not once per class
        f"{PATHS[module].relative_to(ROOT)}:{node.lineno} {name}: {header} (under {section})": None
        for section, name, module, node in _documented_objects(_sections(_page()))
        if (header := _normalise(_header(module, node))) not in sections.get(section, "")
    }
    assert not stale, "signatures not found (as in the code) in docs/api.md:\n" + "\n".join(stale)


def test_the_old_module_names_are_on_the_api_page():
    moved = ast.literal_eval(_literals(_tree("actnn._moved"))["MOVED"])
    page = " ".join(_page().split())  # the page wraps its lines anywhere
    missing = [
        f"`{old}` → `{new}`" for old, new in moved.items() if f"`{old}` → `{new}`" not in page
    ]
    assert not missing, "old module names missing from docs/api.md:\n" + "\n".join(missing)


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
    page = _page()
    references = set(re.findall(r"\bactnn(?:\.[A-Za-z_]\w*)+", page))
    assert len(references) > 50  # the page names its objects by their full paths
    for module, text in _sections(page).items():  # and each heading an object of its module
        references.update(f"{module}.{name}" for name in _headings(text))
    broken = []
    for reference in sorted(references):
        try:
            _resolve(reference)
        except (ImportError, AttributeError) as exc:
            broken.append(f"{reference}: {exc}")
    assert not broken, "references in docs/api.md that do not resolve:\n" + "\n".join(broken)


def test_every_row_of_the_bad_input_table_names_a_test_that_exists():
    rows = [line for line in (ROOT / "docs" / "bad_input.md").read_text().splitlines()
            if line.startswith("| ") and not line.startswith(("| case", "| ---"))]  # fmt: skip
    assert len(rows) >= 30
    tests = "".join(path.read_text() for path in (ROOT / "tests").rglob("test_*.py"))
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
