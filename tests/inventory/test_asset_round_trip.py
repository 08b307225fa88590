"""An asset written out with every field (as the server stores inventory documents and
rebuilds the manifest from them) validates again, for every kind: the kind-specific fields'
validators judge values, not the presence of their defaults."""

from __future__ import annotations

import pytest

from custos.inventory.schema import ASSET_KINDS, Asset, AssetKind


@pytest.mark.parametrize("kind", ASSET_KINDS)
def test_every_kind_survives_a_full_dump(kind: AssetKind) -> None:
    location = "https://models.example/v1/score" if kind == "endpoint" else "data/x.csv"
    asset = Asset(id="a1", kind=kind, location=location)
    for dumped in (asset.model_dump(), asset.model_dump(mode="json")):
        assert Asset.model_validate(dumped) == asset


def test_kind_specific_fields_are_still_refused_elsewhere() -> None:
    with pytest.raises(ValueError, match="only endpoint assets"):
        Asset(id="a1", kind="dataset", location="data/x.csv", owned=True)
    with pytest.raises(ValueError, match="only endpoint assets"):
        Asset(id="a1", kind="model", location="m.pkl", auth="API_KEY")
    with pytest.raises(ValueError, match="only dataset assets"):
        Asset(id="a1", kind="model", location="m.pkl", label="y")
