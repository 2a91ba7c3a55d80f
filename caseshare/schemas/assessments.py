"""Needs assessments: shape only; validation of answers against the form and every decision
are in caseshare.access.assessments (a 422 names `answers.<question_id>`)."""
from __future__ import annotations

from marshmallow import fields, validate

from caseshare.schemas.common import CODE, StrictSchema, UTCDateTime, WithheldSchema

LANGUAGES = ["en", "cy"]


class AssessmentFormSummary(StrictSchema):
    id = fields.String()
    version = fields.Integer()
    languages = fields.List(fields.String())
    title = fields.Dict(keys=fields.String(), values=fields.String(),
                        metadata={"description": "The title in each language."})


class AssessmentFormQuery(StrictSchema):
    lang = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))


class OptionOut(StrictSchema):
    value = fields.String()
    text = fields.String()


class QuestionOut(StrictSchema):
    id = fields.String()
    type = fields.String(metadata={"description": "single_choice, multiple_choice, yes_no, "
                                                  "number, date or short_text."})
    category = fields.String(metadata={"description": "The data category the answer "
                                                      "discloses (it is shared under it)."})
    required = fields.Boolean()
    text = fields.String()
    hint = fields.String(allow_none=True)
    options = fields.List(fields.Nested(OptionOut))


class DomainOut(StrictSchema):
    code = fields.String()
    title = fields.String()


class AssessmentFormOut(StrictSchema):
    id = fields.String()
    version = fields.Integer()
    language = fields.String()
    title = fields.String()
    domains = fields.List(fields.Nested(DomainOut))
    questions = fields.List(fields.Nested(QuestionOut))


class AssessmentCreate(StrictSchema):
    form_id = fields.String(required=True, validate=validate.Length(1, 80))
    form_version = fields.Integer(required=True, strict=True, validate=validate.Range(1))
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    answers = fields.Dict(
        required=True, keys=fields.String(validate=validate.Length(1, 80)), values=fields.Raw(
            allow_none=True), validate=validate.Length(max=200),
        metadata={"description": "question id -> answer: an option value, a list of option "
                                 "values, yes/no, a number, a date YYYY-MM-DD or text."})


class AcceptBody(StrictSchema):
    message = fields.String(validate=validate.Length(1, 4000),
                            metadata={"description": "A referral's message (default: the "
                                                     "proposal's title)."})
    contact_name = fields.String(validate=validate.Length(1, 200),
                                 metadata={"description": "A referral's named contact."})
    appointment_at = UTCDateTime(metadata={"description": "A referral's appointment, in the "
                                                          "future."})
    owner_name = fields.String(validate=validate.Length(1, 200),
                               metadata={"description": "An action's named worker."})


class ProposalOut(StrictSchema):
    id = fields.String()
    kind = fields.String(metadata={"description": "action or referral."})
    service_line = fields.String(metadata={"description": "The LSSF service line."})
    to_org = fields.String(allow_none=True)
    purpose = fields.String(allow_none=True, metadata={"description": "A referral's purpose."})
    category = fields.String(allow_none=True,
                             metadata={"description": "An action's plan category."})
    due_on = fields.Date(allow_none=True)
    service_id = fields.String(allow_none=True, metadata={
        "description": "A referral's directory service: the receiving organisation's service "
                       "for this service line, sent with the referral when accepted."})
    service_name = fields.String(allow_none=True)
    title = fields.String(metadata={"description": "In the assessment's language."})
    allowed = fields.Boolean()
    reasons = fields.List(fields.String(validate=CODE))
    next_step = fields.String(metadata={"description": "What to do, in plain words."})
    accepted = fields.Boolean()


class AssessmentOut(StrictSchema):
    id = fields.UUID()
    subject_id = fields.UUID()
    form_id = fields.String()
    form_version = fields.Integer()
    language = fields.String()
    purpose = fields.String()
    completed_at = UTCDateTime()
    completed_org = fields.String()
    answers = fields.Dict(keys=fields.String(), values=fields.Raw(),
                          metadata={"description": "Only the answers the caller may read."})
    scores = fields.Dict(keys=fields.String(), values=fields.Float())
    explanations = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                               metadata={"description": "domain -> the questions that "
                                                        "produced its score."})
    flags = fields.List(fields.String())
    level = fields.String(allow_none=True)
    review_on = fields.Date(allow_none=True)
    withheld = fields.List(fields.Nested(WithheldSchema))
    proposals = fields.List(fields.Nested(ProposalOut))
    previous_id = fields.UUID(allow_none=True)
    changes = fields.Dict(keys=fields.String(), values=fields.Float(),
                          metadata={"description": "domain -> change in score since the "
                                                   "previous assessment on the same form."})


class AssessmentList(StrictSchema):
    items = fields.List(fields.Nested(AssessmentOut))
    next_cursor = fields.String(allow_none=True)
