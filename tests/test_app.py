"""The web app without a browser: the model catalogue, the limits, the job function (results, bad inputs, temporary
files) and the page's error handling. The browser test is tests/test_app_browser.py."""

from __future__ import annotations

import json
import shutil

import av
import cv2
import numpy as np
import pytest

from fsvid2vid.app.benchmark import EXAMPLE_CLIP_FRAMES, render_examples, subjects
from fsvid2vid.app.catalog import BUNDLED_DIR, Catalog, read_entry
from fsvid2vid.app.job import PRECISIONS, JobRequest, Upload, discard, run_job
from fsvid2vid.app.limits import Limits
from fsvid2vid.cli import main
from fsvid2vid.data.layout import read_meta
from fsvid2vid.errors import UserError
from fsvid2vid.eval.pairs import example_paths
from fsvid2vid.media import write_mp4

MODEL = BUNDLED_DIR / "dance-64.safetensors"
DANCERS = subjects("dance")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.find()


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "jobs"
    folder.mkdir()
    return folder


def _frames(path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def _text_as_jpg(folder):
    bad = folder / "holiday.jpg"
    bad.write_text("this is a text file, not a photo\n")
    return Upload(bad, "holiday.jpg")


def test_catalog_reads_the_bundled_models_and_extra_files_by_header(tmp_path, catalog):
    assert {"dance-64", "dance-128", "face-128", "street-128"} <= {e.name for e in catalog.entries}
    assert set(catalog.tasks) >= {"dance", "face", "street"} and catalog.fastest("dance").name == "dance-64"
    entry = catalog.get("dance-64")
    assert (entry.task, entry.height, entry.width, entry.steps, entry.attention) == ("dance", 64, 48, 4000, True)
    assert catalog.get("dance-128").steps == 4400  # the header's step count (one run, resumed once)
    mine = shutil.copy(MODEL, tmp_path / "my-dancer.safetensors")
    assert "my-dancer" in [e.name for e in Catalog.find([mine]).of_task("dance")]
    with pytest.raises(UserError, match="unknown model 'nope'"):
        catalog.get("nope")
    not_model = tmp_path / "notes.safetensors"
    not_model.write_text("hello")
    with pytest.raises(UserError, match="notes.safetensors: truncated or not a safetensors file"):
        read_entry(not_model)
    evaluator = BUNDLED_DIR / "evaluators" / "dance-64.safetensors"
    with pytest.raises(UserError, match="not an exported fsvid2vid generator"):
        read_entry(evaluator)
    clash = tmp_path / "other"
    clash.mkdir()
    with pytest.raises(UserError, match="same name"):
        Catalog.find([mine, shutil.copy(MODEL, clash / "my-dancer.safetensors")])
    with pytest.raises(UserError, match="no model files"):
        Catalog.find(bundled=tmp_path / "none")


def test_example_frames_cover_the_dancers_views_as_in_the_evaluation(tmp_path):
    """The app's benchmark examples are chosen as `evaluate` chooses them: K = 1 the most frontal frame, K = 2 also
    the most-behind one, more K spread over the views (all distinct)."""
    for k in (1, 2, 8):
        paths = render_examples("dance", DANCERS[0], k, 64, tmp_path / f"k{k}")
        meta = read_meta(paths[0].parents[1])
        assert meta.n_frames == EXAMPLE_CLIP_FRAMES and len({p.name for p in paths}) == k
        assert paths == example_paths(paths[0].parents[1], k)  # the evaluation's choice
        turned = np.abs(meta.views)
        assert turned[int(paths[0].stem)] == turned.min()
        if k > 1:
            assert turned[int(paths[1].stem)] == turned.max() > 3 * np.pi / 4


def test_benchmark_job_writes_the_results_and_removes_its_work_files(catalog, root):
    request = JobRequest(catalog.get("dance-64"), subject=DANCERS[0], k=2, motion_subject=DANCERS[1], max_frames=4)
    said = []
    result = run_job(request, root, progress=lambda fraction, text: said.append(text))
    assert said and said[0] == "rendering the benchmark examples"
    assert _frames(result.video) == 4 and _frames(result.side_by_side) == 4
    with av.open(str(result.side_by_side)) as container:
        side = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert side.shape == (64, 48 * 5, 3)  # semantic | 2 examples | generated | ground truth
    attention = cv2.imread(str(result.attention))
    assert attention.shape[1] % (48 * 5) == 0 and attention.shape[0] > 4 * 64  # 4 frames, enlarged
    assert {p.name for p in result.downloads} == {"result.mp4", "result-side-by-side.mp4", "result.json",
                                                  "attention.zip"}
    info = json.loads(result.metadata.read_text())
    assert str(root) not in result.metadata.read_text()  # no server paths in what is downloaded
    assert info["frames"] == 4 and info["K"] == 2 and info["checkpoint"] == "dance-64.safetensors"
    assert info["app"]["subject"] == DANCERS[0] and info["app"]["motion_subject"] == DANCERS[1]
    assert result.summary.startswith("4 frames at")
    assert [p.name for p in result.folder.iterdir()] == ["out"]  # work/ is gone
    discard(result)
    assert list(root.iterdir()) == []


def test_bad_uploads_are_one_line_errors_that_name_the_file_and_leave_nothing(catalog, root, tmp_path):
    model = catalog.get("dance-64")
    cases = [
        (JobRequest(model, examples=[_text_as_jpg(tmp_path)], motion_subject=DANCERS[1]),
         "holiday.jpg: not a readable image"),
        (JobRequest(model, subject=DANCERS[0], video=Upload(tmp_path / "gone.mp4", "gone.mp4")),
         "gone.mp4: the upload is missing"),
    ]
    video = tmp_path / "walk.mp4"
    write_mp4(video, [np.full((64, 64, 3), i * 10, np.uint8) for i in range(20)], 10)
    truncated = tmp_path / "upload-1234" / "walk.mp4"
    truncated.parent.mkdir()
    truncated.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    cases.append((JobRequest(model, subject=DANCERS[0], video=Upload(truncated, "walk.mp4")),
                  "walk.mp4: not a readable video"))
    text_video = tmp_path / "clip.mp4"
    text_video.write_text("not a video")
    cases.append((JobRequest(model, subject=DANCERS[0], video=Upload(text_video, "clip.mp4")),
                  "clip.mp4: not a readable video"))
    empty = tmp_path / "empty.png"
    empty.touch()
    cases.append((JobRequest(model, examples=[Upload(empty, "empty.png")], motion_subject=DANCERS[1]),
                  "empty.png: is empty"))
    for request, message in cases:
        with pytest.raises(UserError) as info:
            run_job(request, root)
        text = str(info.value)
        assert text.startswith(message) and "\n" not in text and str(tmp_path) not in text, text
    assert list(root.iterdir()) == []


def test_limits_and_options_are_enforced_with_clear_messages(catalog, root, tmp_path):
    model = catalog.get("dance-64")
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), np.zeros((20, 30, 3), np.uint8))
    photo = Upload(small, "me.png")
    cases = [
        (Limits(), JobRequest(model, examples=[photo] * 9, motion_subject=DANCERS[1]),
         "give 1 to 8 example images (got 9)"),
        (Limits(), JobRequest(model, subject=DANCERS[0], k=0, motion_subject=DANCERS[1]),
         "give 1 to 8 example images (got 0)"),
        (Limits(), JobRequest(model, subject=DANCERS[0], motion_subject=DANCERS[1], max_frames=301),
         "max frames 301 is out of range: use 1 to 300"),
        (Limits(), JobRequest(model, subject=DANCERS[0], motion_subject=DANCERS[1], finetune=101),
         "finetune steps 101 is out of range: use 0 to 100"),
        (Limits(), JobRequest(model, subject=DANCERS[0], motion_subject=DANCERS[1], precision="fp8"),
         "unknown precision 'fp8'"),
        (Limits(), JobRequest(model, subject=123, motion_subject=DANCERS[1]), "choose a benchmark subject"),
        (Limits(), JobRequest(model, subject=DANCERS[0], motion_subject=None), "choose a benchmark motion"),
        (Limits(max_image_pixels=500), JobRequest(model, examples=[photo], motion_subject=DANCERS[1]),
         "me.png: is 30x20 (0.0 MP); the app takes images up to 0 MP"),
        (Limits(max_upload_mb=0), JobRequest(model, examples=[photo], motion_subject=DANCERS[1]),
         "me.png: is 0.0 MB; the app takes files up to 0 MB"),
    ]
    video = tmp_path / "wide.mp4"
    write_mp4(video, [np.zeros((64, 128, 3), np.uint8)] * 2, 10)
    cases.append((Limits(max_video_pixels=64 * 100), JobRequest(model, subject=DANCERS[0],
                                                                 video=Upload(video, "wide.mp4")),
                  "wide.mp4: frames are 128x64"))
    for limits, request, message in cases:
        with pytest.raises(UserError) as info:
            run_job(request, root, limits)
        assert str(info.value).startswith(message), str(info.value)
    assert list(root.iterdir()) == []
    assert list(PRECISIONS)[0] == "auto"  # the page preselects the per-device default


def test_a_photo_without_a_person_is_a_one_line_error(catalog, root, tmp_path):
    pytest.importorskip("mediapipe", reason="the real extra (mediapipe) is not installed")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((128, 96, 3), 128, np.uint8))
    with pytest.raises(UserError, match="^no person detected in wall.png$"):
        run_job(JobRequest(catalog.get("dance-64"), examples=[Upload(blank, "wall.png")],
                           motion_subject=DANCERS[1], max_frames=2), root)
    assert list(root.iterdir()) == []


def test_the_page_shows_user_errors_as_gradio_errors_and_keeps_working(catalog, root, tmp_path):
    gr = pytest.importorskip("gradio", reason="the ui extra (gradio) is not installed")
    from fsvid2vid.app.page import BENCHMARK, MOTION, UPLOAD, Page

    page = Page(catalog, Limits(), root)
    assert isinstance(page.build(), gr.Blocks)
    form = dict(task="dance", model="dance-64", examples_from=UPLOAD, subject=DANCERS[0], k=2,
                uploads=[str(_text_as_jpg(tmp_path).path)], driving_from=MOTION, motion=DANCERS[1], video=None,
                retarget=True, finetune=0, precision="fp32", max_frames=3)
    with pytest.raises(gr.Error, match="holiday.jpg: not a readable image"):
        page.run(**form, progress=lambda *a, **k: None)
    with pytest.raises(gr.Error, match="upload 1 to 8 example images"):
        page.run(**{**form, "uploads": []}, progress=lambda *a, **k: None)
    with pytest.raises(gr.Error, match="dance-128 is a dance model; choose a face model"):
        page.run(**{**form, "task": "face", "model": "dance-128"}, progress=lambda *a, **k: None)
    video, side, attention, downloads, summary, folder = page.run(**{**form, "examples_from": BENCHMARK},
                                                                  progress=lambda *a, **k: None)
    assert _frames(video) == 3 and summary.startswith("**Job 4:** 3 frames") and len(downloads) == 4
    page.cleanup(folder)
    assert list(root.iterdir()) == []
    model, subject, motion = page.on_task("dance", "dance-128", None, DANCERS[3])
    assert (model["value"], subject["value"], motion["value"]) == ("dance-128", DANCERS[0], DANCERS[3])


def test_app_command_line(capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["app", "--help"])
    assert info.value.code == 0 and "--share" in capsys.readouterr().out
    missing = tmp_path / "missing.safetensors"
    assert main(["app", "--model", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"fsvid2vid: error: {missing}: no such model file"
