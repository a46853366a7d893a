"""The local-feature matcher on a small synthetic catalog: printed, textured product pictures,
photographed again the ways a customer would (cropped, turned, in dim light, at an angle, inside a
bigger scene), each photo going through the API's image validation as JPEG bytes."""

from __future__ import annotations

import io
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFont

from chatshop.search.images import ImageEmpty, ImageRejected, ImageTruncated, validate_image
from chatshop.search.local_features import (
    LocalFeatureIndex,
    LocalFeatureParams,
    LocalFormatError,
    catalog_features,
    compact,
    encode,
    extract_features,
    learn_vocabulary,
    stored_codes,
    vocabulary_branching,
    with_words,
)
from chatshop.search.local_vocabulary import Vocabulary, VocabularyFormatError

SIDE = 256
CATALOG = 8


def product_picture(seed: int) -> Image.Image:
    """A product print: a smooth two-colour texture, a brand name, a few shapes, a barcode."""
    rng = np.random.default_rng(seed)
    blend = sum(
        cv2.resize(rng.random((cells, cells), dtype=np.float32), (SIDE, SIDE), interpolation=cv2.INTER_CUBIC)
        / weight
        for cells, weight in ((4, 1), (16, 2), (64, 4))
    )
    blend = (blend - blend.min()) / (blend.max() - blend.min())
    first, second = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    picture = Image.fromarray((first * (1 - blend[..., None]) + second * blend[..., None]).astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    ink = tuple(int(c) for c in rng.integers(0, 256, 3))
    brand = "".join(chr(int(c)) for c in rng.integers(65, 91, 6))
    draw.text((20, 90), brand, fill=ink, font=ImageFont.load_default(40))
    for _ in range(4):
        x, y, size = (int(v) for v in rng.integers(10, SIDE - 60, 3))
        draw.ellipse((x, y, x + size % 50 + 10, y + size % 40 + 10), outline=ink, width=3)
    x = 60
    for width in rng.integers(1, 4, 20):
        draw.rectangle((x, 200, x + int(width), 230), fill=ink)
        x += int(width) + 2
    return picture


def upload(picture: Image.Image) -> Image.Image:
    """As the API receives it: JPEG bytes, validated and decoded."""
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return validate_image(out.getvalue(), "image/jpeg").image


def crop(picture: Image.Image) -> Image.Image:
    return picture.crop((30, 20, 30 + 170, 20 + 170))


def rotation(picture: Image.Image) -> Image.Image:
    return picture.rotate(25, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(128, 128, 128))


def darker(picture: Image.Image) -> Image.Image:
    return ImageEnhance.Brightness(picture).enhance(0.5)


def perspective(picture: Image.Image) -> Image.Image:
    corners = np.float32([[0, 0], [SIDE, 0], [SIDE, SIDE], [0, SIDE]])
    tilted = np.float32([[40, 25], [SIDE - 40, 25], [SIDE, SIDE], [0, SIDE]])
    warp = cv2.getPerspectiveTransform(corners, tilted)
    return Image.fromarray(cv2.warpPerspective(np.asarray(picture), warp, (SIDE, SIDE)))


def in_a_scene(picture: Image.Image, side: int = 160) -> Image.Image:
    rng = np.random.default_rng(99)
    room = cv2.resize(rng.random((12, 16), dtype=np.float32), (640, 480), interpolation=cv2.INTER_CUBIC)
    scene = Image.fromarray(np.clip(60 + 140 * room, 0, 255).astype(np.uint8)).convert("RGB")
    ImageDraw.Draw(scene).rectangle((400, 60, 560, 300), fill=(30, 90, 160))
    scene.paste(picture.resize((side, side), Image.Resampling.LANCZOS), (120, 200))
    return scene


@pytest.fixture(scope="module")
def index() -> LocalFeatureIndex:
    pictures = [upload(product_picture(seed)) for seed in range(CATALOG)]
    features = [catalog_features(picture, LocalFeatureParams()) for picture in pictures]
    index = LocalFeatureIndex.learn(features, seed=1)
    for seed, feature in enumerate(features):
        index.upsert(f"product-{seed}", feature)
    return index


@pytest.mark.parametrize("change", [crop, rotation, darker, perspective, in_a_scene])
@pytest.mark.parametrize("seed", [0, 5])
def test_a_changed_photo_finds_its_product(index: LocalFeatureIndex, change, seed: int) -> None:
    # Given a customer's photo of catalog product `seed`, changed as a real photo would be
    photo = upload(change(product_picture(seed)))

    # When it is searched
    matches = index.query(photo)

    # Then its product comes first, verified by more inliers than a match needs
    assert matches, "nothing matched"
    assert matches[0].key == f"product-{seed}"
    assert matches[0].inliers >= index.params.min_inliers
    assert all(a.inliers >= b.inliers for a, b in zip(matches, matches[1:], strict=False))


def test_a_product_small_in_a_big_scene_is_found_by_looking_closer(index: LocalFeatureIndex) -> None:
    # Given a photo where the product is a small part of a big, cluttered room
    photo = upload(in_a_scene(product_picture(6), side=110))
    once = LocalFeatureIndex.from_bytes(index.to_bytes(), replace(index.params, closer_look=1.0))

    # Then at the photo's own size nothing verifies, and enlarged the product does
    assert once.query(photo) == []
    matches = index.query(photo)
    assert matches and matches[0].key == "product-6"
    assert matches[0].inliers >= index.params.min_inliers
    # and given the first look's features, the photo itself is what is looked at again
    assert index.query(index.features_of(photo, query=True)) == []
    assert index.query(index.features_of(photo, query=True), photo=photo) == matches


def test_a_closer_look_sees_a_photo_larger_than_the_first_look_did_and_no_larger(
    index: LocalFeatureIndex,
) -> None:
    params = index.params
    for side, first_look in ((4000, params.query_max_side), (640, 640), (120, params.min_side)):
        # Given a big phone photo, a scene-sized one and a thumbnail, all printed edge to edge
        photo = np.asarray(product_picture(side).resize((side, side * 3 // 4)))

        # Then the closer look sees the picture's content 1.5 times as large as the first look
        first = index.features_of(photo, query=True).positions.max()
        closer = index.features_of(photo, query=True, enlarge=1.5).positions.max()
        assert 1.4 < closer / first < 1.6
        # within 1.5 times the side the first look brought the photo to
        assert first <= first_look and closer <= first_look * 1.5


def test_a_weak_answer_that_another_item_verifies_as_well_is_no_answer() -> None:
    # Given one picture indexed twice, every answer weak (under confident_inliers)
    picture = upload(product_picture(40))
    params = LocalFeatureParams(confident_inliers=10_000)
    index = LocalFeatureIndex.learn([picture], params, seed=0)
    index.upsert("shirt:front", picture)
    index.upsert("dress:front", picture)
    photo = upload(crop(product_picture(40)))

    # Then as two products' pictures they are rivals of equal inliers: nothing matched
    assert index.query(photo) == []
    # as two pictures of one product they are not rivals: both answered
    matches = index.query(photo, item_of=lambda key: "shirt")
    assert sorted(m.key for m in matches) == ["dress:front", "shirt:front"]
    assert matches[0].inliers >= params.min_inliers
    # and a strong answer needs no margin over a rival
    confident = LocalFeatureIndex.from_bytes(index.to_bytes(), replace(params, confident_inliers=0))
    assert len(confident.query(photo)) == 2


def test_a_product_outside_the_catalog_matches_nothing(index: LocalFeatureIndex) -> None:
    stranger = upload(product_picture(1000))

    assert index.query(stranger) == []


@pytest.mark.parametrize("colour", [(255, 255, 255), (200, 30, 40)])
def test_a_flat_colour_has_no_features_and_matches_nothing(index: LocalFeatureIndex, colour) -> None:
    flat = upload(Image.new("RGB", (400, 300), colour))

    assert len(index.features_of(flat, query=True)) == 0
    assert index.query(flat) == []


def test_a_tiny_or_grey_picture_is_searched_without_error(index: LocalFeatureIndex) -> None:
    assert index.query(np.zeros((1, 1), np.uint8)) == []
    grey = np.asarray(upload(crop(product_picture(3))).convert("L"))

    assert index.query(grey)[0].key == "product-3"


def test_bad_bytes_are_rejected_before_the_matcher_as_today(index: LocalFeatureIndex) -> None:
    # The matcher takes validated pictures only: zero bytes and a cut file are 4xx errors, never retried.
    out = io.BytesIO()
    product_picture(0).save(out, "JPEG", quality=85)
    with pytest.raises(ImageEmpty) as empty:
        validate_image(b"", "image/jpeg")
    with pytest.raises(ImageTruncated) as truncated:
        validate_image(out.getvalue()[: len(out.getvalue()) // 2], "image/jpeg")

    assert isinstance(empty.value, ImageRejected) and empty.value.status == 400
    assert isinstance(truncated.value, ImageRejected) and truncated.value.status == 422


def test_the_snapshot_round_trip_answers_the_same(index: LocalFeatureIndex) -> None:
    # Given a snapshot of the index
    data = index.to_bytes()

    # When it is read back
    loaded = LocalFeatureIndex.from_bytes(data)

    # Then it holds the same images and answers every photo exactly as the original does
    assert len(loaded) == len(index) == CATALOG
    assert loaded.params == index.params
    assert loaded.to_bytes() == data
    for seed in (2, 6):
        photo = upload(rotation(product_picture(seed)))
        assert loaded.query(photo) == index.query(photo)


def test_an_indexed_image_costs_at_most_20_kb(index: LocalFeatureIndex) -> None:
    assert index.image_bytes() / len(index) <= 20_000


def test_query_settings_can_be_changed_when_a_snapshot_is_read(index: LocalFeatureIndex) -> None:
    strict = LocalFeatureIndex.from_bytes(index.to_bytes(), LocalFeatureParams(min_inliers=10_000))

    assert strict.params.min_inliers == 10_000
    assert strict.params.catalog_features == index.params.catalog_features
    assert strict.query(upload(crop(product_picture(4)))) == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: b"NOTLOC" + data[6:],
        lambda data: data[: len(data) - 10],
        lambda data: data + b"\x00\x00\x00\x00",
    ],
    ids=["empty", "wrong magic", "truncated", "trailing bytes"],
)
def test_a_damaged_snapshot_is_refused(index: LocalFeatureIndex, damage) -> None:
    with pytest.raises(LocalFormatError):
        LocalFeatureIndex.from_bytes(damage(index.to_bytes()))


def test_a_replaced_image_is_found_by_its_new_picture_and_a_deleted_one_not_at_all() -> None:
    pictures = {seed: upload(product_picture(seed)) for seed in (10, 11, 12)}
    index = LocalFeatureIndex.learn(pictures.values(), seed=2)
    index.upsert("a", pictures[10])
    index.upsert("b", pictures[11])

    # When "a" gets another picture and "b" is deleted
    index.upsert("a", pictures[12])
    index.delete(["b", "never-indexed"])

    # Then only the new picture of "a" is found
    assert "b" not in index and len(index) == 1
    assert index.query(upload(crop(product_picture(12))))[0].key == "a"
    assert index.query(upload(crop(product_picture(10)))) == []
    assert index.query(upload(crop(product_picture(11)))) == []
    # And a freed slot is used again, its snapshot still readable
    index.upsert("c", pictures[11])
    loaded = LocalFeatureIndex.from_bytes(index.to_bytes())
    assert loaded.query(upload(darker(product_picture(11))))[0].key == "c"


def test_the_vocabulary_assigns_the_same_words_after_a_round_trip() -> None:
    descriptors = extract_features(product_picture(20), 500, LocalFeatureParams()).descriptors
    vocabulary = Vocabulary.learn(descriptors, branching=8, depth=2, seed=3)

    loaded = Vocabulary.from_bytes(vocabulary.to_bytes())

    words = vocabulary.assign(descriptors)
    assert loaded.size == 64 and words.max() < 64
    assert len(np.unique(words)) > 16  # the words spread over the vocabulary, not one bucket
    np.testing.assert_array_equal(loaded.assign(descriptors), words)
    with pytest.raises(VocabularyFormatError):
        Vocabulary.from_bytes(vocabulary.to_bytes()[:-2])


def test_a_query_can_be_kept_to_one_label_or_to_given_keys() -> None:
    # Given one picture indexed twice, under two countries
    pictures = [upload(product_picture(seed)) for seed in (30, 31)]
    index = LocalFeatureIndex.learn(pictures, seed=4)
    index.upsert("us-copy", pictures[0], "US")
    index.upsert("mx-copy", pictures[0], "MX")
    index.upsert("other", pictures[1], "US")
    photo = upload(crop(product_picture(30)))

    # Then a label keeps the other country's copy out, and so does a list of keys
    assert {m.key for m in index.query(photo)} == {"us-copy", "mx-copy"}
    assert [m.key for m in index.query(photo, label="MX")] == ["mx-copy"]
    assert [m.key for m in index.query(photo, only=["us-copy", "other", "unknown"])] == ["us-copy"]
    assert index.query(photo, label="MX", only=["us-copy"]) == []
    assert index.label_of("mx-copy") == "MX"


def test_a_snapshot_saved_without_its_vocabulary_is_read_only_with_that_vocabulary(index) -> None:
    data = index.to_bytes(with_vocabulary=False)
    other = learn_vocabulary(
        compact(extract_features(product_picture(40), 500, LocalFeatureParams()), 24),
        LocalFeatureParams(branching=8, depth=2),
    )

    # The words (centres of 24 float16 coefficients) are not repeated.
    assert len(index.to_bytes()) - len(data) == len(index.vocabulary.to_bytes())
    with pytest.raises(LocalFormatError):
        LocalFeatureIndex.from_bytes(data)
    with pytest.raises(LocalFormatError):
        LocalFeatureIndex.from_bytes(data, vocabulary=other)
    loaded = LocalFeatureIndex.from_bytes(data, vocabulary=index.vocabulary)
    photo = upload(perspective(product_picture(5)))
    assert loaded.query(photo) == index.query(photo)


def test_words_of_another_vocabulary_are_refused() -> None:
    pictures = [upload(product_picture(seed)) for seed in (50, 51)]
    first = LocalFeatureIndex.learn(pictures[:1], seed=0)
    second = LocalFeatureIndex.learn(pictures[1:], seed=0)

    with pytest.raises(ValueError):
        second.upsert("a", encode(catalog_features(pictures[0], LocalFeatureParams()), first.vocabulary))


def test_codes_kept_before_a_vocabulary_index_as_the_image_itself(index: LocalFeatureIndex) -> None:
    # Given a picture's stored codes and frames, kept before any vocabulary existed
    features = catalog_features(upload(product_picture(3)), LocalFeatureParams())
    codes, frames = stored_codes(features, index.params.compact_dimensions, index.params.stored_features)

    # When a vocabulary gives them words
    image = with_words(codes, frames, index.vocabulary)

    # Then they are what encoding the features gives, and at most the stored features are kept
    direct = encode(features, index.vocabulary, index.params.stored_features)
    assert len(image) == min(len(features), index.params.stored_features)
    np.testing.assert_array_equal(image.words, direct.words)
    np.testing.assert_array_equal(image.frames, direct.frames)
    np.testing.assert_array_equal(image.codes, direct.codes)
    assert image.vocabulary == index.vocabulary.digest


def test_a_vocabulary_can_be_learned_from_a_single_small_picture() -> None:
    # A region's first product may be one picture with few features: the words must still work.
    descriptors = extract_features(product_picture(60), 40, LocalFeatureParams()).descriptors

    vocabulary = Vocabulary.learn(descriptors, branching=64, depth=2)

    assert vocabulary.size == 4096
    np.testing.assert_array_equal(vocabulary.assign(descriptors), vocabulary.assign(descriptors.copy()))
    assert len(np.unique(vocabulary.assign(descriptors))) == len(descriptors)


def test_a_vocabulary_has_as_many_words_as_its_descriptors_fill() -> None:
    params = LocalFeatureParams()
    codes = compact(catalog_features(product_picture(61), params), params.compact_dimensions)

    # One picture's few hundred features: a few dozen words of several features each, not 4,096 of
    # one, which a soft photo of the picture would hardly meet
    one = learn_vocabulary(codes, params)
    assert one.size == vocabulary_branching(len(codes), params) ** 2
    assert 64 <= one.size <= len(codes) / 4
    # from ~131,000 descriptors on (four hundred pictures) the full tree, and never more
    counts = (0, 500, 8_000, 32_768, 131_072, 10**6)
    assert [vocabulary_branching(n, params) for n in counts] == [8, 8, 31, 64, 128, 128]


def test_multiple_assignment_gives_the_nearest_words_nearest_first() -> None:
    descriptors = extract_features(product_picture(70), 300, LocalFeatureParams()).descriptors
    vocabulary = Vocabulary.learn(descriptors, branching=8, depth=2, seed=1)
    leaves = Vocabulary.from_bytes(vocabulary.to_bytes())._levels[-1]

    # Searched down every branch, the tree gives exactly the nearest leaves
    nearest = vocabulary.assign_nearest(descriptors[:50], 3, branches=8)
    distances = ((descriptors[:50, None, :] - leaves[None, :, :]) ** 2).sum(axis=2)
    found = np.take_along_axis(distances, nearest.astype(np.int64), axis=1)
    np.testing.assert_allclose(found, np.sort(distances, axis=1)[:, :3], atol=1e-5)  # ties may swap
    # Down the two nearest branches, the first word is the one a catalog feature would get, or nearer
    first = vocabulary.assign_nearest(descriptors, 3)[:, 0]
    chosen = vocabulary.assign(descriptors)
    assert np.all(
        distances_to(descriptors, leaves, first) <= distances_to(descriptors, leaves, chosen) + 1e-5
    )
    assert np.mean(first == chosen) > 0.9


def distances_to(descriptors: np.ndarray, leaves: np.ndarray, words: np.ndarray) -> np.ndarray:
    return ((descriptors - leaves[words]) ** 2).sum(axis=1)
