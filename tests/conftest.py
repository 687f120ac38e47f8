"""Shared fixtures. Tests run on SQLite by default and on PostgreSQL when METODIST_DATABASE_URL names one
(make test does both)."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent / "samples"
SHARED_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "real-samples"


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture
def spec_ma5(db):
    """A small, complete specification: ВПР 2021 mathematics grade 5 as shipped, or a stand-in."""
    from metodist.reference.models import Assessment
    from metodist.reference.specs import ensure_shipped_specs

    ensure_shipped_specs()
    return Assessment.objects.get(code="vpr-2021-ma-5")


@pytest.fixture
def region_tree(db):
    """Region → two municipalities → two schools each, plus an institute under the region."""
    from metodist.core.models import Organisation, OrganisationKind

    region = Organisation.objects.create(kind=OrganisationKind.REGION, code="reg22", short_name="Алтайский край")
    tree = {"region": region}
    for m in (1, 2):
        mun = Organisation.objects.create(
            kind=OrganisationKind.MUNICIPALITY, code=f"reg22_m00{m}", short_name=f"Район {m}", parent=region
        )
        tree[f"mun{m}"] = mun
        for s in (1, 2):
            tree[f"school{m}{s}"] = Organisation.objects.create(
                kind=OrganisationKind.SCHOOL, code=f"edu22{m}00{s}", short_name=f"Школа {m}.{s}", parent=mun
            )
    tree["institute"] = Organisation.objects.create(
        kind=OrganisationKind.INSTITUTE, code="iro22", short_name="АИРО", parent=region
    )
    return tree


@pytest.fixture(autouse=True)
def _no_figures_from_another_test():
    """The shared cache of report figures, rendered pages and the cycle's stage figures lives in files under
    the data directory and outlives a test's rolled-back database: on SQLite the next test can reuse the
    same ids, and so the same keys. Each test starts without it."""
    from metodist.analysis import report_cache

    report_cache.clear()
