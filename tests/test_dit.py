"""The Diffusion Transformer: patchify round-trips, adaLN-Zero starts every block at the identity, shapes for
several patch sizes, one sample's output independent of the rest of the batch, CFG exact at w = 0 and 1."""
import pytest
import torch

import diffedu as de
from diffedu.models import DiT, patchify, unpatchify
from diffedu.models.dit import DiTBlock


def _trained_looking(net):
    """Perturb every parameter: the zero initialisation would hide what the tests look for."""
    with torch.no_grad():
        for prm in net.parameters():
            prm.add_(0.05 * torch.randn_like(prm))
    return net.eval()


@pytest.mark.parametrize("p", [1, 2, 4, 8])
def test_patchify_then_unpatchify_is_the_identity(p):
    x = torch.randn(3, 3, 32, 16)
    tokens = patchify(x, p)
    assert tokens.shape == (3, (32 // p) * (16 // p), p * p * 3)
    assert torch.equal(unpatchify(tokens, p, 3, 32, 16), x)
    # the first token is the top-left patch, flattened
    assert torch.equal(tokens[0, 0], x[0, :, :p, :p].permute(1, 2, 0).reshape(-1))


def test_a_fresh_dit_block_is_the_identity_and_the_network_outputs_zero():
    torch.manual_seed(0)
    block = DiTBlock(64, heads=4)
    x, c = torch.randn(2, 16, 64), torch.randn(2, 64)
    assert torch.equal(block(x, c), x)  # zero gates: x + 0·attention + 0·MLP
    with torch.no_grad():  # and not by accident: a non-zero gate changes the output
        block.ada.bias[2 * 64:3 * 64] = 1.0
    assert not torch.allclose(block(x, c), x)
    net = DiT(image_size=16, patch_size=4, hidden_size=64, depth=2, heads=4)
    assert torch.equal(net(torch.randn(2, 3, 16, 16), torch.tensor([1, 500])), torch.zeros(2, 3, 16, 16))


@pytest.mark.parametrize("p", [2, 4, 8])
def test_output_shape_equals_input_shape_and_samples_are_independent(p):
    torch.manual_seed(1)
    net = _trained_looking(DiT(image_size=16, patch_size=p, hidden_size=32, depth=2, heads=2))
    with torch.no_grad():
        x, t, y = torch.randn(5, 3, 16, 16), torch.tensor([1, 100, 400, 700, 999]), torch.tensor([0, 3, 9, 10, 2])
        out = net(x, t, y)
        assert out.shape == x.shape
        alone = net(x[2:3], t[2:3], y[2:3])
        assert torch.allclose(out[2:3], alone, atol=1e-5)
        other = x.clone()
        other[[0, 1, 3, 4]] = torch.randn(4, 3, 16, 16)
        assert torch.allclose(net(other, t, y)[2], out[2], atol=1e-5)


def test_cfg_with_w0_and_w1_gives_the_unconditional_and_conditional_predictions_exactly():
    torch.manual_seed(2)
    net = _trained_looking(DiT(image_size=8, patch_size=2, hidden_size=32, depth=1, heads=2))
    model = de.DiffusionModel(net, de.DiscreteVP("cosine", 1000), "eps", num_classes=10)
    x, t, y = torch.randn(3, 3, 8, 8), torch.tensor([10, 500, 900]), torch.tensor([1, 5, 7])
    with torch.no_grad():
        assert torch.equal(model.given(y, 1.0).eps(x, t), net(x, t, y))
        assert torch.equal(model.given(y, 0.0).eps(x, t), net(x, t, torch.full((3,), 10)))
        assert torch.equal(net(x, t), net(x, t, torch.full((3,), 10)))  # no label is the null label


def test_attention_maps_are_distributions_over_tokens_and_match_the_fused_path():
    torch.manual_seed(3)
    net = _trained_looking(DiT(image_size=8, patch_size=2, hidden_size=32, depth=2, heads=2))
    with torch.no_grad():
        x, t = torch.randn(2, 3, 8, 8), torch.tensor([3, 300])
        out, maps = net(x, t, attention_maps=True)
    assert len(maps) == 2 and maps[0].shape == (2, 2, 16, 16)
    assert torch.allclose(maps[0].sum(-1), torch.ones(2, 2, 16))
    assert torch.allclose(out, net(x, t), atol=1e-5)


@pytest.mark.parametrize("kwargs, word", [
    (dict(image_size=30, patch_size=4), "divisible by patch_size"),
    (dict(hidden_size=30, heads=4), "divisible by heads"),
    (dict(depth=0), "depth"),
    (dict(num_classes=-1), "num_classes"),
])
def test_bad_configurations_are_refused(kwargs, word):
    with pytest.raises(ValueError, match=word):
        DiT(**kwargs)
