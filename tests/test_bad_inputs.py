"""Every bad input that a sweep of careless calls found gets a ValueError/TypeError naming the argument
(the call, the exception type, a pattern the message must contain)."""
import gzip
import io
import json
import tarfile
from functools import lru_cache

import numpy as np
import pytest
import torch

import diffedu as de
from diffedu import cascade, checkpoint, fewstep, forward, latent, metrics, schedules, text, toy
from diffedu import samplers as smp
from diffedu.datasets import cifar10, mnist
from diffedu.families import GAN, VAE, RealNVP, compare, train_gan
from diffedu.families import diffusion as family_diffusion
from diffedu.guidance import CLIPGuided, classifier_guided, guided_score
from diffedu.model import cfg_combine
from diffedu.models import CLIP, Autoencoder, SuperResUNet, UNet
from diffedu.models.tokenizer import Tokenizer
from diffedu.samplers import ddim_sample, reverse_sde_sample

S = schedules.linear(10)
X2 = torch.zeros(3, 2)
IMG = torch.zeros(2, 1, 28, 28)
T2 = torch.tensor([5, 9])


def _unet():
    return de.pretrained("mnist-unet")


def _ring_model():
    return toy.ring().model(de.VPSDE())


CASES = [
    ("from_betas('abc')", lambda: schedules.from_betas("abc"), ValueError, "betas"),
    ("q_sample with a schedule name", lambda: forward.q_sample(X2, 1, "linear"), ValueError, "sched must be"),
    ("q_sample NaN noise", lambda: forward.q_sample(X2, 1, S, noise=torch.full((3, 2), float("nan"))), ValueError,
     "noise contains NaN"),
    ("score_from_eps at t = 0", lambda: forward.score_from_eps(X2, 0, X2, S), ValueError, "t must be >= 1"),
    ("3 features to the 2-D MLP", lambda: de.MLPDenoiser()(torch.zeros(3, 3), torch.zeros(3)), ValueError,
     r"x must have shape \(batch, 2\)"),
    ("3 features to diffusion_loss", lambda: de.diffusion_loss(de.MLPDenoiser(), torch.zeros(4, 3), S), ValueError,
     r"x must have shape \(batch, 2\)"),
    ("clip_x0='1'", lambda: ddim_sample(de.pretrained("ring8-mlp"), X2, 5, clip_x0="1"), ValueError, "clip_x0"),
    ("corrector_steps=1.5", lambda: reverse_sde_sample(_ring_model(), X2.double(), 5, corrector_steps=1.5), ValueError,
     "corrector_steps"),
    ("label 11 to the U-Net", lambda: _unet().net(IMG, T2, torch.tensor([11, 1])), ValueError, "y must hold"),
    ("label -1 to the U-Net", lambda: _unet().net(IMG, T2, torch.tensor([-1, 1])), ValueError, "y must hold"),
    ("label 2.7 to the U-Net", lambda: _unet().net(IMG, T2, torch.tensor([2.7, 1.0])), ValueError, "integer tensor"),
    ("label 11 to CFG", lambda: _unet().given(11, 2.0).eps(IMG, T2), ValueError, "cond must be class labels"),
    ("label 10 (∅) to CFG as a class", lambda: _unet().given(10, 2.0).eps(IMG, T2), ValueError, "null label"),
    ("label 2.7 to CFG", lambda: _unet().given(2.7, 2.0).eps(IMG, T2), ValueError, "integer class labels"),
    ("label -1 to classifier guidance",
     lambda: classifier_guided(_unet(), de.pretrained("mnist-noisy-classifier"), -1, 1.0).eps(IMG, T2),
     ValueError, "y must be class labels"),
    ("27×27 image to the 28×28 U-Net", lambda: _unet().net(torch.zeros(2, 1, 27, 27), T2), ValueError,
     r"x must have shape \(batch, 1, 28, 28\)"),
    ("t with another batch size", lambda: _unet().net(IMG, torch.tensor([1, 2, 3])), ValueError, "t must have shape"),
    ("float64 image to the U-Net", lambda: _unet().net(IMG.double(), T2), ValueError, "dtype torch.float64"),
    ("int image to the U-Net", lambda: _unet().net(IMG.long(), T2), ValueError, "dtype torch.int64"),
    ("float16 image to the U-Net", lambda: _unet().net(IMG.half(), T2), ValueError, "dtype torch.float16"),
    ("NaN image through the U-Net", lambda: _unet().net(IMG * float("nan"), T2), ValueError, "x contains NaN"),
    ("UNet(image_size='28')", lambda: UNet(image_size="28"), ValueError, "image_size"),
    ("UNet(num_classes=-1)", lambda: UNet(num_classes=-1), ValueError, "num_classes"),
    ("UNet(base_channels=0)", lambda: UNet(base_channels=0), ValueError, "base_channels"),
    ("UNet(dropout=1.5)", lambda: UNet(dropout=1.5), ValueError, "dropout"),
    ("device 'gpu0'", lambda: de.pick_device("gpu0"), ValueError, "device must be"),
    ("device 'tpu'", lambda: de.pick_device("tpu"), ValueError, "device must be"),
    ("Fréchet of NaN features", lambda: metrics.frechet_distance(torch.full((5, 3), float("nan")), torch.zeros(5, 3)),
     ValueError, "feats_a contains NaN"),
    ("feature_diversity of empty sets", lambda: metrics.feature_diversity(torch.zeros(0, 3), torch.zeros(0)),
     ValueError, "feats must be"),
    ("pretrained(123)", lambda: de.pretrained(123), TypeError, "name must be a string"),
    ("pretrained('mnist')", lambda: de.pretrained("mnist"), ValueError, "no shipped checkpoint 'mnist'"),
    ("pretrained('/abs/path')", lambda: de.pretrained("/etc/hostname"), ValueError, "checkpoint.load"),
    ("train(warmup='100')", lambda: de.train(de.MLPDenoiser(), lambda *a: 0, lambda g: X2, steps=1, warmup="100"),
     ValueError, "warmup"),
    ("train(ema_decay=1.0)", lambda: de.train(de.MLPDenoiser(), lambda *a: 0, lambda g: X2, steps=1, ema_decay=1.0),
     ValueError, "ema_decay"),
    ("train(grad_clip=-1)", lambda: de.train(de.MLPDenoiser(), lambda *a: 0, lambda g: X2, steps=1, grad_clip=-1),
     ValueError, "grad_clip"),
    ("tensor_batches of an empty tensor", lambda: de.tensor_batches(torch.zeros(0, 2), 4), ValueError, "data must"),
    ("ddim timesteps 50.9, 20.7", lambda: ddim_sample(de.pretrained("ring8-mlp"), X2, [50.9, 20.7, 0]), ValueError,
     "integer steps"),
    ("σ = NaN to ScoreMLP", lambda: de.ScoreMLP()(X2, float("nan")), ValueError, "sigma must be finite"),
    ("NaN x0 to Process.simulate", lambda: de.VPSDE().simulate(X2 * float("nan"), 5), ValueError,
     "x0 contains NaN"),
    ("NaN means in GaussianMixture", lambda: toy.GaussianMixture(torch.tensor([[float("nan"), 0.0]]), [1.0], [1.0]),
     ValueError, "finite"),
    ("mirrors as a number", lambda: mnist.load("test", mirrors=3), ValueError, "mirrors must be"),
]



# --- the careless-call sweep of issue 32, module by module ----------------------------------------------------
X64 = torch.zeros(4, 2, dtype=torch.float64)
NAN = float("nan")
INF = float("inf")


@lru_cache(maxsize=None)
def _ring():
    return de.pretrained("ring8-mlp")


@lru_cache(maxsize=None)
def _exact(kind="VPSDE"):
    return toy.ring().model({"VPSDE": de.VPSDE(), "VE": de.VE(0.01, 10.0), "Linear": de.Linear(t_max=0.99)}[kind])


def _sr(image_size=16):
    torch.manual_seed(0)
    net = SuperResUNet(image_size=image_size, in_channels=3, base_channels=16, channel_mults=(1, 2),
                       attn_resolutions=(), num_classes=0).eval()
    return de.DiffusionModel(net, de.DiscreteVP("cosine", 1000), "v")


def _base(image_size=8):
    torch.manual_seed(0)
    net = UNet(image_size=image_size, in_channels=3, base_channels=16, channel_mults=(1, 2), attn_resolutions=(),
               num_classes=10).eval()
    return de.DiffusionModel(net, de.DiscreteVP("cosine", 1000), "v", 10)


@lru_cache(maxsize=None)
def _latent():
    torch.manual_seed(0)
    ae = Autoencoder(image_size=16, in_channels=3, latent_channels=4, base_channels=8, channel_mults=(1, 2))
    net = de.MLPDenoiser()                      # never run: the autoencoder's checks come first
    return latent.LatentDiffusionModel(net, de.DiscreteVP(), "eps", autoencoder=ae, scale=1.0)


@lru_cache(maxsize=None)
def _clip():
    torch.manual_seed(0)
    return CLIP(text.caption_vocabulary(), dim=16, layers=1, heads=2, width=8).eval()


def _cm():
    return fewstep.ConsistencyModel(_exact(), de.VPSDE(), 0.01)


def _tar(tmp, name, members):
    path = tmp / name
    with tarfile.open(path, "w:gz") as t:
        for member, data in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def _npz(tmp, name, **arrays):
    np.savez(tmp / name, **arrays)
    return tmp / name


def _jpeg(size=32):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (size, size)).save(buf, "JPEG")
    return np.frombuffer(buf.getvalue(), dtype=np.uint8)


SAMPLERS = {  # name: (sampler, model, x, grid) — each run only until its first check
    "ddpm": (smp.ddpm_sample, _ring, X2, 5),
    "ddim": (smp.ddim_sample, _ring, X2, 5),
    "reverse_sde": (smp.reverse_sde_sample, _exact, X64, 5),
    "consistency": (smp.consistency_sample, _exact, X64, 2),
    "annealed_langevin": (smp.annealed_langevin, lambda: _exact("VE"), X64, 3),
}

CASES += [
    # samplers: the generator, the callback, x and the grid (each refused before the first step)
    *[(f"{k}: generator=0", lambda f=f, m=m, x=x, g=g: f(m(), x, g, generator=0), TypeError,
       r"generator must be a torch.Generator.*manual_seed\(0\)") for k, (f, m, x, g) in SAMPLERS.items()],
    *[(f"{k}: generator='cpu'", lambda f=f, m=m, x=x, g=g: f(m(), x, g, generator="cpu"), TypeError,
       "generator must be a torch.Generator") for k, (f, m, x, g) in SAMPLERS.items()],
    *[(f"{k}: a NumPy generator", lambda f=f, m=m, x=x, g=g: f(m(), x, g, generator=np.random.default_rng(0)),
       TypeError, "generator must be a torch.Generator") for k, (f, m, x, g) in SAMPLERS.items()],
    *[(f"{k}: callback=3", lambda f=f, m=m, x=x, g=g: f(m(), x, g, callback=3), TypeError,
       "callback must be a function") for k, (f, m, x, g) in SAMPLERS.items()],
    *[(f"{k}: x as a list", lambda f=f, m=m, x=x, g=g: f(m(), x.tolist(), g), ValueError,
       "x must be a torch.Tensor|x_T must be a torch.Tensor") for k, (f, m, x, g) in SAMPLERS.items()],
    *[(f"{k}: grid=True", lambda f=f, m=m, x=x: f(m(), x, True), ValueError, "grid must be an int")
      for k, (f, m, x, g) in SAMPLERS.items() if k != "annealed_langevin"],
    ("probability_flow_ode: callback='print'",
     lambda: smp.probability_flow_ode(_exact(), X64, [0.5, 0.1], callback="print"), TypeError, "callback"),
    ("euler_sample: callback=[]", lambda: smp.euler_sample(_exact(), X64, 3, callback=[]), TypeError, "callback"),
    ("heun_sample: x of ints", lambda: smp.heun_sample(_exact(), X64.long(), 3), ValueError,
     "x must be a floating-point"),
    ("ddim: a 2-D grid", lambda: ddim_sample(_ring(), X2, [[50, 0]]), ValueError, "grid must be .* flat"),
    ("ddim: grid as a set", lambda: ddim_sample(_ring(), X2, {50, 0}), ValueError, "grid must be an int"),
    ("ddim: grid of strings", lambda: ddim_sample(_ring(), X2, ["50", "0"]), ValueError, "grid must be an int"),
    ("ddim: steps=0", lambda: ddim_sample(_ring(), X2, 0), ValueError, "steps must be in"),
    ("ddim: steps=np.int64(-3)", lambda: ddim_sample(_ring(), X2, np.int64(-3)), ValueError, "steps must be in"),
    ("ddim: eta=NaN", lambda: ddim_sample(_ring(), X2, 5, eta=NAN), ValueError, "eta must be a finite"),
    ("ddim: eta=inf", lambda: ddim_sample(_ring(), X2, 5, eta=INF), ValueError, "eta must be a finite"),
    ("ddim: eta='0'", lambda: ddim_sample(_ring(), X2, 5, eta="0"), ValueError, "eta must be a finite"),
    ("ddim: eta(t) returns a string", lambda: ddim_sample(_ring(), X2, 5, eta=lambda t: "a"), ValueError,
     r"eta\(t\) at t = 1000"),
    ("ddim: eta(t) returns NaN", lambda: ddim_sample(_ring(), X2, 5, eta=lambda t: NAN), ValueError, r"eta\(t\)"),
    ("ddim: clip_x0=NaN", lambda: ddim_sample(_ring(), X2, 5, clip_x0=NAN), ValueError, "clip_x0"),
    ("ddpm: variance=None", lambda: smp.ddpm_sample(_ring(), X2, 5, variance=None), ValueError, "variance must be"),
    ("reverse_sde: snr=NaN", lambda: reverse_sde_sample(_exact(), X64, 5, snr=NAN), ValueError, "snr must be"),
    ("reverse_sde: snr=inf", lambda: reverse_sde_sample(_exact(), X64, 5, snr=INF), ValueError, "snr must be"),
    ("reverse_sde: snr='0.1'", lambda: reverse_sde_sample(_exact(), X64, 5, snr="0.1"), ValueError, "snr must be"),
    ("probability_flow_ode: method=None", lambda: smp.probability_flow_ode(_exact(), X64, [0.5, 0.1], method=None),
     ValueError, "method must be"),
    ("langevin: t='0.5'", lambda: smp.langevin(_exact("VE"), X64, "0.5", step_size=0.1, n_steps=2), ValueError,
     "grid must be an int"),
    ("langevin: step_size=NaN", lambda: smp.langevin(_exact("VE"), X64, 0.5, step_size=NAN, n_steps=2), ValueError,
     "step_size"),
    ("langevin: n_steps=0", lambda: smp.langevin(_exact("VE"), X64, 0.5, step_size=0.1, n_steps=0), ValueError,
     "n_steps"),
    ("annealed_langevin: steps_per_level=0",
     lambda: smp.annealed_langevin(_exact("VE"), X64, [1.0, 0.1], steps_per_level=0), ValueError, "steps_per_level"),
    ("Recorder: every=0", lambda: smp.Recorder(every=0), ValueError, "every must be"),
    ("Recorder: key='y'", lambda: smp.Recorder(key="y"), ValueError, "key must be one of"),
    ("Recorder: start as a list", lambda: smp.Recorder(start=[1.0, 2.0]), ValueError, "start must be a tensor"),
    ("a network where a model goes", lambda: ddim_sample(_ring().net, X2, 5), TypeError, "model must be a diffedu"),

    # the model contract: x and t
    ("model.eps(x as a list)", lambda: _ring().eps(X2.tolist(), 5), ValueError, "x must be a floating-point"),
    ("model.x0(x of ints)", lambda: _ring().x0(X2.long(), 5), ValueError, "x must be a floating-point"),
    ("model.eps(t='5')", lambda: _ring().eps(X2, "5"), TypeError, "t must be a number"),
    ("model.eps(t=None)", lambda: _ring().eps(X2, None), TypeError, "t must be a number"),
    ("model.eps(t=NaN)", lambda: _ring().eps(X2, NAN), ValueError, "t must be"),
    ("model.eps(t=1001)", lambda: _ring().eps(X2, 1001), ValueError, r"t must lie in \[0, 1000\]"),
    ("model.eps(t=2.5) on discrete steps", lambda: _ring().eps(X2, 2.5), ValueError, "t must be an integer step"),
    ("model.score(t of another batch)", lambda: _exact().score(X64, torch.full((3,), 0.5)), ValueError,
     r"t must be one time or one per sample, shape \(4,\)"),
    ("model.velocity(t of shape (4, 1))", lambda: _exact().velocity(X64, torch.full((4, 1), 0.5)), ValueError,
     "t must be one time or one per sample"),
    ("model.velocity(t=2)", lambda: _exact().velocity(X64, 2.0), ValueError, r"t must lie in \[0, 1\]"),

    # guidance: scales, labels, the networks
    *[(f"given(3, w={w!r})", lambda w=w: _unet().given(3, w).eps(IMG, T2), ValueError, "w must be")
      for w in (NAN, INF, "3", None, torch.tensor([True, False]))],
    ("given(None)", lambda: _unet().given(None, 2.0), ValueError, "cond must be integer class labels"),
    ("given('3') to a class model", lambda: _unet().given("3", 2.0), ValueError, "cond: prompts need a text"),
    ("given(bool labels)", lambda: _unet().given(torch.tensor([True, False]), 2.0), ValueError,
     "cond must be integer class labels"),
    *[(f"classifier_guided scale={v!r}",
       lambda v=v: classifier_guided(_unet(), de.pretrained("mnist-noisy-classifier"), 3, v), ValueError,
       "scale must be") for v in (NAN, INF, "1", -1.0)],
    ("classifier_guided y='3'",
     lambda: classifier_guided(_unet(), de.pretrained("mnist-noisy-classifier"), "3", 1.0).eps(IMG, T2), ValueError,
     "y must be integer class labels"),
    ("classifier_guided y=None",
     lambda: classifier_guided(_unet(), de.pretrained("mnist-noisy-classifier"), None, 1.0).eps(IMG, T2), ValueError,
     "y must be integer class labels"),
    ("classifier_guided classifier=None", lambda: classifier_guided(_unet(), None, 3, 1.0), TypeError,
     "classifier must be a network"),
    ("classifier_guided classifier=a model", lambda: classifier_guided(_unet(), _unet(), 3, 1.0), TypeError,
     "classifier must be a network"),
    ("classifier_guided model=None",
     lambda: classifier_guided(None, de.pretrained("mnist-noisy-classifier"), 3, 1.0), TypeError,
     "model must be a diffedu Model"),
    ("guided_score gamma=NaN", lambda: guided_score(X2, X2, NAN), ValueError, "gamma must be"),
    ("guided_score gamma='1'", lambda: guided_score(X2, X2, "1"), ValueError, "gamma must be"),
    ("cfg_combine w=inf", lambda: cfg_combine(X2, X2, INF), ValueError, "w must be a finite"),
    ("CLIPGuided prompts=5", lambda: CLIPGuided(_exact(), _clip(), 5, 1.0), ValueError, "prompts"),
    ("CLIPGuided an unknown word", lambda: CLIPGuided(_exact(), _clip(), "a purple one", 1.0), ValueError,
     "unknown word 'purple'"),
    ("CLIPGuided out-of-vocabulary ids", lambda: CLIPGuided(_exact(), _clip(), torch.full((1, 12), 999), 1.0),
     ValueError, "prompts: token ids must lie in"),
    ("CLIPGuided clip=a function", lambda: CLIPGuided(_exact(), lambda x, t: x, "a one", 1.0), TypeError,
     r"clip must be a network \(a noised CLIP"),
    ("CLIPGuided clip=a classifier",
     lambda: CLIPGuided(_unet(), de.pretrained("mnist-noisy-classifier"), "a one", 1.0), TypeError,
     "clip must be a CLIP"),

    # text: the tokenizer owns its vocabulary, the captions their words
    *[(f"Tokenizer(length={v!r})", lambda v=v: Tokenizer(["a", "one"], v), ValueError, "length must be")
      for v in (-1, 0, 1, 2.5, "12")],
    ("Tokenizer(vocabulary='abc')", lambda: Tokenizer("abc"), ValueError, "vocabulary must be a list"),
    ("Tokenizer(vocabulary=5)", lambda: Tokenizer(5), ValueError, "vocabulary must be a list"),
    ("Tokenizer with a number as a word", lambda: Tokenizer(["a", 1]), ValueError, "vocabulary must hold single"),
    ("Tokenizer with two words in one", lambda: Tokenizer(["a b"]), ValueError, "vocabulary must hold single"),
    ("Tokenizer with an upper-case word", lambda: Tokenizer(["A"]), ValueError, "vocabulary must hold single"),
    ("encode(5)", lambda: text.caption_tokenizer().encode(5), ValueError, "texts must be a prompt"),
    ("encode(None)", lambda: text.caption_tokenizer().encode(None), ValueError, "texts must be a prompt"),
    ("encode([])", lambda: text.caption_tokenizer().encode([]), ValueError, "texts must be a prompt"),
    ("encode(['a one', 3])", lambda: text.caption_tokenizer().encode(["a one", 3]), ValueError, "texts must be"),
    ("encode(length=-1)", lambda: text.caption_tokenizer().encode("a one", length=-1), ValueError, "length must be"),
    ("encode(length=0)", lambda: text.caption_tokenizer().encode("a one", length=0), ValueError, "length must be"),
    ("decode an out-of-vocabulary id", lambda: text.caption_tokenizer().decode(torch.tensor([500, 1])), ValueError,
     r"ids must be token ids in \[0, 43\]"),
    ("decode a negative id", lambda: text.caption_tokenizer().decode(torch.tensor([-1, 1])), ValueError,
     "ids must be token ids"),
    ("decode a batch", lambda: text.caption_tokenizer().decode(torch.tensor([[3, 1]])), ValueError,
     "ids must be one row"),
    ("decode float ids", lambda: text.caption_tokenizer().decode(torch.tensor([3.0, 1.0])), ValueError,
     "ids must be one row"),
    ("decode a string", lambda: text.caption_tokenizer().decode("a one"), ValueError, "ids must be one row"),
    ("caption_tokenizer(length=0)", lambda: text.caption_tokenizer(0), ValueError, "length must be"),
    ("caption: digit 10", lambda: text.caption(10, None, None, 0), ValueError, "digit must be in"),
    ("caption: digit 'x'", lambda: text.caption("x", None, None, 0), ValueError, "digit must be an integer"),
    ("caption: digit 2.5", lambda: text.caption(2.5, None, None, 0), ValueError, "digit must be an integer"),
    ("caption: an unknown stroke", lambda: text.caption(3, "fat", None, 0), ValueError,
     r"stroke must be one of \['thick', 'thin'\]"),
    ("caption: an unknown slant", lambda: text.caption(3, None, "diagonal", 0), ValueError, "slant_ must be one of"),
    ("caption: k=1.5", lambda: text.caption(3, None, None, 1.5), ValueError, "k must be an integer"),
    ("caption: held_out=5", lambda: text.caption(3, None, None, 0, held_out=5), ValueError, "held_out must be"),
    ("captions: 2 labels for 3 images", lambda: text.captions(torch.zeros(3, 1, 28, 28), torch.tensor([1, 2])),
     ValueError, "y must hold one label per image"),
    ("captions: float labels", lambda: text.captions(torch.zeros(2, 1, 28, 28), torch.tensor([1.5, 2.0])),
     ValueError, "y must be integer class labels"),
    ("captions: a label 12", lambda: text.captions(torch.zeros(1, 1, 28, 28), torch.tensor([12])), ValueError,
     r"y must be class labels in \[0, 9\], got values in \[12, 12\]$"),
    ("captions: one int for 2 images", lambda: text.captions(torch.zeros(2, 1, 28, 28), 3), ValueError,
     "y must hold one label per image: an int for 2 images"),
    ("mentioned(5)", lambda: text.mentioned(5), ValueError, "text must be a caption"),
    ("thickness of NaN pixels", lambda: text.thickness(torch.full((1, 28, 28), NAN)), ValueError,
     "x contains NaN"),
    ("info_nce of NaN logits", lambda: text.info_nce(torch.full((2, 2), NAN)), ValueError, "logits contains NaN"),
    ("info_nce of a list", lambda: text.info_nce([[1.0]]), ValueError, "logits must be a torch.Tensor"),
    ("zero_shot template '{colour}'", lambda: text.zero_shot(_clip(), IMG, template="{colour}"), ValueError,
     "template must be a string with the fields"),
    ("zero_shot template=5", lambda: text.zero_shot(_clip(), IMG, template=5), ValueError, "template must be"),
    ("zero_shot batch=0", lambda: text.zero_shot(_clip(), IMG, batch=0), ValueError, "batch must be in"),
    ("zero_shot clip=None", lambda: text.zero_shot(None, IMG), TypeError, "clip must be a diffedu CLIP"),
    ("prompt_agreement prompts as ints",
     lambda: text.prompt_agreement(IMG, [1, 2], de.pretrained("mnist-classifier")), ValueError,
     "prompts must be a list of strings"),
    ("summary of an empty dict", lambda: text.summary({}), ValueError, "agreement must be what prompt_agreement"),
    ("text tower: an out-of-vocabulary id", lambda: _clip().encode_text(torch.full((2, 12), 999)), ValueError,
     r"tokens must be token ids in \[0, 43\]"),
    ("text tower: a negative id", lambda: _clip().encode_text(torch.full((2, 12), -1)), ValueError,
     "tokens must be token ids"),

    # data: the loaders own their splits, their files answer in their own name
    *[(f"{mod.__name__.split('.')[-1]}.load(split={v!r})", lambda mod=mod, v=v: mod.load(v), ValueError,
       "split must be 'train' or 'test'") for mod in (cifar10, mnist) for v in ("val", ["train"], None, "Train")],
    ("cifar10.load_jpeg(split='valid')", lambda: cifar10.load_jpeg("valid"), ValueError, "split must be"),
    ("mnist.load(root=5)", lambda: mnist.load("test", root=5), ValueError, "root must be a path"),
    ("cifar10.load(root=5)", lambda: cifar10.load("test", root=5), ValueError, "root must be a path"),
    ("cifar10.parse_records of a string", lambda: cifar10.parse_records("abc"), ValueError, "data must be the bytes"),
    ("cifar10.parse_records of a label 11", lambda: cifar10.parse_records(bytes([11]) + bytes(3072)), ValueError,
     "label byte 11"),
    ("mnist.parse_idx of a string", lambda: mnist.parse_idx("abc"), ValueError, "data must be the bytes"),
    ("cifar10.to_image of a list", lambda: cifar10.to_image([1.0]), ValueError, "x must be images"),
    ("mnist.to_image of a list", lambda: mnist.to_image([1.0]), ValueError, "x must be digits"),

    # cascade: the SR stage owns the size of its low-resolution input
    ("SuperResolution: low 4×4 for a 16×16 stage", lambda: cascade.SuperResolution(_sr(), torch.zeros(2, 3, 4, 4)),
     ValueError, r"low must have shape \(batch, 3, 8, 8\)"),
    ("SuperResolution: low 16×16 (the output size)",
     lambda: cascade.SuperResolution(_sr(), torch.zeros(2, 3, 16, 16)), ValueError, r"low must have shape"),
    ("SuperResolution: low with 1 channel", lambda: cascade.SuperResolution(_sr(), torch.zeros(2, 1, 8, 8)),
     ValueError, r"low must have shape \(batch, 3, 8, 8\)"),
    ("SuperResolution: low with 4 channels", lambda: cascade.SuperResolution(_sr(), torch.zeros(2, 4, 8, 8)),
     ValueError, r"low must have shape \(batch, 3, 8, 8\)"),
    ("SuperResolution: low not square", lambda: cascade.SuperResolution(_sr(), torch.zeros(2, 3, 8, 4)),
     ValueError, "low must have shape"),
    ("SuperResolution: low without a batch", lambda: cascade.SuperResolution(_sr(), torch.zeros(3, 8, 8)),
     ValueError, "low must be images"),
    ("SuperResolution: low as a list", lambda: cascade.SuperResolution(_sr(), [[0.0]]), ValueError,
     "low must be a torch.Tensor"),
    ("SuperResolution: NaN low", lambda: cascade.SuperResolution(_sr(), torch.full((2, 3, 8, 8), NAN)), ValueError,
     "low contains NaN"),
    ("SuperResolution: uint8 low", lambda: cascade.SuperResolution(_sr(), torch.zeros(2, 3, 8, 8, dtype=torch.uint8)),
     ValueError, "low must be a floating-point"),
    ("SuperResolution: level=NaN", lambda: cascade.SuperResolution(_sr(), torch.zeros(2, 3, 8, 8), NAN), ValueError,
     "level must be"),
    ("SuperResolution: a base model", lambda: cascade.SuperResolution(_base(16), torch.zeros(2, 3, 8, 8)), TypeError,
     "model must be a super-resolution stage"),
    ("SuperResolution: model=None", lambda: cascade.SuperResolution(None, torch.zeros(2, 3, 8, 8)), TypeError,
     "model must be a super-resolution stage"),
    ("cascade_sample: base and sr swapped", lambda: cascade.cascade_sample(_sr(), _base(), [1]), TypeError,
     "base must be a class-conditional .* pass it as sr"),
    ("cascade_sample: sr is a base model", lambda: cascade.cascade_sample(_base(), _base(), [1]), TypeError,
     "sr must be a super-resolution stage"),
    ("cascade_sample: base of the wrong size", lambda: cascade.cascade_sample(_base(16), _sr(), [1]), ValueError,
     "base and sr do not fit"),
    ("cascade_sample: labels='3'", lambda: cascade.cascade_sample(_base(), _sr(), "3"), ValueError,
     "labels must be integer class labels"),
    ("cascade_sample: labels=None", lambda: cascade.cascade_sample(_base(), _sr(), None), ValueError,
     "labels must be integer class labels"),
    ("cascade_sample: label 10", lambda: cascade.cascade_sample(_base(), _sr(), [10]), ValueError,
     "labels must be class labels"),
    ("cascade_sample: no labels", lambda: cascade.cascade_sample(_base(), _sr(), []), ValueError,
     "labels must hold at least one"),
    ("cascade_sample: w=NaN", lambda: cascade.cascade_sample(_base(), _sr(), [1], w=NAN), ValueError, "w must be"),
    ("cascade_sample: sr_steps=0", lambda: cascade.cascade_sample(_base(), _sr(), [1], sr_steps=0), ValueError,
     "sr_steps must be"),
    ("cascade_sample: seed='a'", lambda: cascade.cascade_sample(_base(), _sr(), [1], seed="a"), ValueError,
     "seed must be an integer"),
    ("cascade_sample: level=2", lambda: cascade.cascade_sample(_base(), _sr(), [1], level=2.0), ValueError,
     "level must be in"),
    ("augment: noise a list", lambda: cascade.augment(torch.zeros(2, 3, 8, 8), 0.5, noise=[0.0]), ValueError,
     "noise must be a tensor, got list"),
    ("diffusion_loss: noise of another shape",
     lambda: de.diffusion_loss(de.MLPDenoiser(), X2, S, noise=torch.zeros(2, 2)), ValueError,
     r"x0 and noise must have the same shape, got \(3, 2\) and \(2, 2\)"),
    ("psnr: x_hat of another shape", lambda: latent.psnr(IMG, IMG[:1]), ValueError, "x and x_hat must have the same"),
    ("augment: noise of another shape", lambda: cascade.augment(torch.zeros(2, 3, 8, 8), 0.5, noise=torch.zeros(2, 3)),
     ValueError, "low_up and noise must have the same shape"),
    ("augment: low_up as a list", lambda: cascade.augment([1.0], 0.5), ValueError, "low_up must be a torch.Tensor"),
    ("augment: one level per image, wrong count", lambda: cascade.augment(torch.zeros(2, 3, 8, 8), torch.zeros(3)),
     ValueError, "level must be a number or one level per image"),
    ("downsample: factor=0", lambda: cascade.downsample(torch.zeros(2, 3, 8, 8), 0), ValueError, "factor must be"),
    ("downsample: factor=3 of 8×8", lambda: cascade.downsample(torch.zeros(2, 3, 8, 8), 3), ValueError,
     "factor must divide"),
    ("downsample: factor=2.5", lambda: cascade.downsample(torch.zeros(2, 3, 8, 8), 2.5), ValueError,
     "factor must be an integer"),
    ("upsample: size=0", lambda: cascade.upsample(torch.zeros(2, 3, 8, 8), 0), ValueError, "size must be"),
    ("upsample: x of points", lambda: cascade.upsample(torch.zeros(2, 3), 8), ValueError, "x must be images"),
    ("sr_loss: max_level=2", lambda: cascade.sr_loss(_sr().net, torch.zeros(2, 3, 16, 16), _sr().process,
                                                      max_level=2.0), ValueError, "max_level must be in"),

    # latent: NaN latents do not decode into NaN images
    ("decode NaN latents", lambda: _latent().decode(torch.full((2, 4, 8, 8), NAN)), ValueError, "z contains NaN"),
    ("decode inf latents", lambda: _latent().decode(torch.full((2, 4, 8, 8), INF)), ValueError, "z contains NaN"),
    ("decode integer latents", lambda: _latent().decode(torch.zeros(2, 4, 8, 8, dtype=torch.long)), ValueError,
     "z must be a floating-point"),
    ("decode a list", lambda: _latent().decode([[0.0]]), ValueError, "z must be a torch.Tensor"),
    ("decode latents of the wrong size", lambda: _latent().decode(torch.zeros(2, 4, 4, 4)), ValueError,
     r"z must have shape \(batch, 4, 8, 8\)"),
    ("encode NaN images", lambda: _latent().encode(torch.full((2, 3, 16, 16), NAN)), ValueError, "x contains NaN"),
    ("encode images of the wrong size", lambda: _latent().encode(torch.zeros(2, 3, 28, 28)), ValueError,
     r"x must have shape \(batch, 3, 16, 16\)"),
    ("scale_factor of a list", lambda: latent.scale_factor([1.0, 2.0]), ValueError, "latents must be a torch.Tensor"),
    ("scale_factor of one value", lambda: latent.scale_factor(torch.tensor([1.0])), ValueError,
     "latents must hold at least two"),
    ("psnr of NaN", lambda: latent.psnr(torch.full((2, 3), NAN), torch.zeros(2, 3)), ValueError, "x contains NaN"),
    ("psnr of 1-D tensors", lambda: latent.psnr(torch.zeros(3), torch.zeros(3)), ValueError, "x must be images"),
    ("encode_means batch=0", lambda: latent.encode_means(_latent().autoencoder, torch.zeros(2, 3, 16, 16), batch=0),
     ValueError, "batch must be in"),
    ("LatentDiffusionModel autoencoder=None",
     lambda: latent.LatentDiffusionModel(de.MLPDenoiser(), de.DiscreteVP(), autoencoder=None, scale=1.0), TypeError,
     "autoencoder must be a network"),
    ("LatentDiffusionModel scale=NaN",
     lambda: latent.LatentDiffusionModel(de.MLPDenoiser(), de.DiscreteVP(), autoencoder=_latent().autoencoder,
                                         scale=NAN), ValueError, "scale must be"),

    # families: sizes, draws, training
    *[(f"{cls.__name__}({k}={v!r})", lambda cls=cls, k=k, v=v: cls(**{k: v}), ValueError, f"{k} must be")
      for cls in (GAN, VAE, RealNVP) for k, v in (("depth", -1), ("hidden", 0), ("dim", 2.5), ("dim", 0),
                                                   ("hidden", "64"), ("hidden", True))],
    *[(f"{cls.__name__}(latent=0)", lambda cls=cls: cls(latent=0), ValueError, "latent must be") for cls in (GAN, VAE)],
    *[(f"{cls.__name__}().sample({n!r})", lambda cls=cls, n=n: cls().sample(n), ValueError, "n must be")
      for cls in (GAN, VAE, RealNVP) for n in (0, -1, 2.5)],
    *[(f"{cls.__name__}().sample(5, generator=0)", lambda cls=cls: cls().sample(5, 0), TypeError,
       "generator must be a torch.Generator") for cls in (GAN, VAE, RealNVP)],
    ("RealNVP(layers=0)", lambda: RealNVP(layers=0), ValueError, "layers must be"),
    ("RealNVP(dim=1)", lambda: RealNVP(dim=1), ValueError, "dim must be >= 2"),
    ("RealNVP(max_scale=NaN)", lambda: RealNVP(max_scale=NAN), ValueError, "max_scale must be"),
    ("RealNVP(max_scale=0)", lambda: RealNVP(max_scale=0.0), ValueError, "max_scale must be"),
    ("RealNVP(rotate='yes')", lambda: RealNVP(rotate="yes"), ValueError, "rotate must be"),
    ("VAE(min_logvar=NaN)", lambda: VAE(min_logvar=NAN), ValueError, "min_logvar must be"),
    ("RealNVP.log_prob of 3-D points", lambda: RealNVP().log_prob(torch.zeros(4, 3)), ValueError,
     r"x must have shape \(batch, 2\)"),
    ("VAE.elbo of 3-D points", lambda: VAE().elbo(torch.zeros(4, 3)), ValueError, r"x must have shape \(batch, 2\)"),
    ("VAE.log_prob_bound k=0", lambda: VAE().log_prob_bound(torch.zeros(4, 2), k=0), ValueError, "k must be"),
    ("VAE.log_prob_bound chunk=0", lambda: VAE().log_prob_bound(torch.zeros(4, 2), chunk=0), ValueError,
     "chunk must be"),
    ("GAN of 3-D codes", lambda: GAN()(torch.zeros(4, 3)), ValueError, r"z must have shape \(batch, 2\)"),
    ("reparameterize with another eps", lambda: de.families.reparameterize(torch.zeros(3, 2), torch.zeros(3, 2),
                                                                            torch.zeros(4, 2)), ValueError,
     "mean, logvar and eps must have"),
    *[(f"train_gan({k}={v!r})", lambda k=k, v=v: train_gan(GAN(), lambda g: torch.zeros(4, 2),
                                                             **{"steps": 1, "progress": False, k: v}),
       ValueError, f"{k.split('[')[0]} must be") for k, v in (("steps", 0), ("steps", -1), ("steps", 2.5),
                                                              ("lr", NAN), ("lr", -1.0), ("ema_decay", NAN),
                                                              ("on_step_every", 0), ("betas", (1.5, 0.9)),
                                                              ("betas", 0.9))],
    ("train_gan: batches a tensor", lambda: train_gan(GAN(), torch.zeros(4, 2), steps=1, progress=False), TypeError,
     "batches must be a function"),
    ("train_gan: a VAE", lambda: train_gan(VAE(), lambda g: torch.zeros(4, 2), steps=1, progress=False), TypeError,
     "model must be a families.GAN"),
    ("train_gan: 3-D points", lambda: train_gan(GAN(), lambda g: torch.zeros(4, 3), steps=1, progress=False),
     ValueError, r"batches\(generator\) must have shape \(batch, 2\)"),
    ("train: batches a tensor", lambda: de.train(VAE(), de.families.vae_loss, torch.zeros(4, 2), steps=1,
                                                 progress=False), TypeError, "batches must be a function"),
    ("train: loss_fn=None", lambda: de.train(VAE(), None, lambda g: torch.zeros(4, 2), steps=1, progress=False),
     TypeError, "loss_fn must be a function"),
    ("train: a DiffusionModel", lambda: de.train(_ring(), de.families.vae_loss, lambda g: X2, steps=1,
                                                 progress=False), TypeError, "model must be the network to train"),
    ("diffusion.sample n=0", lambda: family_diffusion.sample(_ring(), 0, steps=2), ValueError, "n must be"),
    ("diffusion.sample dim=2.5", lambda: family_diffusion.sample(_ring(), 5, steps=2, dim=2.5), ValueError,
     "dim must be"),
    ("diffusion.elbo of a list", lambda: family_diffusion.elbo(_ring(), [[0.0, 0.0]]), ValueError,
     "x0 must be a torch.Tensor"),
    ("Snapshots(n=0)", lambda: compare.Snapshots(lambda m, n, g: torch.zeros(n, 2), n=0), ValueError, "n must be"),
    ("Snapshots(sample=5)", lambda: compare.Snapshots(5), TypeError, "sample must be a function"),
    ("ms_per_1000(repeats=0)", lambda: compare.ms_per_1000(lambda n, g: torch.zeros(n, 2), repeats=0), ValueError,
     "repeats must be"),
    ("mode_coverage(radius=NaN)", lambda: compare.mode_coverage(toy.ring(), torch.zeros(5, 2), radius=NAN),
     ValueError, "radius must be"),
    ("quality(floor=0)", lambda: compare.quality(torch.zeros(5, 2), torch.zeros(5, 2), 0.0), ValueError,
     "floor must be"),

    # few-step: consistency, distillation, flow matching
    ("consistency model at t < t_min", lambda: _cm()(X64, 0.001), ValueError, "t must be >= t_min = 0.01"),
    ("consistency model at t = 2", lambda: _cm()(X64, 2.0), ValueError, r"t must lie in \[0, 1\]"),
    ("consistency coefficients at t='a'", lambda: _cm().coefficients("a"), TypeError, "t must be a number"),
    ("consistency coefficients at t=-1", lambda: _cm().coefficients(-1.0), ValueError, "t must lie in"),
    ("ode_step to s = -1", lambda: fewstep.ode_step(_exact(), X64, 0.5, -1.0), ValueError, "s must lie in"),
    ("ode_step to 3 s for 4 samples", lambda: fewstep.ode_step(_exact(), X64, 0.5, torch.full((3,), 0.4)), ValueError,
     r"s must be one time or one per sample, shape \(4,\)"),
    ("ode_step to s='0.4'", lambda: fewstep.ode_step(_exact(), X64, 0.5, "0.4"), TypeError, "s must be a number"),
    ("ode_step from t = 2", lambda: fewstep.ode_step(_exact(), X64, 2.0, 0.4), ValueError, "t must lie in"),
    ("ode_step from t='0.5'", lambda: fewstep.ode_step(_exact(), X64, "0.5", 0.4), TypeError, "t must be a number"),
    ("ode_step solver='rk4'", lambda: fewstep.ode_step(_exact(), X64, 0.5, 0.4, "rk4"), ValueError,
     "solver must be one of"),
    ("flow_matching_loss t = 2", lambda: fewstep.flow_matching_loss(de.MLPDenoiser(), X2, t=torch.full((3,), 2.0)),
     ValueError, "t must lie in"),
    ("flow_matching_loss t of another batch",
     lambda: fewstep.flow_matching_loss(de.MLPDenoiser(), X2, t=torch.full((4,), 0.5)), ValueError,
     r"t must be one time or one per sample, shape \(3,\)"),
    ("flow_matching_loss generator=1", lambda: fewstep.flow_matching_loss(de.MLPDenoiser(), X2, generator=1),
     TypeError, "generator must be a torch.Generator"),
    ("flow_matching_loss x1 NaN", lambda: fewstep.flow_matching_loss(de.MLPDenoiser(), X2, X2 * NAN), ValueError,
     "x1 contains NaN"),
    ("reflow_pairs shape=(-1,)", lambda: fewstep.reflow_pairs(_exact("Linear"), 3, (-1,), 2), ValueError,
     "shape must be a tuple of positive ints"),
    ("reflow_pairs shape='2'", lambda: fewstep.reflow_pairs(_exact("Linear"), 3, "2", 2), ValueError,
     "shape must be a tuple"),
    ("reflow_pairs shape=(2.5,)", lambda: fewstep.reflow_pairs(_exact("Linear"), 3, (2.5,), 2), ValueError,
     "shape must be a tuple"),
    ("reflow_pairs dtype=long", lambda: fewstep.reflow_pairs(_exact("Linear"), 3, (2,), 2, dtype=torch.long),
     ValueError, "dtype must be a floating-point"),
    ("reflow_pairs generator=1", lambda: fewstep.reflow_pairs(_exact("Linear"), 3, (2,), 2, generator=1), TypeError,
     "generator must be a torch.Generator"),
    ("straightness of an array", lambda: fewstep.straightness(np.zeros((3, 2, 2))), ValueError,
     "trajectories must be a"),
    ("ema_update target=None", lambda: fewstep.ema_update(None, de.MLPDenoiser(), 0.5), TypeError,
     "target must be a network"),
    ("ema_update mu=NaN", lambda: fewstep.ema_update(de.MLPDenoiser(), de.MLPDenoiser(), NAN), ValueError,
     "mu must be"),
    ("distill_loss generator=3", lambda: fewstep.distill_loss(_exact(), _exact(), X64, 4, generator=3), TypeError,
     "generator must be a torch.Generator"),
    ("distill_target t='a'", lambda: fewstep.distill_target(_exact(), X64, "a", 0.5, 0.1), TypeError,
     "t must be a number"),
    ("distill_target t_mid=2", lambda: fewstep.distill_target(_exact(), X64, 0.9, 2.0, 0.1), ValueError,
     r"t_mid must lie in \[0, 1\]"),
    ("distill_round batches a tensor", lambda: fewstep.distill_round(_ring(), X2, 4, steps=1, progress=False),
     TypeError, "batches must be a function"),
    ("guided_target w=NaN", lambda: fewstep.guided_target(_unet(), IMG, 5, 3, NAN), ValueError, "w must be"),
]

@pytest.mark.parametrize("call, exc, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error_naming_the_argument(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


@pytest.mark.parametrize("change, pattern", [
    (lambda h: [h], "format"),
    (lambda h: {k: v for k, v in h.items() if k != "model"}, "'model'"),
    (lambda h: {**h, "config": {**h["config"], "hidden": "128"}}, "cannot build"),
])
def test_checkpoint_metadata_that_is_a_list_lacks_model_or_has_a_string_size(tmp_path, change, pattern):
    from safetensors.torch import save_file

    path = checkpoint.save(tmp_path / "m", de.MLPDenoiser(hidden=8, depth=1, emb_dim=4))
    header, tensors = checkpoint.read(path)
    new = change(header)
    new = checkpoint.signed(new, tensors) if isinstance(new, dict) else new  # signed: the check after the digest
    save_file(tensors, str(path), metadata={"diffedu": json.dumps(new)})
    with pytest.raises(ValueError, match=pattern):
        checkpoint.load(path)


def test_the_null_label_is_accepted_by_the_network_itself_documented():
    """The U-Net's raw forward takes label num_classes as the null label ∅ (how CFG asks for p(x));
    as a class to generate, it is refused (above)."""
    out = _unet().net(IMG, T2, torch.tensor([10, 10]))
    assert torch.equal(out, _unet().net(IMG, T2))


def _file_cases(tmp):
    """Damaged data files, each (name, call, exception, pattern): the error names the file."""
    empty = _tar(tmp, "empty.tar.gz", {"readme.txt": b"hello"})
    short = _tar(tmp, "short.tar.gz", {"cifar-10-batches-bin/test_batch.bin": bytes(3073 * 3)})
    (tmp / "notgz.tar.gz").write_bytes(b"not a gzip")
    jpeg = _jpeg()
    small = _jpeg(16)
    (tmp / "notnpz.npz").write_bytes(b"hello")
    (tmp / "bad-idx.gz").write_bytes(b"notgzip")
    with gzip.open(tmp / "short-idx.gz", "wb") as f:
        f.write(b"\x00\x00\x08\x01\x00\x00\x00\x05ab")
    return [
        ("archive without the members", lambda: cifar10.read_archive(empty, "test"), ValueError,
         "empty.tar.gz has no member cifar-10-batches-bin/test_batch.bin"),
        ("archive with too few records", lambda: cifar10.read_archive(short, "test"), ValueError,
         "short.tar.gz: cifar-10-batches-bin/test_batch.bin: expected 10000 records"),
        ("archive that is not gzip", lambda: cifar10.read_archive(tmp / "notgz.tar.gz", "test"), ValueError,
         "notgz.tar.gz is not a readable"),
        ("archive read for split 'val'", lambda: cifar10.read_archive(empty, "val"), ValueError, "split must be"),
        ("JPEG copy with undecodable bytes",
         lambda: cifar10.load_jpeg("test", _npz(tmp, "bad.npz", jpeg=np.frombuffer(b"garbagegarbage", np.uint8),
                                                offsets=np.array([0, 7, 14]), labels=np.array([0, 1]))),
         ValueError, r"bad.npz: image 0 \(bytes 0–7\) cannot be decoded"),
        ("JPEG copy without its arrays", lambda: cifar10.load_jpeg("test", _npz(tmp, "nokeys.npz", x=np.zeros(3))),
         ValueError, "nokeys.npz: not a JPEG copy of CIFAR-10 .no jpeg, offsets, labels"),
        ("JPEG copy that is not an npz", lambda: cifar10.load_jpeg("test", tmp / "notnpz.npz"), ValueError,
         "notnpz.npz"),
        ("JPEG copy of 16×16 images",
         lambda: cifar10.load_jpeg("test", _npz(tmp, "small.npz", jpeg=small, offsets=np.array([0, len(small)]),
                                                labels=np.array([0]))), ValueError, "small.npz: image 0 is 16×16"),
        ("JPEG copy with a label 12",
         lambda: cifar10.load_jpeg("test", _npz(tmp, "label12.npz", jpeg=jpeg, offsets=np.array([0, len(jpeg)]),
                                                labels=np.array([12]))), ValueError, "label12.npz: labels must be"),
        ("JPEG copy with more labels than images",
         lambda: cifar10.load_jpeg("test", _npz(tmp, "count.npz", jpeg=jpeg, offsets=np.array([0, len(jpeg)]),
                                                labels=np.array([1, 2]))), ValueError, "count.npz: 2 labels need 3"),
        ("JPEG copy with offsets past the end",
         lambda: cifar10.load_jpeg("test", _npz(tmp, "offsets.npz", jpeg=jpeg, offsets=np.array([0, len(jpeg) + 9]),
                                                labels=np.array([1]))), ValueError, "offsets.npz: offsets must"),
        ("JPEG copy that does not exist", lambda: cifar10.load_jpeg("test", tmp / "none.npz"), FileNotFoundError,
         "none.npz"),
        ("IDX file that is not gzip", lambda: mnist.read_idx(tmp / "bad-idx.gz"), ValueError,
         "bad-idx.gz: not a readable gzip"),
        ("IDX file shorter than its header says", lambda: mnist.read_idx(tmp / "short-idx.gz"), ValueError,
         r"short-idx.gz: IDX body holds 2 bytes"),
    ]


FILE_CASE_NAMES = ["archive without the members", "archive with too few records", "archive that is not gzip",
                   "archive read for split 'val'", "JPEG copy with undecodable bytes", "JPEG copy without its arrays",
                   "JPEG copy that is not an npz", "JPEG copy of 16×16 images", "JPEG copy with a label 12",
                   "JPEG copy with more labels than images", "JPEG copy with offsets past the end",
                   "JPEG copy that does not exist", "IDX file that is not gzip",
                   "IDX file shorter than its header says"]


@pytest.mark.parametrize("name", FILE_CASE_NAMES)
def test_a_damaged_data_file_is_named_in_its_error(tmp_path, name):
    cases = {c[0]: c[1:] for c in _file_cases(tmp_path)}
    call, exc, pattern = cases[name]
    with pytest.raises(exc, match=pattern):
        call()


def test_file_case_names_match_the_table(tmp_path):
    assert [c[0] for c in _file_cases(tmp_path)] == FILE_CASE_NAMES


LEGIT = [  # what a careful student may also write: accepted, with the same result as the plain form
    ("ddim steps numpy.int64", lambda: ddim_sample(_ring(), X2, np.int64(5)), lambda: ddim_sample(_ring(), X2, 5)),
    ("ddim steps numpy.int32", lambda: ddim_sample(_ring(), X2, np.int32(5)), lambda: ddim_sample(_ring(), X2, 5)),
    ("ddim steps 0-dim tensor", lambda: ddim_sample(_ring(), X2, torch.tensor(5)), lambda: ddim_sample(_ring(), X2, 5)),
    ("ddim grid as a tuple", lambda: ddim_sample(_ring(), X2, (1000, 500, 0)),
     lambda: ddim_sample(_ring(), X2, [1000, 500, 0])),
    ("ddim grid as a NumPy array", lambda: ddim_sample(_ring(), X2, np.array([1000, 500, 0])),
     lambda: ddim_sample(_ring(), X2, [1000, 500, 0])),
    ("ddim eta as numpy.float64", lambda: ddim_sample(_ring(), X2, 5, eta=np.float64(0.0)),
     lambda: ddim_sample(_ring(), X2, 5)),
    ("ddim eta as a 0-dim tensor", lambda: ddim_sample(_ring(), X2, 5, eta=torch.tensor(0.0)),
     lambda: ddim_sample(_ring(), X2, 5)),
    ("ddim eta(t) returning a bool",
     lambda: ddim_sample(_ring(), X2, 5, eta=lambda t: t > 2000, generator=torch.Generator().manual_seed(0)),
     lambda: ddim_sample(_ring(), X2, 5)),
    ("ddpm steps numpy.int64 with a CPU generator",
     lambda: smp.ddpm_sample(_ring(), X2, np.int64(4), generator=torch.Generator("cpu").manual_seed(1)),
     lambda: smp.ddpm_sample(_ring(), X2, 4, generator=torch.Generator().manual_seed(1))),
    ("consistency_sample steps numpy.int64", lambda: smp.consistency_sample(_cm(), X64, np.int64(2)),
     lambda: smp.consistency_sample(_cm(), X64, 2)),
    ("euler_sample steps numpy.int64", lambda: smp.euler_sample(_exact(), X64, np.int64(3)),
     lambda: smp.euler_sample(_exact(), X64, 3)),
    ("reverse_sde corrector_steps numpy.int64",
     lambda: reverse_sde_sample(_exact(), X64, 3, corrector_steps=np.int64(1), generator=torch.Generator().manual_seed(2)),
     lambda: reverse_sde_sample(_exact(), X64, 3, corrector_steps=1, generator=torch.Generator().manual_seed(2))),
    ("Recorder every numpy.int64", lambda: smp.Recorder(every=np.int64(2)).every, lambda: smp.Recorder(every=2).every),
    ("model.eps at a numpy.int64 step", lambda: _ring().eps(X2, np.int64(5)), lambda: _ring().eps(X2, 5)),
    ("model.eps at one step per sample (a list)", lambda: _ring().eps(X2, [5, 5, 5]), lambda: _ring().eps(X2, 5)),
    ("given a numpy label and scale", lambda: _unet().given(np.int64(3), np.float64(2.0)).eps(IMG, T2),
     lambda: _unet().given(3, 2.0).eps(IMG, T2)),
    ("given a numpy array of labels", lambda: _unet().given(np.array([3, 4]), 2.0).eps(IMG, T2),
     lambda: _unet().given(torch.tensor([3, 4]), 2.0).eps(IMG, T2)),
    ("caption of a numpy digit", lambda: text.caption(np.int64(3), "thick", None, 0),
     lambda: text.caption(3, "thick", None, 0)),
    ("captions with a list of labels", lambda: text.captions(torch.zeros(2, 1, 28, 28), [1, 2]),
     lambda: text.captions(torch.zeros(2, 1, 28, 28), torch.tensor([1, 2]))),
    ("decode a list of ids", lambda: text.caption_tokenizer().decode([3, 1]),
     lambda: text.caption_tokenizer().decode(torch.tensor([3, 1]))),
    ("Tokenizer length numpy.int64", lambda: Tokenizer(["a"], np.int64(5)).length, lambda: 5),
    ("GAN sample numpy n", lambda: GAN().sample(np.int64(3), torch.Generator().manual_seed(0)),
     lambda: GAN().sample(3, torch.Generator().manual_seed(0))),
    ("cascade.downsample factor numpy.int64", lambda: cascade.downsample(torch.ones(1, 3, 8, 8), np.int64(2)),
     lambda: cascade.downsample(torch.ones(1, 3, 8, 8), 2)),
    ("reflow_pairs shape as an int", lambda: fewstep.reflow_pairs(_exact("Linear"), 3, 2, 2,
                                                                  generator=torch.Generator().manual_seed(0)),
     lambda: fewstep.reflow_pairs(_exact("Linear"), 3, (2,), 2, generator=torch.Generator().manual_seed(0))),
    ("guided_score with a numpy gamma", lambda: guided_score(X2, X2 + 1, np.float64(2.0)),
     lambda: guided_score(X2, X2 + 1, 2.0)),
]


def _same(a, b):
    if isinstance(a, (tuple, list)) and not isinstance(a, str):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    return torch.equal(a, b) if torch.is_tensor(a) else a == b


@pytest.mark.parametrize("call, plain", [c[1:] for c in LEGIT], ids=[c[0] for c in LEGIT])
def test_legitimate_variants_are_accepted_and_mean_the_plain_form(call, plain):
    torch.manual_seed(0)
    got = call()
    torch.manual_seed(0)
    assert _same(got, plain())


def test_a_cpu_generator_drives_any_device():
    """A seeded CPU generator gives the same samples whatever device x is on (the lessons' seeds)."""
    x = torch.zeros(3, 2)
    a = smp.ddpm_sample(_ring(), x, 4, generator=torch.Generator().manual_seed(7))
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    m = de.pretrained("ring8-mlp", device=dev)
    b = smp.ddpm_sample(m, x.to(dev), 4, generator=torch.Generator().manual_seed(7)).cpu()
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
