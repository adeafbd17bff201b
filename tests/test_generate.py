"""Inference: export, the generate command end to end, and one-line errors that leave no partial output."""

from __future__ import annotations

import json
import shutil

import av
import numpy as np
import pytest
import torch
from PIL import Image

from fsvid2vid.cli import main
from fsvid2vid.errors import UserError
from fsvid2vid.infer.synthesizer import Synthesizer, driving_clip, load_examples
from fsvid2vid.models.checkpoint import latest_checkpoint
from fsvid2vid.models.generator_file import export_generator, load_generator
from fsvid2vid.train.trainer import train
from tests.test_train import tiny_config


@pytest.fixture
def trained(tiny_dance_model):
    return tiny_dance_model


def _cross(dance_dir):
    cross = sorted(p for p in dance_dir.iterdir() if "_x" in p.name)[0]
    own = dance_dir / (cross.name.split("_x")[0] + "_c00")
    return own, cross


def test_generate_round_trip(trained, tmp_path):
    _, model, dance_dir = trained
    own, cross = _cross(dance_dir)
    out = tmp_path / "out.mp4"
    status = main(["generate", "--checkpoint", str(model), "--examples", str(own / "rgb" / "000001.png"),
                   str(own / "rgb" / "000009.png"), "--driving", str(cross), "--out", str(out), "--side-by-side",
                   "--sheet", str(tmp_path / "sheet.png"), "--frames-dir", str(tmp_path / "frames"), "--quiet"])
    assert status == 0
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 12 and frames[0].shape == (64, 48, 3)
    with av.open(str(tmp_path / "out-side-by-side.mp4")) as c:
        side = next(iter(c.decode(video=0))).to_ndarray(format="rgb24")
    assert side.shape == (64, 48 * (1 + 2 + 1 + 1), 3)  # semantic | 2 examples | generated | ground truth
    meta = json.loads((tmp_path / "out.json").read_text())
    assert meta["K"] == 2 and meta["frames"] == 12 and meta["task"] == "dance" and meta["finetune_steps"] == 0
    assert len(list((tmp_path / "frames").glob("*.png"))) == 12
    assert (tmp_path / "sheet.png").is_file()


def test_exported_fp32_generator_equals_the_training_checkpoint(trained, tmp_path):
    ckpt, _, dance_dir = trained
    fp32 = export_generator(ckpt, tmp_path / "g.safetensors", half=False)
    own, cross = _cross(dance_dir)
    runs = []
    for path in (ckpt, fp32):
        synth = Synthesizer.from_checkpoint(path)
        examples = load_examples([own / "rgb" / "000002.png"], synth.layers)
        runs.append([f.rgb for f in synth.animate(examples, driving_clip(cross, 4))])
    for a, b in zip(*runs):
        assert np.array_equal(a, b)


def _error(capsys, *args) -> str:
    status = main(["generate", *map(str, args), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert status == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


def test_bad_inputs_give_one_line_errors_and_no_partial_output(trained, tmp_path, capsys):
    ckpt, model, dance_dir = trained
    own, cross = _cross(dance_dir)
    out = tmp_path / "o.mp4"
    base = ["--checkpoint", model, "--driving", cross, "--out", out]
    ex = own / "rgb" / "000001.png"

    with pytest.raises(SystemExit):  # argparse: --examples needs at least one image
        main(["generate", "--checkpoint", str(model), "--driving", str(cross), "--out", str(out), "--examples"])
    assert "expected at least one argument" in capsys.readouterr().err

    bad_clip = tmp_path / "badclip"
    shutil.copytree(own, bad_clip)
    (bad_clip / "rgb" / "000003.png").write_bytes(b"garbage")
    assert "not a readable image" in _error(capsys, *base, "--examples", bad_clip / "rgb" / "000003.png")

    import cv2

    loose = tmp_path / "photo.png"  # a photo outside the clip layout: its semantics are detected (tests/test_real.py)
    cv2.imwrite(str(loose), np.full((64, 48, 3), 128, np.uint8))
    err = _error(capsys, *base, "--examples", loose)
    assert f"no person detected in {loose}" in err or "needs mediapipe" in err

    bad_driving = tmp_path / "baddriving"
    shutil.copytree(cross, bad_driving)
    cv2.imwrite(str(bad_driving / "pose" / "000005.png"), np.zeros((32, 32, 3), np.uint8))
    err = _error(capsys, "--checkpoint", model, "--driving", bad_driving, "--out", out, "--examples", ex)
    assert "pose/000005.png: is 32x32, expected 48x64" in err
    cv2.imwrite(str(bad_driving / "pose" / "000005.png"), np.zeros((64, 48), np.uint8))
    err = _error(capsys, "--checkpoint", model, "--driving", bad_driving, "--out", out, "--examples", ex)
    assert "has 1 channel(s), expected 3" in err

    assert "does not exist" in _error(capsys, "--checkpoint", model, "--driving", cross, "--out",
                                      tmp_path / "missing" / "o.mp4", "--examples", ex)

    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(model.read_bytes()[:1000])
    assert "truncated or not a safetensors" in _error(capsys, "--checkpoint", truncated, "--driving", cross,
                                                      "--out", out, "--examples", ex)
    assert "no such checkpoint" in _error(capsys, "--checkpoint", tmp_path / "none.safetensors", "--driving", cross,
                                          "--out", out, "--examples", ex)
    assert not out.exists() and not out.with_suffix(".json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".o.")], "no temporary file left behind"

    assert main(["generate", *map(str, base), "--examples", str(ex), "--quiet"]) == 0
    before = out.read_bytes()
    assert "already exists" in _error(capsys, *base, "--examples", ex)
    assert out.read_bytes() == before


def test_output_in_a_read_only_folder_is_a_one_line_error(trained, tmp_path, capsys, monkeypatch):
    import fsvid2vid.atomic

    _, model, dance_dir = trained
    own, cross = _cross(dance_dir)
    folder = tmp_path / "read-only"
    folder.mkdir()

    def refuse(*args, **kwargs):  # what the OS answers in a read-only folder (root would be let through a chmod)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fsvid2vid.atomic.tempfile, "mkstemp", refuse)
    err = _error(capsys, "--checkpoint", model, "--driving", cross, "--out", folder / "o.mp4", "--examples",
                 own / "rgb" / "000001.png")
    assert "o.mp4: its folder is not writable" in err
    assert list(folder.iterdir()) == []


def test_other_task_checkpoint_is_refused(trained, street_dir, tmp_path, capsys):
    _, model, dance_dir = trained
    own, _ = _cross(dance_dir)
    street_clip = sorted(p for p in street_dir.iterdir() if p.is_dir())[0]
    err = _error(capsys, "--checkpoint", model, "--driving", street_clip, "--out", tmp_path / "o.mp4", "--examples",
                 own / "rgb" / "000001.png")
    assert "is a street clip" in err and "dance model" in err


def test_memory_stays_flat_over_a_long_stream(trained):
    _, model, dance_dir = trained
    import resource

    own, cross = _cross(dance_dir)
    synth = Synthesizer.from_checkpoint(model)
    examples = load_examples([own / "rgb" / "000002.png"], synth.layers)
    frame = next(iter(driving_clip(cross, 1)))

    def stream(n):
        for _ in range(n):
            yield frame

    rss = []
    for i, _ in enumerate(synth.animate(examples, stream(600))):
        if i in (100, 599):
            rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    assert rss[1] - rss[0] < 20_000, f"peak memory grew by {rss[1] - rss[0]} KiB over 500 frames"


def test_frames_synthesised_ahead_in_threads_are_the_frames_made_one_at_a_time(trained):
    """animate(workers=3) runs E, H and the example warp of several frames at once in threads and W/M in order: the
    same frames, to the bit, as one frame at a time on one torch thread; torch's thread count is restored after a
    full loop and after leaving early; workers < 1 is refused."""
    _, model, dance_dir = trained
    own, cross = _cross(dance_dir)
    synth = Synthesizer.from_checkpoint(model, precision="fp32")
    examples = load_examples([own / "rgb" / "000001.png", own / "rgb" / "000005.png"], synth.layers)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = [(r.rgb, r.output.frame) for r in synth.animate(examples, driving_clip(cross), workers=1)]
        torch.set_num_threads(2)
        ahead = [(r.rgb, r.output.frame) for r in synth.animate(examples, driving_clip(cross), workers=3)]
        assert torch.get_num_threads() == 2
        stream = synth.animate(examples, driving_clip(cross), workers=2)
        next(stream)
        assert torch.get_num_threads() == 1  # one torch thread per frame while frames are made in threads
        other = synth.animate(examples, driving_clip(cross))  # a second stream overlapping the first
        next(other)
        assert synth.default_workers() == 2  # the count outside the streams, not their 1
        stream.close()
        assert torch.get_num_threads() == 1  # the other stream still runs
        other.close()
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert len(one) == len(ahead) > 4
    for (rgb_a, frame_a), (rgb_b, frame_b) in zip(one, ahead):
        assert np.array_equal(rgb_a, rgb_b) and torch.equal(frame_a, frame_b)
    with pytest.raises(UserError, match="workers=0"):
        next(synth.animate(examples, driving_clip(cross), workers=0))


def test_load_generator_reports_its_config(trained):
    _, model, _ = trained
    generator, config, info = load_generator(model)
    assert config.task == "dance" and info["step"] == 1
    assert not generator.training


def test_finetuning_changes_only_e_and_h(trained):
    from fsvid2vid.infer.finetune import FINETUNED_PARTS

    _, model, dance_dir = trained
    own, _ = _cross(dance_dir)
    synth = Synthesizer.from_checkpoint(model)
    examples = load_examples([own / "rgb" / "000002.png", own / "rgb" / "000007.png"], synth.layers)
    before = {k: v.clone() for k, v in synth.generator.state_dict().items()}
    losses = synth.finetune(examples, steps=3)
    assert len(losses) == 3 and all(np.isfinite(losses))
    after = synth.generator.state_dict()
    changed = {k.split(".")[0] for k in before if not np.array_equal(before[k].numpy(), after[k].numpy())}
    assert changed and changed <= set(FINETUNED_PARTS)
    assert "flow_prev" not in changed and "flow_example" not in changed
    assert not synth.generator.training
    assert all(p.requires_grad for p in synth.generator.parameters())


def test_generate_with_finetune_records_it(trained, tmp_path):
    _, model, dance_dir = trained
    own, cross = _cross(dance_dir)
    out = tmp_path / "f.mp4"
    assert main(["generate", "--checkpoint", str(model), "--examples", str(own / "rgb" / "000001.png"),
                 "--driving", str(cross), "--out", str(out), "--finetune", "2", "--max-frames", "3", "--quiet"]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["finetune_steps"] == 2 and meta["frames"] == 3


def test_generate_set_changes_a_generator_setting_and_records_it(trained, tmp_path, capsys):
    _, model, dance_dir = trained
    own, cross = _cross(dance_dir)
    base = ["generate", "--checkpoint", str(model), "--examples", str(own / "rgb" / "000001.png"), "--driving",
            str(cross), "--max-frames", "3", "--quiet"]
    frames = {}
    for name, extra in (("plain", []), ("no-warp", ["--set", "model.generator.warp_example=false"])):
        out = tmp_path / f"{name}.mp4"
        assert main([*base, "--out", str(out), "--frames-dir", str(tmp_path / name), *extra]) == 0
        frames[name] = [np.asarray(Image.open(f)) for f in sorted((tmp_path / name).glob("*.png"))]
        meta = json.loads(out.with_suffix(".json").read_text())
        assert meta["overrides"] == ({} if not extra else {"warp_example": False})
    assert any((a != b).any() for a, b in zip(frames["plain"], frames["no-warp"], strict=True))

    capsys.readouterr()
    for bad, message in (("warp_example=false", "expected model.generator.KEY=VALUE"),
                         ("model.generator.no_such_field=1", "cannot set ['no_such_field']")):
        out = tmp_path / "bad.mp4"
        assert main([*base, "--out", str(out), "--set", bad]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
        assert not out.exists() and not out.with_suffix(".json").exists()


def test_attention_vis_writes_per_frame_maps_whose_shares_sum_to_one(trained, tmp_path):
    import cv2
    import torch

    from fsvid2vid.infer.generate import attention_shares

    _, model, dance_dir = trained
    own, cross = _cross(dance_dir)
    exs = [own / "rgb" / "000001.png", own / "rgb" / "000009.png"]
    assert main(["generate", "--checkpoint", str(model), "--examples", *map(str, exs), "--driving", str(cross),
                 "--out", str(tmp_path / "a.mp4"), "--attention-vis", str(tmp_path / "att"), "--max-frames", "3",
                 "--quiet"]) == 0
    pictures = sorted((tmp_path / "att").glob("*.png"))
    assert len(pictures) == 3
    ranges = json.loads((tmp_path / "a.json").read_text())["attention_share_range"]
    assert len(ranges) == 2 and all(0 <= lo <= hi <= 1 for lo, hi in ranges)
    assert ranges[0][0] + ranges[1][1] == pytest.approx(1, abs=1e-3)  # K = 2: the shares are complementary
    assert cv2.imread(str(pictures[0])).shape == (64, 48 * (1 + 2 * 2), 3)
    synth = Synthesizer.from_checkpoint(model)
    examples = load_examples(exs, synth.layers)
    result = next(iter(synth.animate(examples, driving_clip(cross, 1))))
    shares = attention_shares(result.output.attention_share[0])
    assert result.output.attention is None  # alpha itself only when asked for (animate(attention=True))
    assert shares.shape[-1] == 2
    torch_ones = shares.sum(-1)
    assert float((torch_ones - 1).abs().max()) < 1e-5
    kept = next(iter(synth.animate(examples, driving_clip(cross, 1), attention=True))).output
    torch.testing.assert_close(attention_shares(kept.attention_share[0]), kept.attention[0].sum(dim=(-2, -1)))
    torch.testing.assert_close(kept.attention_share, result.output.attention_share)


def _frames(synth, examples, source):
    return [f.rgb for f in synth.animate(examples, source)]


def test_driving_from_a_folder_of_semantic_maps_equals_the_clip(trained, tmp_path):
    from fsvid2vid.infer.synthesizer import driving_source

    _, model, dance_dir = trained
    own, cross = _cross(dance_dir)
    maps = tmp_path / "maps"
    for layer in ("pose", "parts"):
        shutil.copytree(cross / layer, maps / layer)
    synth = Synthesizer.from_checkpoint(model)
    examples = load_examples([own / "rgb" / "000002.png"], synth.layers)
    from_clip = _frames(synth, examples, driving_clip(cross, 5))
    from_maps = _frames(synth, examples, driving_source(maps, synth.layers, 64, 48, 5))
    assert all(np.array_equal(a, b) for a, b in zip(from_clip, from_maps)) and len(from_maps) == 5
    from fsvid2vid.errors import UserError

    with pytest.raises(UserError, match="draw only the 'pose' layer"):
        list(driving_source(cross / "keypoints.json", synth.layers, 64, 48))
    shutil.rmtree(maps / "parts")
    with pytest.raises(UserError, match="parts: missing"):
        list(driving_source(maps, synth.layers, 64, 48))


def test_face_driven_by_a_sketch_folder_or_a_landmarks_json(face_dir, tmp_path):
    from fsvid2vid.infer.synthesizer import driving_source

    train(tiny_config("face", face_dir, steps=1), tmp_path / "run", progress=False)
    synth = Synthesizer.from_checkpoint(latest_checkpoint(tmp_path / "run"))
    clip = sorted(p for p in face_dir.iterdir() if p.is_dir())[0]
    examples = load_examples([clip / "rgb" / "000000.png"], synth.layers)
    reference = _frames(synth, examples, driving_clip(clip))
    shutil.copytree(clip / "sketch", tmp_path / "sketches")
    from_folder = _frames(synth, examples, driving_source(tmp_path / "sketches", synth.layers, 64, 64))
    assert all(np.array_equal(a, b) for a, b in zip(reference, from_folder)) and len(from_folder) == len(reference)
    drawn = list(driving_source(clip / "landmarks.json", synth.layers, 64, 64))
    stored = [f.semantic for f in driving_clip(clip)]
    assert len(drawn) == len(stored)
    for d, s in zip(drawn, stored):  # the same drawing function on the same landmarks (JSON keeps 3 decimals)
        assert (d.semantic != s).float().mean() < 0.005
    out = tmp_path / "f.mp4"
    assert main(["generate", "--checkpoint", str(latest_checkpoint(tmp_path / "run")), "--examples",
                 str(clip / "rgb" / "000000.png"), "--driving", str(clip / "landmarks.json"), "--out", str(out),
                 "--quiet"]) == 0
    assert json.loads(out.with_suffix(".json").read_text())["frames"] == len(stored)


def test_intermediates_writes_each_networks_contribution_per_frame(trained, tmp_path):
    import cv2

    _, model, dance_dir = trained
    own, cross = _cross(dance_dir)
    assert main(["generate", "--checkpoint", str(model), "--examples", str(own / "rgb" / "000001.png"),
                 "--driving", str(cross), "--out", str(tmp_path / "a.mp4"), "--intermediates", str(tmp_path / "int"),
                 "--frames-dir", str(tmp_path / "frames"), "--max-frames", "2", "--quiet"]) == 0
    pictures = sorted((tmp_path / "int").glob("*.png"))
    assert [p.name for p in pictures] == ["000000.png", "000001.png"]
    frame = cv2.imread(str(tmp_path / "frames" / "000001.png"))
    h, w = frame.shape[:2]
    first, second = (cv2.imread(str(p)) for p in pictures)
    columns = first.shape[1] // w
    assert first.shape == (h, columns * w, 3) and columns == 6 + 3 * 1  # one warped example (K = 1)
    assert (first[:, -3 * w:-w] == 128).all()  # the first frame has no previous frame: grey cells
    assert not (second[:, -3 * w:-2 * w] == 128).all()  # the second has: the warped first frame
    np.testing.assert_allclose(second[:, -w:].astype(float), frame.astype(float), atol=2)  # last cell: x_t itself
