"""``make test-fast`` leaves out every test that runs a release, marked or not: the
conftest hook reads it from the test's source, its fixtures and the helpers they call."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_tests_that_release_are_slow_without_saying_so():
    listed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-m",
            "not slow and not browser",
            "tests/test_secrecy_audit.py",
            "tests/test_demo.py",
            "tests/test_secrecy_attacks.py",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fast = {line.split("::")[1] for line in listed.splitlines() if "::" in line}
    # Unmarked, they release through ``release(``, ``invoke("demo"…)`` or a helper of their module.
    for name in (
        "test_a_new_year_changes_nothing_of_the_earlier_ones",
        "test_no_hidden_cell_is_alone_in_a_published_sum",
        "test_risk_report_is_published_with_the_year",
        "test_demo_refuses_to_overwrite_a_real_publication",
        "test_6_rerelease_with_one_more_person_of_a_common_profile_tells_nothing",
    ):
        assert name not in fast, name
    # Stage-level and pure tests stay in the fast subset.
    assert {"test_distinct_per_group_is_nunique", "test_attacker_recovers_a_cell_from_its_total"} <= fast
