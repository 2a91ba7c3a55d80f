"""Rewrite the shared decision-table checks' asserts so a failing row shows both values."""

import pytest

pytest.register_assert_rewrite("tests.unit.assessments.scoring_table")
