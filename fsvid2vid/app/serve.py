"""Starting the app's server (``fsvid2vid app``): the model catalogue, a job folder removed at exit, Gradio's own
temporary files inside it, no telemetry, and the page on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import sys
from pathlib import Path

from fsvid2vid.app.catalog import Catalog
from fsvid2vid.app.job import new_root
from fsvid2vid.app.limits import Limits
from fsvid2vid.errors import UserError


def _offline_environment(root: Path) -> None:
    """Before gradio loads: no usage statistics or hub calls (nothing outside this machine is needed), and Gradio's
    uploads and result copies under ``root`` unless GRADIO_TEMP_DIR says otherwise."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GRADIO_TEMP_DIR", str(root / "gradio"))


def serve(host: str = "127.0.0.1", port: int = 7860, share: bool = False, models: list[Path] | None = None,
          limits: Limits | None = None) -> None:
    """Serve the page until interrupted (blocks)."""
    catalog = Catalog.find(models)
    limits = limits or Limits()
    root = new_root()
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    # SIGTERM (kill, timeout, a service manager) exits like Ctrl-C does, so the folder is removed then too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    # Ctrl-C (SIGINT) stops it even where it was started with SIGINT ignored (bash does that to a background job,
    # and Python then installs no KeyboardInterrupt handler): found when the browser test's SIGINT went unheard.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _offline_environment(root)
    try:
        from fsvid2vid.app.page import CSS, Page
    except ImportError as exc:
        raise UserError(f"the web app needs the ui extra ({exc.name} is missing): run `make install`, or "
                        "`pip install -r requirements.lock -r requirements-ui.lock -e '.[ui]'`") from None
    demo = Page(catalog, limits, root).build()
    try:
        demo.launch(server_name=host, server_port=port, share=share, max_file_size=f"{limits.max_upload_mb}mb",
                    ssr_mode=False, show_error=True, footer_links=["api", "gradio"], run_history=False, quiet=True,
                    css=CSS, prevent_thread_lock=True)
    except OSError:
        raise UserError(f"cannot serve on {host}:{port}: the port is in use or not allowed; choose another --port"
                        ) from None
    models_line = ", ".join(f"{e.name} ({e.task})" for e in catalog.entries)
    print(f"fsvid2vid app: models {models_line}; temporary files in {root}")
    if demo.share_url:
        print(f"fsvid2vid app: public link {demo.share_url} (anyone with it can use the app)")
    print(f"fsvid2vid app: open {demo.local_url} in a browser (Ctrl-C stops the server)", flush=True)
    try:
        demo.block_thread()
    finally:
        demo.close()
