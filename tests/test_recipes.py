"""The recipe command's continuation path: ``--init-from`` starts from saved weights, and refuses others."""
import pytest
import torch

from diffedu.pretrained import asset_path
from diffedu.recipes import train_recipe


def test_init_from_starts_at_the_saved_networks_loss_not_from_scratch():
    # the U-Net's output layer starts at zero, so a fresh net predicts ε̂ = 0 and its loss is E‖ε‖² / d ≈ 1;
    # the shipped net's training loss ended near 0.04
    fresh = train_recipe("mnist-unet", steps=2, progress=False)
    cont = train_recipe("mnist-unet", steps=2, progress=False, init_from="mnist-unet", lr=1e-6)
    assert fresh.losses[0] > 0.6
    assert cont.losses[0] < 0.15
    # a path works as well as a shipped name
    by_path = train_recipe("mnist-unet", steps=1, progress=False, init_from=str(asset_path("mnist-unet")))
    assert by_path.losses[0] < 0.15


def test_init_from_a_different_network_is_refused():
    with pytest.raises(ValueError, match="mnist-noisy-classifier.*is not the network of recipe 'mnist-unet'"):
        train_recipe("mnist-unet", steps=1, progress=False, init_from="mnist-noisy-classifier")


def test_mnist_flow_is_the_unet_recipe_on_the_straight_path_predicting_the_velocity(tmp_path):
    """Lesson 13's recipe: the same network and conditioning as mnist-unet, Linear() and velocity; 2 steps
    train (the zero-initialised output predicts u = 0, so the first loss is E(x_1 − x_0)² per pixel =
    1 + E x_0² ≈ 1.9 on MNIST) and the checkpoint comes back as a guided velocity model."""
    import torch

    import diffedu as de
    from diffedu.recipes import RECIPES, save_result, setup

    r, unet = RECIPES["mnist-flow"], RECIPES["mnist-unet"]
    assert r["model"] == unet["model"]
    assert (r["batch"], r["lr"], r["ema_decay"], r["p_uncond"]) == (64, 1e-3, 0.999, 0.1)
    s = setup("mnist-flow")
    assert s.process == de.Linear() and s.prediction == "velocity" and s.num_classes == 10
    res = train_recipe("mnist-flow", steps=2, progress=False)
    assert 1.6 < res.losses[0] < 2.2, res.losses
    path = save_result("mnist-flow", res.ema, tmp_path / "mnist-flow.safetensors", {"recipe": "mnist-flow"}, s)
    m = de.checkpoint.load(path)
    assert m.process == de.Linear() and m.prediction == "velocity" and m.num_classes == 10
    out = de.euler_sample(m.given(torch.tensor([3, 7]), 3.0), torch.randn(2, 1, 28, 28), 2)
    assert out.shape == (2, 1, 28, 28) and torch.isfinite(out).all()


def test_the_distillation_recipes_start_as_their_teacher_and_save_what_lesson_12_loads(tmp_path):
    import diffedu as de
    from diffedu.fewstep import ConsistencyModel
    from diffedu.model import takes_guidance
    from diffedu.recipes import RECIPES, save_result, setup

    teacher = de.pretrained("mnist-flow")
    x, y = torch.randn(2, 1, 28, 28), torch.tensor([4, 9])
    for name in ("mnist-pd-8", "mnist-flow-guided", "mnist-cd"):
        s = setup(name)
        assert s.process == teacher.process and s.prediction == teacher.prediction == "velocity"
        student = de.DiffusionModel(s.net.eval(), s.process, s.prediction, s.num_classes)
        with torch.no_grad():  # the student's first forward pass is the conditional teacher's, w or not
            out = student.given(y, 2.5 if takes_guidance(student) else 1.0).velocity(x, 0.7)
            assert torch.allclose(out, teacher.given(y).velocity(x, 0.7), atol=1e-5)
        assert takes_guidance(student) == (name == "mnist-flow-guided")
        loss = s.loss(s.net.train(), (x, y), torch.Generator().manual_seed(0))
        assert loss.ndim == 0 and torch.isfinite(loss) and loss.requires_grad
    path = save_result("mnist-cd", s.net, tmp_path / "cd.safetensors", {"recipe": "mnist-cd"}, s)
    cm = de.checkpoint.load(path)
    r = RECIPES["mnist-cd"]
    assert isinstance(cm, ConsistencyModel) and (cm.t_min, cm.sigma_data) == (r["t_min"], r["sigma_data"])
    assert RECIPES["mnist-pd-4"]["teacher"] == "mnist-pd-8" and RECIPES["mnist-pd-1"]["teacher_steps"] == 2


def test_init_from_a_consistency_checkpoint_continues_its_network():
    import diffedu as de
    from diffedu.recipes import _init_result, setup

    res = _init_result("mnist-cd", setup("mnist-cd"), "mnist-cd")  # --init-from mnist-cd: a model inside a model
    shipped = de.pretrained("mnist-cd").net.net
    assert all(torch.equal(a, b) for a, b in zip(res.model.state_dict().values(), shipped.state_dict().values()))


def test_a_continued_checkpoint_names_every_run_that_made_it(tmp_path):
    """history(): the shipped file's own run (it predates histories), then each continuation, oldest first."""
    from diffedu import checkpoint
    from diffedu.recipes import history

    first = history("mnist-unet", {"command": "python -m diffedu.recipes mnist-unet --init-from mnist-unet",
                                   "steps_run": 2, "precision": "fp32", "seconds": 1.0, "final_loss": 0.5,
                                   "recipe": "not kept"})
    shipped_runs = checkpoint.read(asset_path("mnist-unet"))[0]["meta"]["history"]
    assert first[:-1] == shipped_runs and len(first) == len(shipped_runs) + 1
    assert first[-1] == {"command": "python -m diffedu.recipes mnist-unet --init-from mnist-unet", "steps_run": 2,
                         "precision": "fp32", "seconds": 1.0, "final_loss": 0.5}
    one = history("cifar-base16", {"command": "c2", "steps_run": 5})           # a file without a history
    assert one[0]["command"] == checkpoint.read(asset_path("cifar-base16"))[0]["meta"]["command"]
    assert one[1] == {"command": "c2", "steps_run": 5} and len(one) == 2
    assert history(None, {"command": "c", "steps_run": 1}) == [{"command": "c", "steps_run": 1}]


def test_trained_sums_every_run_of_a_continued_checkpoint():
    from diffedu.recipes import trained

    runs = [{"command": "a", "steps": 2500, "seconds": 60.0}, {"command": "b", "steps_run": 4000, "seconds": 30.0}]
    assert trained({"history": runs, "steps_run": 4000, "seconds": 30.0}) == {"runs": 2, "steps": 6500,
                                                                                "seconds": 90.0}
    assert trained({"steps_run": 10, "steps": 20000, "seconds": 5.0}) == {"runs": 1, "steps": 10, "seconds": 5.0}
