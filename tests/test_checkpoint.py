import pytest
import torch
from safetensors.torch import save_file

from latentatlas.errors import LatentAtlasError
from latentatlas.models.autoencoder import ConvVAE
from latentatlas.train.checkpoint import load_checkpoint, load_model_state, save_checkpoint


def _trained_pair():
    torch.manual_seed(0)
    model = ConvVAE(latent_dim=3, widths=[4, 8], image_size=16)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(2):
        out = model(torch.rand(4, 1, 16, 16))
        out.logits.mean().backward()
        opt.step()
    return model, opt


def test_round_trip_restores_weights_optimizer_and_metadata(tmp_path):
    model, opt = _trained_pair()
    path = save_checkpoint(tmp_path / "c.safetensors", model, {"a": 1}, epoch=4, optimizer=opt, extra={"best": 0.5})
    ckpt = load_checkpoint(path)
    assert ckpt.epoch == 4 and ckpt.config == {"a": 1} and ckpt.extra == {"best": 0.5}
    fresh = ConvVAE(latent_dim=3, widths=[4, 8], image_size=16)
    load_model_state(fresh, ckpt, path)
    for k, v in model.state_dict().items():
        assert torch.equal(v, fresh.state_dict()[k]), k
    opt2 = torch.optim.Adam(fresh.parameters(), lr=1e-2)
    opt2.load_state_dict(ckpt.optim_state)
    a, b = opt.state_dict(), opt2.state_dict()
    assert a["param_groups"] == b["param_groups"]
    for idx, entry in a["state"].items():
        for name, value in entry.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(b["state"][idx][name])), (idx, name)
    assert not (tmp_path / "c.safetensors.tmp").exists()


def test_foreign_and_broken_files_are_user_errors(tmp_path):
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(LatentAtlasError, match="not written by latentatlas"):
        load_checkpoint(foreign)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(LatentAtlasError, match="not a readable safetensors file"):
        load_checkpoint(junk)
    with pytest.raises(LatentAtlasError, match="not found"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_checkpoint_of_another_architecture_is_refused(tmp_path):
    model, _ = _trained_pair()
    path = save_checkpoint(tmp_path / "c.safetensors", model, {}, epoch=0)
    other = ConvVAE(latent_dim=2, widths=[4, 8], image_size=16)
    with pytest.raises(LatentAtlasError, match="does not fit this model"):
        load_model_state(other, load_checkpoint(path), path)
