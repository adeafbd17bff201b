"""fsvid2vid.openmp: the command line asks OpenMP's threads to spin briefly, then sleep, unless the user chose."""

from __future__ import annotations

import pytest

from fsvid2vid.openmp import SPIN_COUNT, openmp_wait_briefly


@pytest.mark.parametrize(("given", "expected"), [
    ({}, {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": str(SPIN_COUNT)}),
    ({"OMP_WAIT_POLICY": "ACTIVE"}, {"OMP_WAIT_POLICY": "ACTIVE"}),
    ({"OMP_WAIT_POLICY": "PASSIVE"}, {"OMP_WAIT_POLICY": "PASSIVE"}),
    ({"GOMP_SPINCOUNT": "0"}, {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0"}),
])
def test_a_short_spin_unless_the_user_chose_a_policy_or_a_spin_count(given, expected):
    environ = {"PATH": "/bin", **given}
    openmp_wait_briefly(environ)
    assert environ == {"PATH": "/bin", **expected}


def test_the_command_line_sets_them_before_its_work(monkeypatch):
    import os

    import fsvid2vid.cli as cli

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE" and os.environ["GOMP_SPINCOUNT"] == str(SPIN_COUNT)
