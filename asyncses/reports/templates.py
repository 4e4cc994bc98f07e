"""The template report: ListEmailTemplates + GetEmailTemplate per template, then
ListCustomVerificationEmailTemplates + GetCustomVerificationEmailTemplate per template."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from ..engine.errors import OperationError
from ..ses import operations as ops
from .base import Caller, UnitJob
from .records import (
    CUSTOM_VERIFICATION_EMAIL_TEMPLATE,
    EMAIL_TEMPLATE,
    CustomVerificationTemplateAnswer,
    CustomVerificationTemplateRecord,
    EmailTemplateAnswer,
    EmailTemplateRecord,
    answer,
    error_info,
)

__all__ = ["TemplateReport"]

Record = EmailTemplateRecord | CustomVerificationTemplateRecord


class TemplateReport:
    """Every email template and every custom verification email template."""

    record_type = EMAIL_TEMPLATE

    def job(self, unit: Caller) -> UnitJob[Record]:
        """The templates of one account in one region."""
        return _Templates(unit)


class _Templates(UnitJob[Record]):
    record_type = EMAIL_TEMPLATE

    def __init__(self, unit: Caller) -> None:
        self.unit = unit

    async def items(self) -> AsyncIterator[Any]:
        async for item in self.unit.pages(
            ops.LIST_EMAIL_TEMPLATES, "TemplatesMetadata", counted=True
        ):
            yield (EMAIL_TEMPLATE, item)
        async for item in self.unit.pages(
            ops.LIST_CUSTOM_VERIFICATION_EMAIL_TEMPLATES,
            "CustomVerificationEmailTemplates",
            counted=True,
        ):
            yield (CUSTOM_VERIFICATION_EMAIL_TEMPLATE, item)

    def name(self, item: Any) -> str:
        return str(item[1].get("TemplateName"))

    def key_type(self, item: Any) -> str:
        """The record type an item makes (this job lists two kinds)."""
        return str(item[0])

    async def records(self, item: Any) -> Sequence[Record]:
        kind, entry = item
        name = self.name(item)
        if kind == EMAIL_TEMPLATE:
            record: EmailTemplateRecord = {"type": EMAIL_TEMPLATE, "region": self.unit.region}
            if self.unit.account is not None:
                record["account"] = self.unit.account
            record = {**record, **answer(EmailTemplateAnswer, entry)}
            try:
                found = await self.unit.call(
                    ops.GET_EMAIL_TEMPLATE, {"TemplateName": name}, key=name
                )
            except OperationError as exc:
                record["error"] = error_info(exc)
            else:
                record = {**record, **answer(EmailTemplateAnswer, found), "error": None}
            return [record]
        custom: CustomVerificationTemplateRecord = {
            "type": CUSTOM_VERIFICATION_EMAIL_TEMPLATE,
            "region": self.unit.region,
        }
        if self.unit.account is not None:
            custom["account"] = self.unit.account
        custom = {**custom, **answer(CustomVerificationTemplateAnswer, entry)}
        try:
            found = await self.unit.call(
                ops.GET_CUSTOM_VERIFICATION_EMAIL_TEMPLATE, {"TemplateName": name}, key=name
            )
        except OperationError as exc:
            custom["error"] = error_info(exc)
        else:
            custom = {**custom, **answer(CustomVerificationTemplateAnswer, found), "error": None}
        return [custom]
