"""The Gradio page: choose a task and a model, give examples and a driving input, press Generate, watch the progress
bar, get the video, the side-by-side video, the attention maps and the downloads. The "Example" buttons fill the
form with benchmark inputs and run it in one click.

Jobs go through Gradio's queue one at a time (a second visitor sees their place in the queue); the small events that
update the form skip the queue so the page stays responsive while a job runs.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import gradio as gr

from fsvid2vid.app import benchmark
from fsvid2vid.app.catalog import Catalog
from fsvid2vid.app.job import PRECISIONS, JobRequest, Upload, discard, run_job
from fsvid2vid.app.limits import Limits
from fsvid2vid.errors import UserError

BENCHMARK, UPLOAD = "a benchmark subject", "my images"
MOTION, VIDEO = "a benchmark motion", "my video"

INTRO = """# fsvid2vid: few-shot video-to-video synthesis
Give 1 to {max_examples} example images of a subject the model never saw and a driving input (a video of someone
moving, or a benchmark motion); the model makes a video of **your subject performing that motion**. The benchmark's
unseen subjects are rendered on the fly, so the **Example** button shows a result without any upload.
"""

LIMITS = """**Limits:** files up to {max_upload_mb} MB; 1 to {max_examples} example images of up to
{image_mp:.0f} MP; driving videos up to 3840x2160; up to {max_frames} frames per job; finetuning up to
{max_finetune} steps. One job runs at a time; others wait in the queue with their place shown. Uploads and results
are deleted from the server after {keep_minutes} minutes at most. Photos and videos need a detectable person (dance)
or face (face); a video drives dance and face models only. See docs/app.md.
"""


#: Small frames (64 to 128 px) are shown enlarged with hard pixel edges rather than blurred.
CSS = """
#result video, #side-by-side video, #attention img { image-rendering: pixelated; }
"""


def _choices(catalog: Catalog, task: str) -> dict[str, Any]:
    models = [(e.label, e.name) for e in catalog.of_task(task)]
    seeds = benchmark.subjects(task)
    return {"models": models, "subjects": [(benchmark.subject_label(task, s), s) for s in seeds], "seeds": seeds}


def _uploads(paths: list[str] | None) -> list[Upload]:
    """Gradio keeps an upload as <cache>/<hash>/<the visitor's file name>."""
    return [Upload(Path(p), Path(p).name) for p in paths or []]


class Page:
    """The page's event handlers, bound to one catalogue, limits and job folder."""

    def __init__(self, catalog: Catalog, limits: Limits, root: Path, keep_minutes: int = 30):
        self.catalog, self.limits, self.root, self.keep_minutes = catalog, limits, root, keep_minutes
        self.jobs = 0  # jobs asked of this server: numbers the results, so a new one is told from the last

    def on_task(self, task: str, model: str | None, subject: int | None, motion: int | None):
        """New model and subject choices; the current ones are kept when they belong to the task."""
        c = _choices(self.catalog, task)
        names = [name for _, name in c["models"]]
        model = model if model in names else self.catalog.fastest(task).name
        subject = subject if subject in c["seeds"] else c["seeds"][0]
        motion = motion if motion in c["seeds"] else c["seeds"][1]
        return (gr.update(choices=c["models"], value=model), gr.update(choices=c["subjects"], value=subject),
                gr.update(choices=c["subjects"], value=motion))

    @staticmethod
    def on_examples_from(choice: str):
        return gr.update(visible=choice == BENCHMARK), gr.update(visible=choice == BENCHMARK), \
            gr.update(visible=choice == UPLOAD)

    @staticmethod
    def on_driving_from(choice: str):
        return gr.update(visible=choice == MOTION), gr.update(visible=choice == VIDEO)

    def preset(self, task: str):
        """The form of the example run of ``task``: its fastest model, two frames of the first unseen subject, the
        motion of the second, few frames."""
        c = _choices(self.catalog, task)
        return (task, gr.update(choices=c["models"], value=self.catalog.fastest(task).name), BENCHMARK,
                gr.update(choices=c["subjects"], value=c["seeds"][0]), 2, MOTION,
                gr.update(choices=c["subjects"], value=c["seeds"][1]), True, 0, next(iter(PRECISIONS)),
                min(24, self.limits.max_frames))

    def run(self, task, model, examples_from, subject, k, uploads, driving_from, motion, video, retarget, finetune,
            precision, max_frames, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 (Gradio's idiom)
        """One job; a :class:`UserError` becomes a gr.Error with its one-line text (the page shows it, the server
        keeps serving)."""
        self.jobs += 1
        try:
            entry = self.catalog.get(model)
            if entry.task != task:
                raise UserError(f"model {model} is a {entry.task} model; choose a {task} model")
            request = JobRequest(
                entry, examples=None if examples_from == BENCHMARK else _uploads(uploads),
                subject=None if subject is None else int(subject), k=int(k),
                video=None if driving_from == MOTION else (Upload(Path(video), Path(video).name) if video else None),
                motion_subject=None if motion is None else int(motion), retarget=bool(retarget),
                finetune=int(finetune), precision=precision, max_frames=int(max_frames))
            if examples_from == UPLOAD and not request.examples:
                raise UserError(f"upload 1 to {self.limits.max_examples} example images, or choose {BENCHMARK!r}")
            if driving_from == VIDEO and request.video is None:
                raise UserError(f"upload a driving video, or choose {MOTION!r}")
            result = run_job(request, self.root, self.limits, lambda f, text: progress(f, desc=text))
        except UserError as exc:
            raise gr.Error(str(exc), duration=None, print_exception=False) from None  # shown until closed
        except Exception as exc:  # a bug: say so in one line, log the traceback, keep serving
            traceback.print_exc()
            first = (str(exc).strip().splitlines() or [""])[0]
            raise gr.Error(f"unexpected error ({type(exc).__name__}: {first}); the server log has the details",
                           duration=None, print_exception=False) from None
        return (result.video, result.side_by_side, result.attention and str(result.attention),
                [str(p) for p in result.downloads], f"**Job {self.jobs}:** {result.summary}", str(result.folder))

    @staticmethod
    def cleanup(folder: str | None) -> None:
        """Remove the job's folder once Gradio has copied its files into its own cache."""
        discard(folder)

    def build(self) -> gr.Blocks:
        lim, catalog = self.limits, self.catalog
        task0 = catalog.tasks[0]
        c = _choices(catalog, task0)
        with gr.Blocks(title="fsvid2vid", analytics_enabled=False, delete_cache=(300, self.keep_minutes * 60)
                       ) as demo:
            gr.Markdown(INTRO.format(max_examples=lim.max_examples))
            with gr.Row():
                presets = {t: gr.Button(f"Example: an {benchmark.subject_label(t, benchmark.subjects(t)[0])} "
                                        f"({catalog.fastest(t).name})", variant="secondary", elem_id=f"example-{t}")
                           for t in catalog.tasks}
            with gr.Row():
                with gr.Column(scale=1):
                    task = gr.Radio(catalog.tasks, value=task0, label="Task", elem_id="task")
                    model = gr.Dropdown(c["models"], value=catalog.fastest(task0).name, label="Model",
                                        elem_id="model")
                    with gr.Group():
                        examples_from = gr.Radio([BENCHMARK, UPLOAD], value=BENCHMARK, label="Examples from",
                                                 elem_id="examples-from")
                        subject = gr.Dropdown(c["subjects"], value=c["seeds"][0], label="Benchmark subject",
                                              elem_id="subject")
                        k = gr.Slider(1, lim.max_examples, value=2, step=1, label="K: example frames of it",
                                      elem_id="k")
                        uploads = gr.File(file_count="multiple", file_types=["image"], type="filepath",
                                          label=f"Example images (1 to {lim.max_examples})", visible=False,
                                          elem_id="uploads")
                    with gr.Group():
                        driving_from = gr.Radio([MOTION, VIDEO], value=MOTION, label="Driving input from",
                                                elem_id="driving-from")
                        motion = gr.Dropdown(c["subjects"], value=c["seeds"][1], label="Benchmark motion of",
                                             elem_id="motion")
                        video = gr.Video(sources=["upload"], format=None, label="Driving video", visible=False,
                                         elem_id="video")
                    with gr.Accordion("Options", open=False):
                        retarget = gr.Checkbox(True, label="Retarget the driving video's pose or face to the "
                                               "examples' proportions and placement", elem_id="retarget")
                        finetune = gr.Slider(0, lim.max_finetune, value=0, step=1, label="Finetune steps on the "
                                             "examples (slower, often closer to the subject)", elem_id="finetune")
                        precision = gr.Radio(list(PRECISIONS), value=next(iter(PRECISIONS)), label="Precision",
                                             interactive=len(PRECISIONS) > 1, elem_id="precision")
                        max_frames = gr.Slider(1, lim.max_frames, value=lim.default_frames, step=1,
                                               label="Max frames", elem_id="max-frames")
                    run = gr.Button("Generate", variant="primary", elem_id="run")
                with gr.Column(scale=1):
                    summary = gr.Markdown("Results appear here.", elem_id="summary")
                    result = gr.Video(label="Generated video", format=None, interactive=False, autoplay=True,
                                      loop=True, height=360, elem_id="result")
                    side = gr.Video(label="Side by side: semantic input | examples | generated | ground truth "
                                    "(benchmark driving only)", format=None, interactive=False, loop=True,
                                    elem_id="side-by-side")
                    attention = gr.Image(label="Attention: frame | per example: example, its share (red: most)",
                                         type="filepath", interactive=False, elem_id="attention")
                    downloads = gr.File(label="Downloads", file_count="multiple", interactive=False,
                                        elem_id="downloads")
            gr.Markdown(LIMITS.format(max_upload_mb=lim.max_upload_mb, max_examples=lim.max_examples,
                                      image_mp=lim.max_image_pixels / 1e6, max_frames=lim.max_frames,
                                      max_finetune=lim.max_finetune, keep_minutes=self.keep_minutes))
            folder = gr.State(None)

            task.change(self.on_task, [task, model, subject, motion], [model, subject, motion], queue=False)
            examples_from.change(self.on_examples_from, examples_from, [subject, k, uploads], queue=False)
            driving_from.change(self.on_driving_from, driving_from, [motion, video], queue=False)
            form = [task, model, examples_from, subject, k, uploads, driving_from, motion, video, retarget, finetune,
                    precision, max_frames]
            outputs = [result, side, attention, downloads, summary, folder]
            job = {"fn": self.run, "inputs": form, "outputs": outputs, "concurrency_limit": 1,
                   "concurrency_id": "job"}
            run.click(**job, api_name="generate").then(self.cleanup, folder, None, queue=False)
            for t, button in presets.items():
                button.click(lambda t=t: self.preset(t), None, [task, model, examples_from, subject, k, driving_from,
                                                                motion, retarget, finetune, precision, max_frames],
                             queue=False).then(**job, api_visibility="private").then(self.cleanup, folder, None,
                                                                                      queue=False)
        demo.queue(max_size=lim.max_queue, default_concurrency_limit=1)
        return demo
