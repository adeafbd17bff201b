"""The shape of the house: imports flow one way, no package file is over 600 lines, one definition of the task list,
and files written before the 2026-12 restructuring still load."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import torch

from fsvid2vid.losses.config import LossConfig
from fsvid2vid.models import FewShotGenerator, model_preset
from fsvid2vid.models.generator_file import load_generator
from tests.conftest import ROOT

PACKAGE = ROOT / "fsvid2vid"

# (the modules under this folder, may not import any of these)
FORBIDDEN = [
    ("data", ("fsvid2vid.models", "fsvid2vid.losses", "fsvid2vid.train", "fsvid2vid.infer", "fsvid2vid.eval",
              "fsvid2vid.cli")),
    ("models", ("fsvid2vid.data.synth", "fsvid2vid.losses", "fsvid2vid.train", "fsvid2vid.infer", "fsvid2vid.eval",
                "fsvid2vid.cli")),
    ("losses", ("fsvid2vid.train", "fsvid2vid.infer", "fsvid2vid.eval", "fsvid2vid.cli")),
    ("train", ("fsvid2vid.infer", "fsvid2vid.eval", "fsvid2vid.cli")),
    ("infer", ("fsvid2vid.train", "fsvid2vid.eval", "fsvid2vid.cli")),
    ("eval", ("fsvid2vid.train", "fsvid2vid.cli")),
    ("bench", ("fsvid2vid.eval", "fsvid2vid.app", "fsvid2vid.cli")),  # on top of models, data, infer and train
]


def imported_modules(path: Path) -> set[str]:
    """Every fsvid2vid module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n.startswith("fsvid2vid")}


@pytest.mark.parametrize(("folder", "forbidden"), FORBIDDEN, ids=[f for f, _ in FORBIDDEN])
def test_imports_flow_one_way(folder, forbidden):
    wrong = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_no_package_file_is_over_600_lines():
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 600}
    assert not long, long


def test_one_definition_of_the_task_list():
    definitions = [str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
                   if re.search(r"^TASKS\s*=", p.read_text(), re.MULTILINE)]
    assert len(definitions) == 1, definitions


def test_loss_weights_are_read_by_term_name():
    """A generator loss term's weight is the LossConfig field of the same name (train_step checks the sum)."""
    from fsvid2vid.losses.objective import weighted_total

    cfg = LossConfig(gan=3.0)
    assert cfg.weight("gan") == 3.0 and cfg.weight("part_mask") == cfg.part_mask
    with pytest.raises(KeyError, match="add a LossConfig field named nope"):
        cfg.weight("nope")
    with pytest.raises(KeyError):
        cfg.weight("flow_method")  # a setting, not a weight
    values = {"gan": torch.tensor(2.0), "l1": torch.tensor(0.5)}
    assert float(weighted_total(values, cfg)) == pytest.approx(3.0 * 2.0 + cfg.l1 * 0.5)


_OLD_NAMES = [(re.compile(r"conditioning\.(example_encoder|weight_predictor|attention|style_encoder)\."), r"\1."),
              (re.compile(r"conditioning\.adain\.(\d+)\.(norm_in|norm_mid)\."), r"synthesis.blocks.\1.\2.adain.")]


def _as_before_restructuring(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Today's state dict under the names generator files had before 2026-12-02."""
    out = {}
    for key, value in state.items():
        for pattern, replacement in _OLD_NAMES:
            if pattern.match(key):
                key = pattern.sub(replacement, key, count=1)
                break
        out[key] = value
    return out


@pytest.mark.parametrize("conditioning", ["ours", "adain", "encoder"])
def test_generator_state_under_the_old_names_loads_into_the_same_weights(conditioning):
    cfg = model_preset("dance", "tiny")
    cfg.generator.conditioning = conditioning
    torch.manual_seed(0)
    source = FewShotGenerator(cfg.generator)
    old = _as_before_restructuring(source.state_dict())
    assert set(old) != set(source.state_dict())  # the names really differ
    torch.manual_seed(1)
    target = FewShotGenerator(cfg.generator)
    target.load_state_dict(old, strict=True)
    for key, value in source.state_dict().items():
        assert torch.equal(value, target.state_dict()[key]), key


@pytest.mark.parametrize("name", ["dance-64", "dance-128"])
def test_bundled_generators_written_before_the_restructuring_load_every_weight(name):
    path = ROOT / "models" / f"{name}.safetensors"
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        keys = set(f.keys())
    generator, config, _ = load_generator(path)  # strict: every file key must land in a parameter or buffer
    assert len(generator.state_dict()) == len(keys)
    assert any(k.startswith("conditioning.example_encoder.") for k in generator.state_dict())
