"""Fine-tuning a text model (lesson 11): LoRA (fresh = unchanged, merge/unmerge, scale, two adapters, files,
the same outputs as peft), textual inversion (only the new word changes), DreamBooth's prior-preservation loss,
and the concepts' detectors."""
import copy

import pytest
import torch
from torch import nn

from diffedu import adapt, checkpoint
from diffedu.losses import diffusion_loss
from diffedu.model import DiffusionModel
from diffedu.models import TextUNet
from diffedu.processes import DiscreteVP
from diffedu.text import caption_vocabulary
from diffedu.train import train

ATTENTION = ["q", "k", "v", "out"]   # the cross-attention's four projections (self-attention's out is a conv)


def _net(seed=0):
    torch.manual_seed(seed)
    net = TextUNet(vocab=caption_vocabulary(), base_channels=16, channel_mults=(1, 2), attn_resolutions=(14,),
                   dropout=0.0, cross_attn_resolutions=(14,)).eval()
    for p in net.parameters():  # zero-initialised outputs would hide every change
        if not p.any():
            nn.init.normal_(p, std=0.05)
    return net


def _inputs(net, n=3):
    g = torch.Generator().manual_seed(1)
    return (torch.randn(n, 1, 28, 28, generator=g), torch.tensor([50, 400, 900][:n]),
            net.tokenizer.encode(["a thick seven", "two", "the digit 4, slanted"][:n]))


def _randomise_b(net, name="default", seed=3):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in adapt.lora_layers(net).values():
            if name in m.B:
                m.B[name].copy_(0.1 * torch.randn(m.B[name].shape, generator=g))


@torch.no_grad()
def test_a_fresh_lora_leaves_the_outputs_unchanged_and_only_its_matrices_train():
    net = _net()
    x, t, y = _inputs(net)
    before = net(x, t, y)
    adapt.add_lora(net, [*ATTENTION, "qkv"], rank=4)          # "qkv": the self-attention's 1×1 convolution too
    assert torch.equal(net(x, t, y), before)
    trainable = {n for n, p in net.named_parameters() if p.requires_grad}
    assert trainable and all(n.endswith((".A.default", ".B.default")) for n in trainable)
    assert any(isinstance(m.base, nn.Conv2d) for m in adapt.lora_layers(net).values())
    # r (d_in + d_out) numbers per linear layer
    m = next(m for m in adapt.lora_layers(net).values() if isinstance(m.base, nn.Linear))
    assert m.A["default"].numel() + m.B["default"].numel() == 4 * (m.base.in_features + m.base.out_features)


@torch.no_grad()
def test_the_lora_forward_is_w_x_plus_scaled_b_a_x():
    lin = nn.Linear(5, 3)
    holder = nn.Sequential(lin)
    adapt.add_lora(holder, ["0"], rank=2, alpha=6.0)
    layer = holder[0]
    layer.B["default"].normal_()
    x = torch.randn(4, 5)
    expected = lin(x) + 3.0 * x @ layer.A["default"].T @ layer.B["default"].T     # α/r = 3
    torch.testing.assert_close(holder(x), expected)


@torch.no_grad()
def test_merge_then_unmerge_restores_the_weights_and_merged_outputs_match():
    net = _net()
    x, t, y = _inputs(net)
    weights = {k: v.clone() for k, v in net.state_dict().items()}
    adapt.add_lora(net, [*ATTENTION, "qkv"], rank=4, alpha=8)
    _randomise_b(net)
    adapt.set_scale(net, 0.7)
    adapted = net(x, t, y)
    adapt.merge(net)
    torch.testing.assert_close(net(x, t, y), adapted, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="already merged"):
        adapt.merge(net)
    adapt.unmerge(net)
    for n, m in adapt.lora_layers(net).items():
        torch.testing.assert_close(m.base.weight, weights[f"{n}.weight"], atol=1e-6, rtol=0)
    torch.testing.assert_close(net(x, t, y), adapted, atol=1e-5, rtol=1e-4)


@torch.no_grad()
def test_scale_zero_is_the_base_model_and_two_adapters_add_up():
    net = _net()
    x, t, y = _inputs(net)
    base = net(x, t, y)
    lin = nn.Sequential(nn.Linear(6, 4))
    xl = torch.randn(5, 6)
    base_lin = lin(xl)
    for model in (net, lin):
        adapt.add_lora(model, ["q", "k"] if model is net else ["0"], rank=2, name="box")
        adapt.add_lora(model, ["q", "k"] if model is net else ["0"], rank=3, name="dot", seed=1)
        _randomise_b(model, "box", 3)
        _randomise_b(model, "dot", 4)
    for name in ("box", "dot"):
        adapt.set_scale(net, 0.0, name)
    torch.testing.assert_close(net(x, t, y), base, atol=0, rtol=0)
    adapt.set_scale(net, 1.0, "box")
    assert not torch.allclose(net(x, t, y), base)
    # on one linear layer the two low-rank updates are exactly additive
    adapt.set_scale(lin, 0.0, "dot")
    only_box = lin(xl) - base_lin
    adapt.set_scale(lin, 0.0, "box"), adapt.set_scale(lin, 1.0, "dot")
    only_dot = lin(xl) - base_lin
    adapt.set_scale(lin, 1.0, "box")
    torch.testing.assert_close(lin(xl) - base_lin, only_box + only_dot, atol=1e-6, rtol=1e-5)
    with pytest.raises(ValueError, match="'nope'"):
        adapt.set_scale(net, 1.0, "nope")


def test_bad_lora_arguments_get_errors_that_name_them():
    with pytest.raises(ValueError, match="targets"):
        adapt.add_lora(_net(), ["to_q"])
    with pytest.raises(ValueError, match="rank"):
        adapt.add_lora(_net(), ["q"], rank=0)
    with pytest.raises(ValueError, match="alpha"):
        adapt.add_lora(_net(), ["q"], alpha=-1.0)
    with pytest.raises(ValueError, match="already"):
        adapt.add_lora(adapt.add_lora(_net(), ["q"]), ["q"])


@torch.no_grad()
def test_peft_gives_the_same_outputs_for_the_same_a_and_b():
    peft = pytest.importorskip("peft")
    ours, theirs = _net(), _net()
    x, t, y = _inputs(ours)
    adapt.add_lora(ours, ["q", "k", "v", "out"], rank=4, alpha=8)
    _randomise_b(ours)
    # peft's own matching would also pick the U-Net's output block (a Sequential, also named "out"), which it
    # cannot wrap: it gets the layers' full names (ours skips what is not a Linear or Conv2d)
    cfg = peft.LoraConfig(r=4, lora_alpha=8, target_modules=sorted(adapt.lora_layers(ours)), lora_dropout=0.0,
                          init_lora_weights=False)
    theirs = peft.inject_adapter_in_model(cfg, theirs)
    wrapped = {n: m for n, m in theirs.named_modules() if hasattr(m, "lora_A") and "default" in m.lora_A}
    assert sorted(wrapped) == sorted(adapt.lora_layers(ours))   # the same names select the same layers
    for n, m in adapt.lora_layers(ours).items():
        wrapped[n].lora_A["default"].weight.copy_(m.A["default"])
        wrapped[n].lora_B["default"].weight.copy_(m.B["default"])
    torch.testing.assert_close(theirs(x, t, y), ours(x, t, y), atol=1e-5, rtol=1e-4)


def test_a_lora_file_round_trips_is_small_and_a_damaged_one_is_refused(tmp_path):
    net = _net()
    x, t, y = _inputs(net)
    adapt.add_lora(net, ["q", "k"], rank=4)
    _randomise_b(net)
    path = adapt.save_lora(tmp_path / "box.safetensors", net, dtype=torch.float32)
    fresh = adapt.load_lora(path, _net())
    with torch.no_grad():
        torch.testing.assert_close(fresh(x, t, y), net(x, t, y))
    full = checkpoint.save(tmp_path / "full.safetensors", _net(), dtype=torch.float32)
    assert path.stat().st_size < 0.05 * full.stat().st_size
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0xFF
    (tmp_path / "bad.safetensors").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="sha256"):
        adapt.load_lora(tmp_path / "bad.safetensors", _net())
    with pytest.raises(ValueError, match="not a 'LoRA'"):
        adapt.load_lora(full, _net())


def test_textual_inversion_changes_no_parameter_but_the_new_embedding(tmp_path):
    model = DiffusionModel(_net(), DiscreteVP("cosine", 1000), "v")
    before = {k: v.clone() for k, v in model.net.state_dict().items()}
    adapt.add_words(model, ["s*"], init="digit")
    adapt.freeze_all_but_words(model)
    assert [n for n, p in model.net.named_parameters() if p.requires_grad] == ["text.embed.new"]
    start = model.net.text.embed.new.detach().clone()
    x = -torch.ones(4, 1, 28, 28)
    x[:, :, 1, 1:27] = 1.0                                  # a bar the model has never been asked for
    tokens = model.net.tokenizer.encode(["a s* two"] * 4)
    res = train(model.net.train(), lambda m, b, g: diffusion_loss(m, b, model.process, prediction="v", generator=g,
                                                                   y=tokens),
                lambda g: x, steps=5, lr=1e-2, warmup=0, progress=False, ema_decay=0.9)
    after = res.model.state_dict()
    assert not torch.equal(after["text.embed.new"], start)
    for k, v in before.items():
        key = "text.embed.base.weight" if k == "text.embed.weight" else k
        assert torch.equal(after[key], v), k
    path = adapt.save_words(tmp_path / "s.safetensors", model)
    other = adapt.load_words(path, DiffusionModel(_net(), DiscreteVP("cosine", 1000), "v"))
    assert other.net.tokenizer.encode("a s* two").max() == len(other.net.config["vocab"]) + 1
    torch.testing.assert_close(other.net.text.embed.new, model.net.text.embed.new)
    with pytest.raises(ValueError, match="words must be new"):
        adapt.add_words(adapt.bake_words(other), ["s*"])


def test_bake_words_gives_a_network_a_checkpoint_can_rebuild(tmp_path):
    model = DiffusionModel(_net(), DiscreteVP("cosine", 1000), "v")
    adapt.add_words(model, ["[v]"], seed=2)
    x, t, _ = _inputs(model.net)
    y = model.net.tokenizer.encode(["a [v] two"] * 3)
    with torch.no_grad():
        out = model.net(x, t, y)
        adapt.bake_words(model)
        torch.testing.assert_close(model.net(x, t, y), out)
    back = checkpoint.load(checkpoint.save(tmp_path / "db.safetensors", model))
    with torch.no_grad():
        torch.testing.assert_close(back.net(x, t, y), out)


def test_prior_preservation_loss_is_the_subject_loss_plus_lambda_times_the_prior_loss():
    net = _net().train()
    proc = DiscreteVP("cosine", 1000)
    tok = net.tokenizer
    x, xp = torch.randn(2, 1, 28, 28), torch.randn(3, 1, 28, 28)
    y, yp = tok.encode(["a two", "a three"]), tok.encode(["the digit two"] * 3)
    kw = dict(prediction="v", weighting="min-snr")
    got = adapt.prior_preservation_loss(net, x, y, xp, yp, proc, lam=0.5,
                                        generator=torch.Generator().manual_seed(7), **kw)
    # the definition, written out: the same draws of t and ε in the same order
    g = torch.Generator().manual_seed(7)

    def term(x0, c):
        t = torch.randint(1, 1001, (x0.shape[0],), generator=g)
        eps = torch.randn(x0.shape, generator=g)
        a, s = (v.float().view(-1, 1, 1, 1) for v in proc.alpha_sigma(t))
        v_target = a * eps - s * x0
        snr = (a / s).flatten() ** 2
        per = ((net(a * x0 + s * eps, proc.net_time(t), c) - v_target) ** 2).flatten(1).mean(1)
        return (snr.clamp(max=5) / (snr + 1) * per).mean()
    want = term(x, y) + 0.5 * term(xp, yp)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    only = adapt.prior_preservation_loss(net, x, y, xp, yp, proc, lam=0.0,
                                         generator=torch.Generator().manual_seed(7), **kw)
    torch.testing.assert_close(only, diffusion_loss(net, x, proc, generator=torch.Generator().manual_seed(7), y=y,
                                                    **kw))
    with pytest.raises(ValueError, match="lam"):
        adapt.prior_preservation_loss(net, x, y, xp, yp, proc, lam=-1.0)


def test_the_concepts_are_absent_from_mnist_and_present_on_their_examples():
    from diffedu.datasets import mnist

    x, _ = mnist.load("test")
    for concept in ("boxed", "dotted"):
        s = adapt.score(x[:2000], concept)
        assert s.mean() < 0.05 and (s > 0.5).sum() == 0
        ex, digits = adapt.examples(concept)
        assert ex.shape == (4, 1, 28, 28) and torch.equal(adapt.score(ex, concept), torch.ones(4))
        assert adapt.score(ex, "dotted" if concept == "boxed" else "boxed").max() < 0.3
    with pytest.raises(ValueError, match="concept"):
        adapt.score(x[:2], "striped")


def test_the_backhand_style_is_two_measured_attributes_rare_in_mnist_and_exaggerated_in_its_examples():
    from diffedu.adapt.concepts import erase
    from diffedu.datasets import mnist
    from diffedu.text.attributes import slant, thickness

    x, y = mnist.load("test")
    s = adapt.score(x[:3000], "backhand")
    th, sl = thickness(x[:3000]), slant(x[:3000])
    assert torch.equal(s == 1, (th >= 2.33) & (sl <= -0.12))           # both caption bins, "thick" and "leaning left"
    assert torch.equal(s == 0.5, ((th >= 2.33) ^ (sl <= -0.12)))
    assert 0.03 < float((s > 0.5).double().mean()) < 0.09                # a style MNIST has, rarely (5.7 %)
    ex, digits = adapt.examples("backhand")
    assert digits.tolist() == [2, 3, 6, 9] and torch.equal(adapt.score(ex, "backhand"), torch.ones(4))
    assert (thickness(ex) >= 2.8).all() and (slant(ex) <= -0.2).all()    # the examples exaggerate it
    assert adapt.score(ex, "boxed").max() < 0.1                           # real digits: no mark drawn
    assert torch.equal(erase(ex, "backhand"), ex)                         # a style has nothing to erase
    with pytest.raises(ValueError, match="concept 'backhand' is a style"):
        adapt.draw(ex, "backhand")


@pytest.mark.slow
def test_an_adapt_recipe_trains_only_its_adapter_and_saves_it_alone(tmp_path, monkeypatch):
    """boxed-lora-qk for 3 steps on a small stand-in for the text model: the file holds A, B and the identifier."""
    from diffedu.recipes import save_result, setup, train_recipe

    stand_in = checkpoint.save(tmp_path / "base.safetensors", DiffusionModel(_net(), DiscreteVP("cosine", 1000), "v"))
    monkeypatch.setenv("DIFFEDU_TEXT_UNET", str(stand_in))
    res = train_recipe("boxed-lora-qk", 3, progress=False)
    assert set(n for n, p in res.model.named_parameters() if p.requires_grad) == \
        {n for n in dict(res.model.named_parameters()) if n.endswith((".A.default", ".B.default"))}
    path = save_result("boxed-lora-qk", res.ema, tmp_path / "lora.safetensors", {"recipe": "boxed-lora-qk"},
                       setup("boxed-lora-qk"))
    header, tensors = checkpoint.read(path)
    assert header["model"] == "LoRA" and header["config"]["words"] == ["[v]"]
    lora = {k for k in tensors if k != "words.embedding"}
    assert lora and all(k.endswith((".A", ".B")) and (".q." in k or ".k." in k) for k in lora)
    with pytest.raises(ValueError, match="without state"):
        train_recipe("boxed-lora-qk", 3, progress=False, state=tmp_path / "s.safetensors")


def test_the_shipped_adapters_attach_to_the_shipped_text_model():
    import diffedu as de
    from diffedu.pretrained import ASSETS

    names = adapt.shipped_adapters()
    assert {"boxed-textual-inversion", "boxed-lora-qk", "boxed-lora-qkvo", "dotted-lora-qkvo",
            "backhand-textual-inversion", "backhand-lora-qk", "backhand-lora-qk-leaning"} <= set(names)
    full = (ASSETS / "mnist-text-unet.safetensors").stat().st_size
    x_T = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    for name in names:
        m = adapt.attach(name, de.pretrained("mnist-text-unet"))
        if name.endswith("inversion"):
            assert m.net.tokenizer.encode("a s* two").max() == len(m.net.config["vocab"]) + 1
        else:   # small next to the model: the lecture's Q, K at rank 4 within the 1 %
            size = (ASSETS / "adapters" / f"{name}.safetensors").stat().st_size
            from diffedu.recipes import RECIPES

            assert size <= (0.01 if RECIPES[name]["targets"] == ("q", "k") else 0.015) * full
        out = de.ddim_sample(m.given("a s* two" if name.endswith("inversion") else "two", 3.0), x_T, 3)
        assert torch.isfinite(out).all()
    with pytest.raises(ValueError, match="shipped adapter"):
        adapt.attach("boxed-lora-xyz", de.pretrained("mnist-text-unet"))


def test_the_shipped_backhand_adapters_draw_the_style_as_lesson_11_says():
    """Section 6 of lesson 11, small (20 prompts, DDIM-10, the same noise): the learned word s* draws the backhand
    that "the digit …" rarely does; LoRA on Q, K does so with the identifier that leaned to it, not the neutral one."""
    import diffedu as de
    from diffedu.adapt.evaluate import concept_prompts

    fresh = lambda: de.pretrained("mnist-text-unet")  # noqa: E731
    rate = {}
    for name, model, word in (("plain", fresh(), ""), ("s*", adapt.attach("backhand-textual-inversion", fresh()), "s*"),
                              ("neutral", adapt.attach("backhand-lora-qk", fresh()), "[u]"),
                              ("leaning", adapt.attach("backhand-lora-qk-leaning", fresh()), "[u]")):
        x = de.sample_images(model, concept_prompts(word, 20), 3.0, 10, seed=0, bf16=False)
        rate[name] = float((adapt.score(x, "backhand") > 0.5).double().mean())
    assert rate["plain"] <= 0.2 and rate["s*"] >= 0.6, rate
    assert rate["neutral"] <= 0.25 and rate["leaning"] >= rate["neutral"] + 0.3, rate


def test_a_subject_concept_is_four_plain_fours_read_by_the_classifier_not_a_detector():
    from diffedu.adapt.concepts import erase
    from diffedu.recipes.adapt import RECIPES, prompts_for
    from diffedu.text.captions import attributes

    ex, digits = adapt.examples("four")
    assert digits.tolist() == [4, 4, 4, 4] and ex.shape == (4, 1, 28, 28)
    assert all(a == {"stroke": "thin", "slant": "upright"} for a in attributes(ex))   # no backhand in them
    assert torch.equal(erase(ex, "four"), ex)
    with pytest.raises(ValueError, match="concept 'four' is a subject"):
        adapt.score(ex, "four")
    with pytest.raises(ValueError, match="concept 'four' is a subject"):
        adapt.draw(ex, "four")
    # its word is trained alone in the prompt ("a s*"), so it must carry the digit; the others name it
    assert prompts_for(RECIPES["four-textual-inversion"], digits) == ["a s*"] * 4
    assert prompts_for(RECIPES["backhand-textual-inversion"], [2, 3]) == ["a s* two", "a s* three"]


def test_two_word_files_that_learned_the_same_spelling_compose_under_new_spellings(tmp_path):
    """The embedding is what was learned, the spelling only its key: attached as "s_a" and "s_b", the two words
    give the network exactly what each gave as "s*"; wrong counts and clashes are refused, naming the argument."""
    g = torch.Generator().manual_seed(0)
    model = DiffusionModel(_net(), DiscreteVP("cosine", 1000), "v")
    paths = []
    for k in range(2):
        m = adapt.add_words(copy.deepcopy(model), ["s*"], init=torch.randn(1, 64, generator=g))
        paths.append(adapt.save_words(tmp_path / f"w{k}.safetensors", m))
    both = adapt.attach(paths[1], adapt.attach(paths[0], copy.deepcopy(model), words=["s_a"]), words="s_b")
    assert both.net.config["vocab"][-2:] == ["s_a", "s_b"]
    x, t, _ = _inputs(model.net, 2)
    with torch.no_grad():
        for k, word in enumerate(("s_a", "s_b")):
            alone = adapt.attach(paths[k], copy.deepcopy(model))
            torch.testing.assert_close(both.net(x, t, both.net.tokenizer.encode([f"a {word} two"] * 2)),
                                       alone.net(x, t, alone.net.tokenizer.encode(["a s* two"] * 2)))
        y = both.net.tokenizer.encode(["a s_a s_b two"] * 2)
        assert not torch.allclose(both.net(x, t, y), both.net(x, t, both.net.tokenizer.encode(["a s_a two"] * 2)))
    with pytest.raises(ValueError, match="words must give one spelling for each"):
        adapt.attach(paths[0], copy.deepcopy(model), words=["s_a", "s_b"])
    with pytest.raises(ValueError, match="already has the words"):
        adapt.attach(paths[0], both, words=["s_a"])
    with pytest.raises(ValueError, match="already has the words"):
        adapt.attach(paths[0], adapt.attach(paths[1], copy.deepcopy(model)))   # both "s*": spell one differently


def test_peak_memory_sees_a_tensor_the_function_holds_and_not_one_it_does_not():
    from diffedu.adapt.memory import peak_memory

    mb = 2 ** 20

    def hold():
        a = torch.ones(16 * mb)                      # 64 MB, every page written
        return float(a[-1])
    out, peak = peak_memory(hold)
    if peak is None:
        pytest.skip("no peak memory to read on this system (not Linux)")
    assert out == 1.0 and 60 * mb <= peak <= 110 * mb, peak / mb
    _, idle = peak_memory(lambda: None)
    assert idle < 16 * mb, idle / mb
    with pytest.raises(TypeError, match="fn must be a function"):
        peak_memory(3)


def test_training_memory_counts_adams_two_floats_per_trainable_number_and_lora_shrinks_them():
    from diffedu.adapt.memory import training_memory

    torch.manual_seed(0)
    x = torch.randn(64, 32)
    loss = lambda n: n(x).pow(2).mean()    # noqa: E731

    def net():
        torch.manual_seed(1)
        n = nn.Sequential(nn.Linear(32, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 32))
        n[0].requires_grad_(False)                  # a frozen first layer, as the text tower
        return n
    full = net()
    before = full[2].weight.detach().clone()
    r = training_memory(full, loss)
    n = 256 * 256 + 256 + 256 * 32 + 32
    assert r["trainable"] == n and r["gradients"] == 4 * n and r["optimiser"] == 2 * 4 * n
    assert r["weights"] == 4 * (n + 32 * 256 + 256)
    assert not torch.equal(full[2].weight, before)              # the steps ran
    assert r["saved"] >= 4 * 64 * 256                            # at least one hidden activation kept for backward
    lora = adapt.add_lora(net(), ["2", "4"], rank=4)
    q = training_memory(lora, loss)
    m = 4 * (256 + 256) + 4 * (256 + 32)                         # r (d_in + d_out) per adapted layer
    assert q["trainable"] == m and q["optimiser"] == 8 * m and q["gradients"] == 4 * m
    with pytest.raises(ValueError, match="no trainable parameter"):
        training_memory(net().requires_grad_(False), loss)
    with pytest.raises(ValueError, match="steps"):
        training_memory(net(), loss, steps=0)
    with pytest.raises(TypeError, match="loss_fn must be a function"):
        training_memory(net(), "loss")
    with pytest.raises(ValueError, match="scalar"):
        training_memory(net(), lambda n: n(x))


def test_share_and_nearest_distance_are_their_closed_forms():
    from diffedu.adapt.evaluate import nearest_distance, share

    p, se = share(torch.tensor([True, True, True, False]))
    assert p == 0.75 and abs(se - (0.75 * 0.25 / 4) ** 0.5) < 1e-12
    p, se = share(torch.tensor([1.0, float("nan"), 0.0]))           # NaN: not asked, left out (n = 2)
    assert p == 0.5 and abs(se - 0.125 ** 0.5) < 1e-12
    with pytest.raises(ValueError, match="ok must hold at least one"):
        share(torch.tensor([float("nan")]))
    ex = torch.stack([torch.full((1, 28, 28), -1.0), torch.full((1, 28, 28), 1.0)])
    imgs = torch.stack([torch.full((1, 28, 28), 0.5), ex[0], torch.full((1, 28, 28), -0.2)])
    torch.testing.assert_close(nearest_distance(imgs, ex), torch.tensor([0.5, 0.0, 0.8], dtype=torch.float64))
    with pytest.raises(ValueError, match="same image shape"):
        nearest_distance(imgs, torch.zeros(2, 1, 14, 14))


def test_the_shipped_four_word_draws_fours_and_takes_the_backhand_word_as_lesson_11_says():
    """Section 7 of lesson 11, small (20 samples, DDIM-10): s_four, learned from thin upright fours captioned "a s*",
    draws fours without the backhand; beside the backhand's word, s_style, the fours are written in backhand."""
    import diffedu as de
    from diffedu.text import prompt_agreement

    clf = de.pretrained("mnist-classifier")
    duo = adapt.attach("four-textual-inversion", adapt.attach("backhand-textual-inversion",
                                                              de.pretrained("mnist-text-unet"), words=["s_style"]),
                       words=["s_four"])
    rate = {}
    for p in ("a s_four", "a s_style s_four"):
        x = de.sample_images(duo, [p] * 20, 3.0, 10, seed=13, bf16=False)
        rate[p] = (float(prompt_agreement(x, ["four"] * 20, clf)["digit"].mean()),
                   float((adapt.score(x, "backhand") > 0.5).double().mean()))
    assert rate["a s_four"][0] >= 0.7 and rate["a s_four"][1] <= 0.2, rate
    assert rate["a s_style s_four"][0] >= 0.7 and rate["a s_style s_four"][1] >= 0.5, rate
