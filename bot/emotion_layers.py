"""The fine-tuned top of MiniLM that reads emotions: `EmotionTop`.

Layers 0..K-1 of all-MiniLM-L6-v2 are shared with the sentence embedding; `EmotionTop` is a
fine-tuned copy of the layers from K on, plus mean pooling and a linear layer to the seven
emotions, written in plain torch so that it runs on the hidden states the shared forward
pass already computed. `personality/models/README.md` says how it was trained.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personality.emotion import TOP_PATH
from personality.signals import EMOTIONS

if TYPE_CHECKING:
    import torch


def bert_layer_weights(layer: Any) -> dict[str, torch.Tensor]:
    """A float32 copy of one `transformers` BertLayer's weights: self-attention (q, k, v, o)
    and its norm (ln1), feed-forward (up, down) and its norm (ln2)."""
    attention = layer.attention
    modules = {
        "q": attention.self.query,
        "k": attention.self.key,
        "v": attention.self.value,
        "o": attention.output.dense,
        "ln1": attention.output.LayerNorm,
        "up": layer.intermediate.dense,
        "down": layer.output.dense,
        "ln2": layer.output.LayerNorm,
    }
    return {
        f"{name}.{kind}": getattr(module, kind).detach().clone().float()
        for name, module in modules.items()
        for kind in ("weight", "bias")
    }


class EmotionTop:
    """A fine-tuned copy of the sentence model's top layers, mean pooling and a linear head.

    It reads the hidden states entering layer `first_layer` of the (frozen, shared) sentence
    model, so one forward pass of the bottom layers serves both the sentence embedding and
    the emotions. The layers are the BERT post-norm layer written out with torch functions.
    """

    def __init__(
        self,
        params: dict[str, torch.Tensor],
        *,
        first_layer: int,
        heads: int,
        eps: float,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.params = params
        self.first_layer = first_layer
        self.heads = heads
        self.eps = eps
        self.metadata = dict(metadata or {})
        self.depth = len({key.split(".")[1] for key in params if key.startswith("layers.")})

    @classmethod
    def from_model(cls, model: Any, first_layer: int) -> EmotionTop:
        """An untrained top: copies of `model`'s layers from `first_layer` on, a zero head."""
        import torch

        params: dict[str, torch.Tensor] = {}
        for index, layer in enumerate(model.encoder.layer[first_layer:]):
            for key, value in bert_layer_weights(layer).items():
                params[f"layers.{index}.{key}"] = value
        config = model.config
        params["head.weight"] = torch.zeros(len(EMOTIONS), config.hidden_size)
        params["head.bias"] = torch.zeros(len(EMOTIONS))
        return cls(
            params,
            first_layer=first_layer,
            heads=int(config.num_attention_heads),
            eps=float(config.layer_norm_eps),
        )

    def logits(
        self,
        hidden: torch.Tensor,
        mask: torch.Tensor,
        *,
        dropout: float = 0.0,
        training: bool = False,
    ) -> torch.Tensor:
        """Emotion logits [batch, 7] from hidden states [batch, tokens, dim] entering
        `first_layer` and the boolean token mask [batch, tokens]."""
        from torch.nn import functional

        for index in range(self.depth):
            hidden = self._layer(index, hidden, mask, dropout if training else 0.0)
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
        pooled = functional.dropout(pooled, dropout, training)
        return functional.linear(pooled, self.params["head.weight"], self.params["head.bias"])

    def _layer(
        self, index: int, hidden: torch.Tensor, mask: torch.Tensor, dropout: float
    ) -> torch.Tensor:
        from torch.nn import functional

        def part(name: str) -> tuple[torch.Tensor, torch.Tensor]:
            prefix = f"layers.{index}.{name}"
            return self.params[f"{prefix}.weight"], self.params[f"{prefix}.bias"]

        batch, tokens, width = hidden.shape

        def split(values: torch.Tensor) -> torch.Tensor:
            return values.view(batch, tokens, self.heads, width // self.heads).transpose(1, 2)

        query, key, value = (split(functional.linear(hidden, *part(n))) for n in "qkv")
        attended = functional.scaled_dot_product_attention(
            query, key, value, attn_mask=mask[:, None, None, :], dropout_p=dropout
        )
        attended = attended.transpose(1, 2).reshape(batch, tokens, width)
        attended = functional.dropout(functional.linear(attended, *part("o")), dropout)
        hidden = functional.layer_norm(hidden + attended, (width,), *part("ln1"), eps=self.eps)
        feed = functional.linear(
            functional.gelu(functional.linear(hidden, *part("up"))), *part("down")
        )
        feed = functional.dropout(feed, dropout)
        return functional.layer_norm(hidden + feed, (width,), *part("ln2"), eps=self.eps)

    def save(self, path: Path) -> None:
        """float16 weights in a safetensors file (a few MB); the settings and `metadata` go
        in one JSON string under the key "attune", so that the file's bytes are reproducible
        (safetensors writes several metadata keys in an arbitrary order)."""
        from safetensors.torch import save_file

        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {key: value.detach().half().contiguous() for key, value in self.params.items()}
        settings = {
            **self.metadata,
            "first_layer": self.first_layer,
            "heads": self.heads,
            "eps": self.eps,
            "labels": list(EMOTIONS),
        }
        save_file(tensors, str(path), metadata={"attune": json.dumps(settings, sort_keys=True)})

    @classmethod
    def load(cls, path: Path = TOP_PATH) -> EmotionTop:
        from safetensors import safe_open
        from safetensors.torch import load_file

        with safe_open(str(path), framework="pt") as handle:
            settings = json.loads((handle.metadata() or {}).get("attune", "{}"))
        if settings.get("labels") != list(EMOTIONS):
            raise ValueError(f"{path} has labels {settings.get('labels')}, not {EMOTIONS}")
        params = {key: value.float() for key, value in load_file(str(path)).items()}
        return cls(
            params,
            first_layer=int(settings["first_layer"]),
            heads=int(settings["heads"]),
            eps=float(settings["eps"]),
            metadata=settings,
        )
