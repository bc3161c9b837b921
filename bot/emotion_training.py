"""Training the fallback emotion head: GoEmotions data, metrics and a softmax regression
on frozen sentence embeddings (`attune train-emotion --out PATH.json`)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.embedding import SentenceEmbedder
from personality.emotion import EmotionHead
from personality.lexicons import Lexicons
from personality.ports import Embedder
from personality.signals import EMOTIONS
from personality.text import clean

log = logging.getLogger(__name__)


def cached_embeddings(
    texts: Sequence[str], cache_dir: Path, name: str, embedder: Callable[[], Embedder]
) -> npt.NDArray[np.float32]:
    """Embeddings of `texts`, kept in `cache_dir/name-<digest>.npy` so that retraining is fast."""
    digest = hashlib.sha256("\n".join(texts).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    path = cache_dir / f"{name}-{digest}.npy"
    if path.exists():
        cached: npt.NDArray[np.float32] = np.load(path)
        if cached.shape[0] == len(texts):
            return cached
    rows = embedder().embed(texts)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, rows)
    log.info("cached %d embeddings in %s", len(texts), path)
    return rows


@dataclass(frozen=True)
class Labelled:
    """GoEmotions rows: texts and, per row, label indices into EMOTIONS (in file order)."""

    texts: list[str]
    labels: list[list[int]]

    @property
    def first(self) -> npt.NDArray[np.int64]:
        return np.asarray([row[0] for row in self.labels], dtype=np.int64)

    def soft_targets(self) -> npt.NDArray[np.float32]:
        """Each row's labels share its probability mass equally."""
        targets = np.zeros((len(self.labels), len(EMOTIONS)), dtype=np.float32)
        for index, row in enumerate(self.labels):
            targets[index, row] = 1.0 / len(row)
        return targets


def read_goemotions(path: Path) -> Labelled:
    """`text <TAB> ids <TAB> id` rows; ids index labels.txt, which must match EMOTIONS."""
    names = (path.parent / "labels.txt").read_text(encoding="utf-8").split()
    if tuple(names) != EMOTIONS:
        raise ValueError(f"{path.parent}/labels.txt lists {names}, expected {EMOTIONS}")
    texts: list[str] = []
    labels: list[list[int]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line:
            continue
        text, ids = line.split("\t")[:2]
        texts.append(text)
        labels.append([int(part) for part in ids.split(",")])
    return Labelled(texts, labels)


def f1_report(predicted: npt.NDArray[np.int64], gold: npt.NDArray[np.int64]) -> dict[str, Any]:
    """Macro-F1, per-class F1 and accuracy of single-label predictions."""
    per_class: dict[str, float] = {}
    for index, name in enumerate(EMOTIONS):
        true_pos = float(np.sum((predicted == index) & (gold == index)))
        false_pos = float(np.sum((predicted == index) & (gold != index)))
        false_neg = float(np.sum((predicted != index) & (gold == index)))
        denominator = 2 * true_pos + false_pos + false_neg
        per_class[name] = 2 * true_pos / denominator if denominator else 0.0
    return {
        "macro_f1": round(float(np.mean(list(per_class.values()))), 4),
        "accuracy": round(float(np.mean(predicted == gold)), 4),
        "per_class_f1": {name: round(value, 4) for name, value in per_class.items()},
    }


@dataclass(frozen=True)
class HeadConfig:
    hidden: int
    """0 trains a softmax regression; otherwise one ReLU hidden layer of this width."""
    weight_decay: float
    lexicon: bool
    balance: float
    """Class weights are (1 / class frequency) ** balance: 0 = plain, 1 = fully balanced."""
    epochs: int = 30
    dropout: float = 0.2


SEARCH: tuple[HeadConfig, ...] = tuple(
    HeadConfig(hidden=hidden, weight_decay=decay, lexicon=lexicon, balance=balance)
    for hidden in (0, 256)
    for decay in (1e-4,)
    for lexicon in (False, True)
    for balance in (0.5, 1.0)
)


@dataclass(frozen=True)
class Fitted:
    config: HeadConfig
    layers: tuple[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]], ...]
    epoch: int
    dev: dict[str, Any]


def fit_head(
    config: HeadConfig,
    train_x: npt.NDArray[np.float32],
    train_y: npt.NDArray[np.float32],
    dev_x: npt.NDArray[np.float32],
    dev_gold: npt.NDArray[np.int64],
    seed: int,
) -> Fitted:
    """Trains one head with AdamW on soft targets; keeps the epoch with the best dev macro-F1."""
    import torch  # training is the only place that needs torch

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    width = train_x.shape[1]
    modules: list[torch.nn.Module] = []
    if config.hidden:
        modules += [
            torch.nn.Dropout(config.dropout),
            torch.nn.Linear(width, config.hidden),
            torch.nn.ReLU(),
            torch.nn.Dropout(config.dropout),
        ]
    modules.append(torch.nn.Linear(config.hidden or width, len(EMOTIONS)))
    model = torch.nn.Sequential(*modules)
    frequency = train_y.sum(axis=0) / train_y.sum()
    class_weight = torch.from_numpy((1.0 / frequency) ** config.balance).float()
    class_weight /= (class_weight * torch.from_numpy(frequency).float()).sum()
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=1e-3 if config.hidden else 5e-3, weight_decay=config.weight_decay
    )
    inputs, targets = torch.from_numpy(train_x), torch.from_numpy(train_y)
    dev_inputs = torch.from_numpy(dev_x)
    best: Fitted | None = None
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(inputs), generator=generator)
        for start in range(0, len(order), 128):
            batch = order[start : start + 128]
            log_probs = torch.log_softmax(model(inputs[batch]), dim=1)
            loss = -(targets[batch] * log_probs * class_weight).sum(dim=1).mean()
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it untyped
            optimiser.step()
        model.eval()
        with torch.no_grad():
            predicted = model(dev_inputs).argmax(dim=1).numpy().astype(np.int64)
        report = f1_report(predicted, dev_gold)
        if best is None or report["macro_f1"] > best.dev["macro_f1"]:
            linear = [module for module in model if isinstance(module, torch.nn.Linear)]
            layers = tuple(
                (
                    layer.weight.detach().numpy().T.astype(np.float32).copy(),
                    layer.bias.detach().numpy().astype(np.float32).copy(),
                )
                for layer in linear
            )
            best = Fitted(config, layers, epoch, report)
    assert best is not None  # epochs >= 1
    log.info(
        "head %s: best dev macro-F1 %.4f at epoch %d", config, best.dev["macro_f1"], best.epoch
    )
    return best


SIMPLER_MARGIN = 0.005
"""A hidden layer is kept only when it beats the best softmax regression by this much dev
macro-F1: on a tie the smaller, faster artifact wins."""


def choose_head(results: Sequence[Fitted]) -> Fitted:
    best = max(results, key=lambda fitted: fitted.dev["macro_f1"])
    linear = [fitted for fitted in results if fitted.config.hidden == 0]
    if best.config.hidden and linear:
        simplest = max(linear, key=lambda fitted: fitted.dev["macro_f1"])
        if best.dev["macro_f1"] - simplest.dev["macro_f1"] < SIMPLER_MARGIN:
            return simplest
    return best


def lexicon_matrix(lexicons: Lexicons, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    return np.stack([lexicons.read(clean(text)).features() for text in texts])


def train_emotion(
    data_dir: Path,
    out: Path,
    seed: int = 13,
    *,
    cache_dir: Path = Path("data") / "cache",
    embedder: Callable[[], Embedder] | None = None,
    search: Sequence[HeadConfig] = SEARCH,
) -> dict[str, Any]:
    """Trains the emotion head on `data_dir/train.tsv`, selects on `dev.tsv`, saves to `out`.

    Targets are multi-label (a row's labels share its mass); evaluation counts a row's first
    label. Returns the dev metrics of the chosen head, the search and the NRC-only baseline.
    """
    make_embedder = embedder or _frozen_embedder
    train, dev = read_goemotions(data_dir / "train.tsv"), read_goemotions(data_dir / "dev.tsv")
    train_emb = cached_embeddings(train.texts, cache_dir, "goemotions-train", make_embedder)
    dev_emb = cached_embeddings(dev.texts, cache_dir, "goemotions-dev", make_embedder)
    lexicons = Lexicons()
    train_lex, dev_lex = lexicon_matrix(lexicons, train.texts), lexicon_matrix(lexicons, dev.texts)
    mean, std = train_lex.mean(axis=0), train_lex.std(axis=0) + 1e-6
    gold = dev.first
    results: list[Fitted] = []
    for config in search:
        train_x, dev_x = train_emb, dev_emb
        if config.lexicon:
            train_x = np.concatenate([train_emb, (train_lex - mean) / std], axis=1)
            dev_x = np.concatenate([dev_emb, (dev_lex - mean) / std], axis=1)
        results.append(fit_head(config, train_x, train.soft_targets(), dev_x, gold, seed))
    chosen = choose_head(results)
    empty = np.zeros(0, dtype=np.float32)
    nrc_predicted = np.asarray(
        [
            EMOTIONS.index(_argmax(lexicons.read(clean(text)).emotion_estimate()))
            for text in dev.texts
        ],
        dtype=np.int64,
    )
    report: dict[str, Any] = {
        "dev_macro_f1": chosen.dev["macro_f1"],
        "dev_accuracy": chosen.dev["accuracy"],
        "per_class_f1": chosen.dev["per_class_f1"],
        "nrc_baseline": f1_report(nrc_predicted, gold),
        "chosen": {**asdict(chosen.config), "epochs": chosen.epoch},
        "search": [
            {**asdict(fitted.config), "epochs": fitted.epoch, "macro_f1": fitted.dev["macro_f1"]}
            for fitted in results
        ],
        "labels": "train: multi-label soft targets; dev: a row's first label",
        "seed": seed,
        "train_rows": len(train.texts),
        "dev_rows": len(dev.texts),
    }
    head = EmotionHead(
        labels=EMOTIONS,
        layers=chosen.layers,
        lexicon_mean=mean.astype(np.float32) if chosen.config.lexicon else empty,
        lexicon_std=std.astype(np.float32) if chosen.config.lexicon else empty,
        metadata={key: report[key] for key in ("dev_macro_f1", "dev_accuracy", "chosen", "seed")},
    )
    head.save(out)
    return report


def _frozen_embedder() -> Embedder:
    """The sentence model alone: the head is trained on its embeddings."""
    return SentenceEmbedder(emotion_top=None)


def _argmax(scores: dict[str, float]) -> str:
    return max(EMOTIONS, key=lambda name: scores[name])
