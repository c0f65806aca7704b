"""h-index, output per year and ESI standing on a known small set: the ten WoS records of
wos-plaintext-wok-tethne.txt with times cited set by hand."""

from __future__ import annotations

from lifeline.core.models import Library
from lifeline.research.logic import analysis, importer
from lifeline.research.models import AffiliationVariant, BiblioRecord
from lifeline.research.tests.conftest import DATA


def test_h_index_by_hirsch() -> None:
    assert analysis.h_index([]) == 0
    assert analysis.h_index([10, 8, 5, 4, 3]) == 4
    assert analysis.h_index([25, 8, 5, 3, 3]) == 3
    assert analysis.h_index([1, 1, 1]) == 1
    assert analysis.h_index([0, 0]) == 0


def test_known_set(library_a: Library) -> None:
    AffiliationVariant.objects.create(library=library_a, variant="Spain", canonical="Spain")
    importer.import_records(library_a, (DATA / "wos-plaintext-wok-tethne.txt").read_bytes())
    ours = BiblioRecord.objects.filter(is_ours=True)
    # The four papers with a Spanish address (checked with awk on the file): three of 2013, one
    # of 2012. Hand-set citations 12, 7, 5, 3 (Scopus one less); the rest 0.
    spanish = list(ours.order_by("doi"))
    assert len(spanish) == 4
    for rec, n in zip(spanish, [12, 7, 5, 3], strict=True):
        rec.times_cited = {"wos": n, "scopus": n - 1}
        rec.save()
    assert analysis.output_per_year(library_a) == {2012: 1, 2013: 3}
    assert analysis.h_index(analysis.times_cited(r) for r in ours.all()) == 3
    # Marigomez has one paper here, cited at least once: h = 1.
    assert analysis.person_h_index(library_a, "Marigomez, I.") == 1
    assert analysis.person_h_index(library_a, "Nobody, X") == 0
    journals = {r.journal: "Environment/Ecology" for r in spanish}
    rows = analysis.esi_standing(library_a, journals, {"Environment/Ecology": 20, "Physics": 5})
    env = next(r for r in rows if r.field == "Environment/Ecology")
    assert (env.papers, env.citations, env.entered, env.gap) == (4, 27, True, 0)
    phys = next(r for r in rows if r.field == "Physics")
    assert (phys.papers, phys.citations, phys.entered, phys.gap) == (0, 0, False, 5)
