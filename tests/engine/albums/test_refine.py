"""`photoatlas refine`: DAC refinement of the albums, taught by the user's corrections, never overriding them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.albums.recluster import live_placements
from engine.albums.refine import user_constraints
from engine.cli.main import main
from engine.errors import Cancelled, InvalidInputError
from engine.library import Library
from engine.progress import RecordingProgress
from tests.engine.albums.test_album_properties import FakePhotos, album_of, fake_photos, use_fake_clusterer
from tests.engine.albums.test_recluster_crash import state

FAST = {"epochs": 8}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def merged_blobs(library, monkeypatch) -> tuple[Library, FakePhotos, list[int]]:
    """Three blobs clustered into two albums: the machine put blob 2 in with blob 1. Returns blob 2's photos."""
    use_fake_clusterer(monkeypatch)
    photos = fake_photos(library, seed=11, blobs=3)
    photos.centres[2] = photos.centres[1] + 0.9 * photos.centres[2]  # near blob 1, yet its own group
    photos.centres[2] /= np.linalg.norm(photos.centres[2])
    ids = photos.add([0] * 20 + [1] * 20 + [2] * 16, sigma=0.06)
    library.recluster(k=2)
    blob2 = ids[40:]
    albums = album_of(library.albums.albums())
    assert len({albums[p] for p in blob2} | {albums[p] for p in ids[20:40]}) == 1, "the machine merged them"
    return library, photos, blob2


def test_refine_needs_a_clustering_and_two_albums(library, monkeypatch) -> None:
    use_fake_clusterer(monkeypatch)
    photos = fake_photos(library, seed=1, blobs=2)
    photos.add([0] * 10 + [1] * 10)
    with pytest.raises(InvalidInputError, match="recluster first"):
        library.refine()
    library.recluster(k=2)
    album = [a for a in library.albums.albums() if a.id is not None]
    library.albums.merge([album[1].id], album[0].id)
    with pytest.raises(InvalidInputError, match="at least two albums"):
        library.refine()


def test_a_split_is_learned_and_what_changed_is_reported(merged_blobs) -> None:
    library, _, blob2 = merged_blobs
    new = library.albums.split(blob2[:4], "Snow")  # the user takes four photos out into their own album
    before = album_of(library.albums.albums())
    summary = library.refine(**FAST)
    after = album_of(library.albums.albums())
    assert all(after[p] == new for p in blob2[:4]), "the user's placements stay"
    changed = [p for p in after if after[p] != before[p]]
    assert summary.changed == len(changed) > 0
    assert set(summary.albums_affected) == {a for p in changed for a in (before[p], after[p]) if a is not None}
    assert summary.must_link >= 3 and summary.cannot_link > 0 and summary.epochs == 8
    # The machine's clusters broke the user's split; the refined model keeps nearly all of the user's pairs.
    assert summary.agreement_before < 0.5 < 0.9 < summary.agreement_after
    albums = {a.id: a for a in library.albums.albums()}
    assert albums[new].name == "Snow" and albums[new].user_named
    text = "\n".join(summary.lines())
    assert "photos changed album" in text and "4 together" in text


def test_refine_keeps_every_user_decision(merged_blobs) -> None:
    library, _, _ = merged_blobs
    store = library.albums
    a, b = (x for x in store.albums() if x.id is not None)
    store.rename(a.id, "Holidays")
    store.move([b.members[0], b.members[1]], a.id)
    store.remove([a.members[2]])
    store.pin(b.id)
    pinned = sorted(next(x for x in store.albums() if x.id == b.id).members)
    library.refine(**FAST)
    albums = {x.id: x for x in store.albums()}
    where = album_of(store.albums())
    assert albums[a.id].name == "Holidays" and albums[a.id].user_named
    assert where[b.members[0]] == where[b.members[1]] == a.id
    assert where[a.members[2]] is None
    assert sorted(albums[b.id].members) == pinned and albums[b.id].pinned


def test_constraints_from_the_users_decisions(merged_blobs) -> None:
    library, photos, blob2 = merged_blobs
    store = library.albums
    former = album_of(store.albums())[blob2[0]]
    new = store.split(blob2[:3])
    store.remove([blob2[3]])
    members, albums = live_placements(library.catalog)
    unique = list(dict.fromkeys(photos.hash_of[p] for p in sorted(photos.hash_of)))
    position = {h: i for i, h in enumerate(unique)}
    row = {p: position[photos.hash_of[p]] for p in photos.hash_of}
    constraints = user_constraints(library.catalog, members, albums, position)
    must = {tuple(p) for p in constraints.must_link.tolist()}
    cannot = {tuple(p) for p in constraints.cannot_link.tolist()}
    split_rows = sorted(row[p] for p in blob2[:3])
    assert len(must) >= 2 and all(a in split_rows and b in split_rows for a, b in must), "the split album holds"
    former_rows = {row[p] for p, a in album_of(store.albums()).items() if a == former}
    moved_away = {row[p] for p in blob2[:4]}
    assert any((a in moved_away and b in former_rows) or (b in moved_away and a in former_rows) for a, b in cannot)
    assert not must & cannot
    assert new in albums


def test_cancelled_refine_changes_nothing(merged_blobs) -> None:
    library, _, blob2 = merged_blobs
    library.albums.split(blob2[:4])
    before = state(library)
    with pytest.raises(Cancelled):
        library.refine(progress=RecordingProgress(cancel_after=20), **FAST)
    assert state(library) == before


def test_after_refine_new_photos_join_albums_and_more_albums_still_works(merged_blobs) -> None:
    library, photos, blob2 = merged_blobs
    library.albums.split(blob2[:4])
    library.refine(**FAST)
    blob0_album = album_of(library.albums.albums())[sorted(photos.hash_of)[0]]
    added = photos.add([0] * 4, sigma=0.06)
    assigned = library.assign_new_photos()  # through the stored refiner's predict_with_confidence
    assert assigned is not None and assigned.assigned + assigned.to_other == 4 and assigned.assigned >= 3
    where = album_of(library.albums.albums())
    assert sum(where[p] == blob0_album for p in added) >= 3
    # "Fewer albums" walks the curve of the clustering refined (k=2 only here) and refits, as the refined
    # clustering has no k curve of its own.
    summary = library.recluster(fewer=True)
    assert summary.k == 2


def test_the_settings_switch_refines_after_each_recluster(merged_blobs) -> None:
    library, _, blob2 = merged_blobs
    library.albums.split(blob2[:4])
    library.update_settings(library.settings.replace(dac_refine=True))
    summary = library.recluster(k=2)
    assert any("refined" in line for line in summary.refined)
    assert any("refined" in line for line in summary.lines())


def test_cli_refine_prints_what_changed(merged_blobs, capsys) -> None:
    library, _, blob2 = merged_blobs
    library.albums.split(blob2[:4])
    cli = ["--library", str(library.directory), "refine", "--epochs", "8", "--no-progress"]
    assert main([*cli, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["albums"] == 3 and data["epochs"] == 8 and data["must_link"] >= 3
    assert set(data) >= {"changed", "albums_affected", "agreement_before", "agreement_after", "seconds"}
    assert main(cli) == 0
    out = capsys.readouterr().out
    assert "refined" in out and "your decisions as pairs" in out
    assert main([*cli[:3], "--epochs", "0"]) == 1
    assert "--epochs must be at least 1" in capsys.readouterr().err


def test_cannot_link_partners_are_the_least_alike(merged_blobs) -> None:
    """Taking four blob-2 photos out of the merged album says they are not blob 1, not that the other
    blob-2 photos left behind differ from them: those must never be their cannot-link partners."""
    library, photos, blob2 = merged_blobs
    library.albums.split(blob2[:4], "Snow")
    members, albums = live_placements(library.catalog)
    ids, x = library.embeddings()
    unique = list(dict.fromkeys(photos.hash_of[p] for p in ids))
    position = {h: i for i, h in enumerate(unique)}
    features = np.stack([x[ids.index(next(p for p in ids if photos.hash_of[p] == h))] for h in unique])
    row = {p: position[photos.hash_of[p]] for p in photos.hash_of}
    constraints = user_constraints(library.catalog, members, albums, position, features=features)
    split, left_behind = {row[p] for p in blob2[:4]}, {row[p] for p in blob2[4:]}
    cannot = {tuple(p) for p in constraints.cannot_link.tolist()}
    assert any(a in split or b in split for a, b in cannot), "the split still has partners apart from it"
    assert not any((a in split and b in left_behind) or (b in split and a in left_behind) for a, b in cannot)


def test_outliers_in_other_stay_there(library, monkeypatch) -> None:
    """The head is sure of everything it was trained on; a photo in Other joins an album only when it lies
    as close to that album's photos as they do to each other."""
    use_fake_clusterer(monkeypatch)
    photos = fake_photos(library, seed=5, blobs=2)
    ids = photos.add([0] * 15 + [1] * 15 + [-1] * 5)
    library.recluster(k=2)
    outliers = ids[30:]
    assert all(album_of(library.albums.albums())[p] is None for p in outliers), "the machine left them in Other"
    library.refine(**FAST)
    after = album_of(library.albums.albums())
    assert all(after[p] is None for p in outliers)
    assert len({after[p] for p in ids[:15]}) == len({after[p] for p in ids[15:30]}) == 1


@pytest.mark.parametrize("taken", [3, 4, 6])
def test_a_correction_carries_over_to_the_look_alikes_the_user_did_not_touch(merged_blobs, taken: int) -> None:
    """The machine merged blob 2 into blob 1's album; the user takes a few blob-2 photos out into "Snow".
    Refining moves the other blob-2 photos there too, and leaves every other photo where it was."""
    library, _photos, blob2 = merged_blobs
    snow = library.albums.split(blob2[:taken], "Snow")
    before = album_of(library.albums.albums())
    summary = library.refine(**FAST)
    after = album_of(library.albums.albums())
    rest = blob2[taken:]
    followed = sum(after[p] == snow for p in rest)
    assert followed >= len(rest) - 1, f"only {followed} of {len(rest)} look-alikes followed the correction"
    others = [p for p in after if p not in blob2]
    assert all(after[p] == before[p] for p in others), "photos unlike the correction stay where they were"
    assert summary.changed == followed


@pytest.mark.slow  # indexes, re-clusters, then fine-tunes a block of the tiny CLIP
def test_fine_tuning_the_last_clip_block(tmp_path, tiny_model, make_photo) -> None:
    """The GPU option, run on CPU with the tiny ViT: tokens cached once, the last block trained with the head
    on the photos' thumbnails, the loaded model left as it was, new photos still assigned."""
    import torch

    from engine.embed.finetune import VisualTail

    colours = [(220, 30, 30), (30, 200, 40), (30, 40, 220)]
    for n in range(18):
        make_photo(tmp_path / "photos" / f"p{n}.jpg", color=colours[n % 3])
    with Library(tmp_path / "lib") as library:
        library.set_model(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"])
        library.index([tmp_path / "photos"])
        library.recluster(k=3)
        model = library.embedder().model
        before = {name: p.detach().clone() for name, p in model.visual.named_parameters()}
        tail = VisualTail(model, 1)
        trainable = {name for name, p in tail.named_parameters() if p.requires_grad}
        assert trainable and all("resblocks" in n or "ln_post" in n or n.endswith("proj") for n in trainable)
        summary = library.refine(finetune_blocks=1, epochs=2, warm_epochs=1)
        assert summary.epochs == 2 and summary.photos == len({p.hash for p in library.photos()})
        after = dict(model.visual.named_parameters())
        assert all(torch.equal(before[n], after[n]) for n in before), "the library's model is not changed"
        assert sum(len(a.members) for a in library.albums.albums()) == 18
        make_photo(tmp_path / "photos" / "late.jpg", color=colours[0])
        library.index()
        assert len(library.photos()) == 19, "new photos are still embedded and assigned afterwards"
        with pytest.raises(InvalidInputError, match="1 to 1"):
            library.refine(finetune_blocks=2, epochs=2)
