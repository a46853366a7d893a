"""Writes the fixed PCA basis of RootSIFT that the local matcher keeps its descriptors in
(``chatshop/search/rootsift_pca.bin``, see :mod:`chatshop.search.local_compact`).

The descriptors are those of product pictures and of changed photos of them, drawn and photographed
by the quality benchmark's generators from a seed of their own (not the benchmark's), so the
benchmark's figures are not measured on the pictures the basis was made from. Deterministic: the
same seed writes the same file.

    .venv/bin/python bench/rootsift_projection.py
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from search_quality import TRANSFORMS, as_upload, make_catalog  # noqa: E402

from chatshop.search.local_compact import DATA, Projection  # noqa: E402
from chatshop.search.local_features import LocalFeatureParams, extract_features  # noqa: E402

COMPONENTS = 64
# A component's codes span +-5.3 of its standard deviations: the tails clip, the bulk keeps ~1/24 sd.
STEPS_PER_SD = 24


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=120)
    parser.add_argument("--seed", default="rootsift-projection")
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    params = LocalFeatureParams()
    rng = random.Random(args.seed)
    descriptors = []
    for i, product in enumerate(make_catalog(args.products, rng)):
        picture = as_upload(product.photo())
        descriptors.append(extract_features(picture, params.catalog_features, params).descriptors)
        name = list(TRANSFORMS)[i % len(TRANSFORMS)]
        photo = as_upload(TRANSFORMS[name](product, random.Random(f"{args.seed}-{i}")))
        descriptors.append(extract_features(photo, 400, params).descriptors)
    data = np.concatenate(descriptors).astype(np.float64)
    mean = data.mean(axis=0)
    variances, vectors = np.linalg.eigh(np.cov(data - mean, rowvar=False))
    order = np.argsort(variances)[::-1][:COMPONENTS]
    axes = vectors[:, order].T
    # Signs fixed (largest entry positive), so the file does not depend on the solver's choice.
    axes *= np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])[:, None]
    step = np.sqrt(variances[order]) / STEPS_PER_SD
    args.out.write_bytes(Projection.to_bytes(mean, axes, step))
    kept = np.cumsum(variances[order]) / variances.sum()
    print(
        f"{len(data)} descriptors; variance kept by 16/24/32/48/64 components:"
        f" {' '.join(f'{kept[d - 1]:.3f}' for d in (16, 24, 32, 48, 64))}; wrote {args.out}"
    )


if __name__ == "__main__":
    main()
