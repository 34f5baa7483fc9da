#!/usr/bin/env python3
"""Fetch TensorFlow's flower photos as data/flowers/{train,val,test}/<5 classes>/ (CC-BY 2.0, see LICENSE.txt).

3,670 JPEGs of daisy, dandelion, roses, sunflowers and tulips. LICENSE.txt (the photographers to credit)
is copied next to the splits.

Examples:
    python data_scripts/fetch_flowers.py --subset 100     # 100 per class: a fast classroom copy
    python data_scripts/fetch_flowers.py                  # everything (229 MB download)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data_scripts.fetch import Source, main  # noqa: E402

FLOWERS = Source(
    name="flowers",
    title="TensorFlow's flower photos",
    url="https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz",
    # Size and SHA-256 as recorded by TensorFlow Datasets, tensorflow_datasets/url_checksums/tf_flowers.txt
    # (for the same file at http://download.tensorflow.org/example_images/flower_photos.tgz).
    sha256="4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c",
    size=228_813_984,
    classes_in="flower_photos",
    license_file="flower_photos/LICENSE.txt",
)

if __name__ == "__main__":
    sys.exit(main(FLOWERS))
