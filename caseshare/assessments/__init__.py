"""Needs assessments and triage: forms as data (`assessment_forms/`), pure scoring, and the
sealed record of a completed assessment."""
