"""The evidence vocabulary: link kinds (queries/linking/link_kinds.csv), the words for a
test of chance, and the ICD-203 likelihood scale. Read by the linking SQL (as the table
`link_kinds`), the findings and the dossier, so that they say the same thing."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa

from forensics import resources, sqlfiles


@dataclass(frozen=True)
class LinkKind:
    """One kind of link, as `queries/linking/link_kinds.csv` defines it for SQL, Python and
    the report alike: its words, the fact it is evidence of (kinds of one fact count once),
    its weight, whether ordinary customers do not share it (coordination), and the test of
    chance it gets (`value`, `pair`, `timing` or `none`) with its null model in words."""

    kind: str
    label: str
    plural: str
    fact: str
    weight: float
    rarity_applies: bool
    min_owners: int
    coordination: bool
    test: str
    key_id: str
    null_model: str

    def words(self, n: int) -> str:
        return f"{n:,} {self.label if n == 1 else self.plural}"


def read_link_kinds(queries: Path | None = None) -> dict[str, LinkKind]:
    """The link-kind vocabulary of the (bundled or custom) library."""
    path = resources.queries_part("linking", queries) / "link_kinds.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {r["kind"]: LinkKind(
        kind=r["kind"], label=r["label"], plural=r["plural"], fact=r["fact"],
        weight=float(r["weight"]), rarity_applies=r["rarity_applies"] == "true",
        min_owners=int(r["min_owners"]), coordination=r["coordination"] == "true",
        test=r["test"], key_id=r["key_id"], null_model=r["null_model"]) for r in rows}


_LINK_KIND_TYPES = pa.schema([
    ("kind", pa.string()), ("label", pa.string()), ("plural", pa.string()),
    ("fact", pa.string()), ("weight", pa.float64()), ("rarity_applies", pa.bool_()),
    ("min_owners", pa.int32()), ("coordination", pa.bool_()), ("test", pa.string()),
    ("key_id", pa.string()), ("null_model", pa.string())])


def create_link_kinds(con: sqlfiles.Database, queries: Path | None = None) -> None:
    """The link-kind vocabulary as the table `link_kinds` that the linking SQL joins."""
    db = sqlfiles.engine_for(con)
    rows = [asdict(k) for k in read_link_kinds(queries).values()]
    db.register("link_kinds_rows", pa.Table.from_pylist(rows, schema=_LINK_KIND_TYPES))
    db.create_table_as("link_kinds", "SELECT * FROM link_kinds_rows")
    db.unregister("link_kinds_rows")


LINK_KINDS = read_link_kinds()
KIND_LABELS = {k.kind: k.label for k in LINK_KINDS.values()}
# The false-discovery rate at which a link counts as significant (Benjamini–Hochberg).
FDR = 0.05


def chance_text(p: float) -> str:
    """A p-value in words for the dossier: '< 10⁻⁹', '3.2 × 10⁻⁵', '0.042'."""
    if p < 1e-9:
        return "< 10⁻⁹"
    if p < 0.001:
        mantissa, exponent = f"{p:.1e}".split("e")
        sup = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
        return f"{mantissa} × 10{str(int(exponent)).translate(sup)}"
    return f"{p:.3f}"


# ICD-203 likelihood scale (Intelligence Community Directive 203, 2015).
LIKELIHOOD = ((0.05, "almost no chance"), (0.20, "very unlikely"), (0.45, "unlikely"),
              (0.55, "roughly even chance"), (0.80, "likely"), (0.95, "very likely"),
              (1.01, "almost certain"))


def likelihood(score: float) -> str:
    """The ICD-203 likelihood term for a score read as a probability."""
    return next(term for bound, term in LIKELIHOOD if score < bound)
