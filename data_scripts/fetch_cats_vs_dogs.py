#!/usr/bin/env python3
"""Fetch Microsoft's Cats-vs-Dogs photos (PetImages) as data/cats_vs_dogs/{train,val,test}/{Cat,Dog}/.

The archive holds 12,500 JPEGs per class, among them zero-byte and damaged files, and Thumbs.db files:
the health check reads every image and only healthy ones are copied (the list is in health.txt).

Examples:
    python data_scripts/fetch_cats_vs_dogs.py --subset 500      # 500 per class: a fast classroom copy
    python data_scripts/fetch_cats_vs_dogs.py                   # everything (825 MB download)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data_scripts.fetch import Source, main  # noqa: E402

CATS_VS_DOGS = Source(
    name="cats_vs_dogs",
    title="Microsoft's Cats-vs-Dogs photos (PetImages)",
    url="https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip",
    # Size and SHA-256 as recorded by Hugging Face datasets, datasets/cats_vs_dogs/dataset_infos.json
    # ("download_checksums", after PR #4033, March 2022); the same hash is in GoMLX's dogs-vs-cats example.
    sha256="b7974bd00a84a99921f36ee4403f089853777b5ae8d151c76a86e64900334af9",
    size=824_887_076,
    classes_in="PetImages",
)

if __name__ == "__main__":
    sys.exit(main(CATS_VS_DOGS))
