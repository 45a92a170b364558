"""The recipe command's continuation path: ``--init-from`` starts from saved weights, and refuses others."""
import pytest

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
