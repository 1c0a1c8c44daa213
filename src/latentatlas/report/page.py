"""A report page in the order every latentatlas page follows: findings, the headline table, curves, what the
model gets wrong, the other tables, details, and a glossary of every quantity the page showed.

`Page` only collects HTML parts and the keys its tables showed (for the glossary); the parts themselves come from
`findings`, `tables`, `curves` and `gallery`, so each page module is a short list of calls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from latentatlas.report import html
from latentatlas.report.findings import Finding, findings_html
from latentatlas.report.quantities import describe, is_config_key
from latentatlas.report.tables import glossary, quantity_table

HEADLINE_GROUPS = ("quality", "validity")  # the groups of the table right under the findings


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_KL = re.compile(r"(^|_)kl($|_|\[)")  # val_kl, train_kl, kl_total, kl_per_dim[0]


def applicable(numbers: Mapping[str, Any]) -> dict[str, Any]:
    """`numbers` with the quantities a model does not have set to None (shown as "–"): a plain autoencoder
    (`variational` false) records a KL of 0, but it has no KL at all."""
    if numbers.get("variational", True) is not False:
        return dict(numbers)
    return {k: None if _KL.search(k) and not isinstance(v, list) else v for k, v in numbers.items()}


def split_headline(keys: Sequence[str]) -> tuple[list[str], list[str]]:
    """(headline keys: quality and validity quantities, the other keys), each in the given order."""
    head = [k for k in keys if (q := describe(k)) is not None and q.group in HEADLINE_GROUPS and not is_config_key(k)]
    return head, [k for k in keys if k not in head]


class Page:
    """The parts of one page; `table` remembers the keys it shows, `write` adds the glossary and writes the file."""

    def __init__(self, title: str):
        self.title = title
        self.parts: list[str] = []
        self.keys: list[str] = []

    def add(self, *parts: str) -> Page:
        self.parts += [p for p in parts if p]
        return self

    def section(self, heading: str, *parts: str) -> Page:
        """A titled section; nothing is added when every part is empty."""
        if any(parts):
            self.add(f"<h2>{html.escape(heading)}</h2>", *parts)
        return self

    def findings(self, findings: Sequence[Finding]) -> Page:
        return self.add(findings_html(findings))

    def table(
        self,
        rows: Mapping[str, Sequence[Any]],
        headers: Sequence[str],
        grouped: bool = True,
        head_rows: Mapping[str, Sequence[Any]] | None = None,
    ) -> str:
        """`tables.quantity_table` (returned, not added: it may go into a details section); its keys join the
        glossary. An empty `rows` gives an empty string."""
        if not rows:
            return ""
        self.keys += [*(head_rows or {}), *rows]
        return quantity_table(rows, headers, grouped=grouped, head_rows=head_rows)

    def body(self) -> str:
        terms = glossary(self.keys)
        tail = [f"<h2>Glossary</h2>{terms}"] if terms else []
        return "".join([*self.parts, *tail])

    def write(self, path: str | Path) -> Path:
        return html.write_page(path, self.title, self.body())


def config_yaml(config: Mapping[str, Any]) -> str:
    """The resolved config as a YAML block, for a details section."""
    return f"<pre>{html.escape(yaml.safe_dump(dict(config), sort_keys=False))}</pre>"
