"""``fsvid2vid bench params``: parameter counts of the presets, per part of the generator (the table of docs/model.md).

Counting needs no timing: the numbers are the same on every machine.
"""

from __future__ import annotations

from typing import Any

from fsvid2vid.models import FewShotGenerator, ImageDiscriminator, TemporalDiscriminator, model_preset

#: Table columns: (title, the parts of FewShotGenerator.parameter_counts() they add up).
COLUMNS = (("G", ("total",)), ("H", ("H main branch", "H modulation (learned)")), ("E_F", ("E_F",)),
           ("E_P", ("E_P",)), ("E_A", ("E_A",)), ("W, M + W_e, M_e", ("W, M", "W_e, M_e")))


def preset_parameters(task: str, size: str) -> dict[str, Any]:
    """Parameters of the generator (in total and per part) and of both discriminators of a preset."""
    cfg = model_preset(task, size)
    parts = FewShotGenerator(cfg.generator).parameter_counts()  # (on the CPU: faster than on the meta device)
    discriminators = (ImageDiscriminator(cfg.discriminator, cfg.generator.semantic_nc),
                      TemporalDiscriminator(cfg.discriminator))
    d_params = sum(p.numel() for d in discriminators for p in d.parameters())
    return {"preset": size, "task": task, "height": cfg.height, "width": cfg.width, "generator": parts,
            "discriminators": d_params}


def params_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Headers and cells: millions of parameters per part."""
    headers = ["preset", "task", "H x W"] + [title for title, _ in COLUMNS] + ["D_I + D_V"]

    def millions(n: int) -> str:
        return f"{n / 1e6:.2f} M"

    cells = [[r["preset"], r["task"], f"{r['height']} x {r['width']}"]
             + [millions(sum(r["generator"].get(p, 0) for p in parts)) for _, parts in COLUMNS]
             + [millions(r["discriminators"])] for r in rows]
    return headers, cells
