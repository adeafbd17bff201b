"""The web app (``fsvid2vid app``, docs/app.md): example photos and a driving video in, a video out, in the browser.

It sits on top of :mod:`fsvid2vid.infer` like the command line does:

* :mod:`.catalog` -- the model files on offer, grouped by task, read from their safetensors headers;
* :mod:`.limits` -- upload, frame and pixel limits and the checks of uploaded files;
* :mod:`.benchmark` -- benchmark subjects rendered on the fly as examples or driving clips;
* :mod:`.job` -- one job: inputs -> ``generate`` -> result files, with its temporary files removed afterwards;
* :mod:`.page` -- the Gradio page;
* :mod:`.serve` -- starting the server (``fsvid2vid app``).

Only :mod:`.page` and :mod:`.serve` import gradio (the ``ui`` extra); the rest is plain Python and tested without it.
"""
