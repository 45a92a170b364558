"""Distances between sample sets, with the sampling-noise floor beside them.

A distance between two finite sample sets is never 0, even when both come from the same distribution.
``noise_floor`` measures it for independent true sets of the same size: a sampler is as good as we can
tell when its distance to the data is near that floor.
"""
from __future__ import annotations

import torch

from ._cache import cached, network_tensors, source_digest
from ._checks import check_batched, check_int
from ._memory import release

CACHE_MIN = 2000   # classifier_outputs keeps results for sets at least this large on disk (reference sets)


def sliced_wasserstein(x: torch.Tensor, y: torch.Tensor, n_projections: int = 256,
                       generator: torch.Generator | None = None) -> float:
    """Sliced 2-Wasserstein distance: sqrt of the mean over random directions of W2² of the projections.

    Sets of different sizes are compared through their quantile functions on a common grid.
    """
    check_batched("x", x)
    check_batched("y", y)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must be (n, d) with the same d, got {tuple(x.shape)} and {tuple(y.shape)}")
    n_projections = check_int("n_projections", n_projections, low=1)
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    x, y = x.detach().cpu().double(), y.detach().cpu().double()
    dirs = torch.randn(x.shape[1], n_projections, generator=generator, dtype=torch.float64)
    dirs = dirs / dirs.norm(dim=0, keepdim=True)
    px, _ = torch.sort(x @ dirs, dim=0)
    py, _ = torch.sort(y @ dirs, dim=0)
    if px.shape[0] != py.shape[0]:
        n = max(px.shape[0], py.shape[0])
        q = (torch.arange(n, dtype=torch.float64) + 0.5) / n
        px = torch.quantile(px, q, dim=0)
        py = torch.quantile(py, q, dim=0)
    return float(((px - py) ** 2).mean().sqrt())


def noise_floor(sample_fn, n: int, repeats: int = 5, seed: int = 0, metric=sliced_wasserstein):
    """Mean and std of ``metric`` between two independent sets of n true samples.

    sample_fn(n, generator) draws n samples (e.g. ``mixture.sample``).
    """
    n = check_int("n", n, low=2)
    repeats = check_int("repeats", repeats, low=1)
    g = torch.Generator().manual_seed(seed)
    d = torch.tensor([metric(sample_fn(n, g), sample_fn(n, g)) for _ in range(repeats)])
    return float(d.mean()), float(d.std()) if repeats > 1 else 0.0


# --- images: measured with an independent clean classifier ------------------------------------------
@torch.no_grad()
def classifier_outputs(classifier, images: torch.Tensor, batch: int = 500, cache: bool | None = None):
    """Predicted labels and penultimate features of a ``DigitClassifier`` for (N, 1, 28, 28) images.

    ``cache``: keep the result on disk under the digest of the classifier's weights and the images (``_cache``),
    so that a reference set (MNIST's test digits) is classified once per machine, not in every lesson run;
    by default for sets of ``CACHE_MIN`` images or more (samples are new each time: not worth a file)."""
    dev = next(classifier.parameters()).device
    classifier.eval()

    def compute():
        preds, feats = [], []
        for i in range(0, images.shape[0], batch):
            f = classifier.features(images[i:i + batch].to(dev).float())
            feats.append(f.double().cpu())
            preds.append(classifier.head(f).argmax(1).cpu())
            release()  # the batch's activations go back to the system, not into glibc's heap (diffedu/_memory.py)
        return {"preds": torch.cat(preds), "feats": torch.cat(feats)}

    if not (images.shape[0] >= CACHE_MIN if cache is None else cache):
        out = compute()
    else:
        out = cached("classifier-outputs", {**network_tensors(classifier), "images": images.detach().cpu()},
                     f"{source_digest(type(classifier), classifier_outputs)}|batch={batch}|{dev.type}", compute)
    return out["preds"], out["feats"]


def conditional_accuracy(classifier, images: torch.Tensor, requested: torch.Tensor) -> float:
    """How often the independent classifier agrees with the label the sampler was asked for."""
    preds, _ = classifier_outputs(classifier, images)
    return float((preds == requested.cpu()).double().mean())


def _sqrtm_psd(m: torch.Tensor) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh((m + m.T) / 2)
    return (vecs * vals.clamp(min=0).sqrt()) @ vecs.T


def frechet_distance(feats_a: torch.Tensor, feats_b: torch.Tensor) -> float:
    """‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2(Σ_a^½ Σ_b Σ_a^½)^½) between Gaussian fits of two feature sets.

    In the feature space of *our* MNIST classifier: a course metric, not comparable with Inception FID.
    """
    a, b = feats_a.double(), feats_b.double()
    for name, f in (("feats_a", a), ("feats_b", b)):
        if not torch.isfinite(f).all():
            raise ValueError(f"{name} contains NaN or infinite values")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(a.shape[0], b.shape[0]) < 2:
        raise ValueError("feature sets must be (n, d) with the same d and n >= 2")
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = torch.cov(a.T), torch.cov(b.T)
    ra = _sqrtm_psd(ca)
    cross = _sqrtm_psd(ra @ cb @ ra)
    return float(((mu_a - mu_b) ** 2).sum() + torch.trace(ca + cb - 2 * cross))


def frechet_with_se(feats: torch.Tensor, reference: torch.Tensor, boots: int = 20, seed: int = 0):
    """(Fréchet distance, its bootstrap standard error): the samples' features resampled with replacement ``boots``
    times (the reference held fixed), the spread of the distances. Two distances closer than two standard errors of
    their difference, √(se_a² + se_b²), are a tie."""
    g = torch.Generator().manual_seed(seed)
    n = feats.shape[0]
    reps = torch.tensor([frechet_distance(feats[torch.randint(0, n, (n,), generator=g)], reference)
                         for _ in range(boots)])
    return frechet_distance(feats, reference), float(reps.std())


def feature_diversity(feats: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean within-class spread of features (average distance to the class mean): falls as guidance grows."""
    if feats.ndim != 2 or feats.shape[0] == 0 or labels.shape != (feats.shape[0],):
        raise ValueError(f"feats must be (n, d) with n >= 1 and labels (n,), got {tuple(feats.shape)} and "
                         f"{tuple(labels.shape)}")
    out = []
    for c in labels.unique():
        f = feats[labels == c].double()
        if f.shape[0] > 1:
            out.append((f - f.mean(0)).norm(dim=1).mean())
    if not out:
        raise ValueError("feature_diversity needs at least one class with two or more samples")
    return float(torch.stack(out).mean())


def digit_scores(classifier, images: torch.Tensor, labels: torch.Tensor, reference: torch.Tensor) -> dict:
    """What the course reports for a set of generated digits: accuracy (does the independent classifier read the
    requested label?), the Fréchet distance of its features to ``reference`` (features of real digits,
    ``classifier_outputs(classifier, real)[1]``) and the within-class diversity."""
    preds, feats = classifier_outputs(classifier, images)
    return {"accuracy": float((preds == labels.cpu()).double().mean()),
            "frechet": frechet_distance(feats, reference), "diversity": feature_diversity(feats, labels.cpu())}


def real_baseline(classifier, images: torch.Tensor, labels: torch.Tensor, sample_labels: torch.Tensor, seed: int = 0):
    """(reference features, the Fréchet distance of real images at the samples' size and class mix).

    From real ``images`` with their ``labels``, images of each class drawn at random (``seed``), as many as
    ``sample_labels`` asks for, are held out and scored against the features of all the others (the reference
    returned). That score is what a perfect sampler would get at this n: the Fréchet distance is biased upward at
    small n and depends on the class mix, so samples are only compared with real images of the same n and classes.
    At random, not the first ones: MNIST's test set is ordered (its first 5,000 digits come from the cleaner
    writers), and a held-out set from one end is not a sample of the whole."""
    labels, sample_labels = labels.cpu(), sample_labels.cpu()
    order = torch.randperm(labels.shape[0], generator=torch.Generator().manual_seed(seed))
    held = []
    for c, k in zip(*sample_labels.unique(return_counts=True)):
        idx = order[labels[order] == c]
        if idx.numel() <= int(k):
            raise ValueError(f"images hold {idx.numel()} of class {int(c)}; the samples ask for {int(k)} and the "
                             "reference needs more")
        held.append(idx[:int(k)])
    held = torch.cat(held)
    rest = torch.ones(labels.shape[0], dtype=torch.bool)
    rest[held] = False
    _, feats = classifier_outputs(classifier, images)   # all of them at once: one stored result for every n and mix
    return feats[rest], frechet_distance(feats[held], feats[rest])


@torch.no_grad()
def classifier_accuracy(classifier, t=None, n: int | None = None, process=None, data: str = "mnist") -> float:
    """Test accuracy (first ``n`` test images of ``data``: "mnist" or "cifar10") of a clean classifier, or of
    a noisy one at time ``t`` on its process (``classifier.process`` unless given; each batch's noise seeded)."""
    from ._random import randn
    from .datasets import cifar10, mnist

    process = process if process is not None else getattr(classifier, "process", None)
    if data not in ("mnist", "cifar10"):
        raise ValueError(f"data must be 'mnist' or 'cifar10', got {data!r}")
    x, y = mnist.load("test") if data == "mnist" else cifar10.test_data()
    x, y = x[:n], y[:n]
    dev = next(classifier.parameters()).device
    classifier.eval()
    correct = 0
    for i in range(0, len(x), 1000):
        xb, yb = x[i:i + 1000].to(dev), y[i:i + 1000].to(dev)
        if process is not None:
            tt = process.time_tensor(1 if t is None else t, len(xb), dev)
            noise = randn(xb.shape, xb, torch.Generator().manual_seed(i))
            logits = classifier(process.q_sample(xb, tt, noise), process.net_time(tt))
        else:
            logits = classifier(xb)
        correct += int((logits.argmax(1) == yb).sum())
    return correct / len(x)
