"""The organisation tree: materialised path, subtree filter, moves, ancestors."""

from __future__ import annotations

from metodist.core.models import PATH_STEP, Organisation, OrganisationKind


def _step(org) -> str:
    return f"{org.pk:0{PATH_STEP}d}/"


def test_path_is_the_chain_of_ids(region_tree):
    region, mun, school = region_tree["region"], region_tree["mun1"], region_tree["school12"]
    school.refresh_from_db()
    assert region.path == "/" + _step(region)
    assert school.path == "/" + _step(region) + _step(mun) + _step(school)
    assert school.depth == region.depth + 2


def test_subtree_is_the_organisation_and_its_descendants(region_tree):
    codes = set(Organisation.objects.subtree(region_tree["mun1"]).values_list("code", flat=True))
    assert codes == {"reg22_m001", "edu221001", "edu221002"}
    everything = set(Organisation.objects.subtree(region_tree["region"]).values_list("code", flat=True))
    assert everything == set(Organisation.objects.values_list("code", flat=True))
    assert set(Organisation.objects.subtree(region_tree["school21"]).values_list("code", flat=True)) == {"edu222001"}


def test_subtree_does_not_match_a_sibling_with_a_longer_id_prefix(db):
    """The path steps are fixed-width, so organisation 1 is not a prefix of organisation 10."""
    root = Organisation.objects.create(kind=OrganisationKind.REGION, code="r", short_name="Р")
    orgs = [Organisation.objects.create(kind=OrganisationKind.MUNICIPALITY, code=f"m{i}", short_name=f"М{i}",
                                        parent=root) for i in range(12)]
    first = orgs[0]
    assert list(Organisation.objects.subtree(first).values_list("code", flat=True)) == [first.code]


def test_moving_a_municipality_moves_its_schools(region_tree):
    tree = region_tree
    other_region = Organisation.objects.create(kind=OrganisationKind.REGION, code="reg42", short_name="Кузбасс")
    mun = tree["mun1"]
    mun.parent = other_region
    mun.save()
    for key in ("school11", "school12"):
        school = Organisation.objects.get(pk=tree[key].pk)
        assert school.path == other_region.path + _step(mun) + _step(school)
        assert school.depth == other_region.depth + 2
        assert school.is_within(other_region)
        assert not school.is_within(tree["region"])
    assert set(Organisation.objects.subtree(other_region).values_list("code", flat=True)) == {
        "reg42", "reg22_m001", "edu221001", "edu221002"}
    assert set(Organisation.objects.subtree(tree["region"]).schools().values_list("code", flat=True)) == {
        "edu222001", "edu222002"}


def test_moving_a_school_between_municipalities(region_tree):
    school = region_tree["school11"]
    school.parent = region_tree["mun2"]
    school.save()
    school = Organisation.objects.get(pk=school.pk)
    assert school.ancestors() == [region_tree["region"], region_tree["mun2"]]
    assert Organisation.objects.subtree(region_tree["mun2"]).filter(pk=school.pk).exists()
    assert not Organisation.objects.subtree(region_tree["mun1"]).filter(pk=school.pk).exists()


def test_ancestors_in_order(region_tree):
    school = Organisation.objects.get(pk=region_tree["school21"].pk)
    assert school.ancestors() == [region_tree["region"], region_tree["mun2"]]
    assert region_tree["region"].ancestors() == []


def test_saving_without_a_move_keeps_the_path(region_tree):
    school = Organisation.objects.get(pk=region_tree["school11"].pk)
    path = school.path
    school.short_name = "Новое название"
    school.save()
    assert Organisation.objects.get(pk=school.pk).path == path
