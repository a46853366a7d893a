"""The shop's approved WhatsApp templates by purpose and language (``PUT /shops/{shop_id}/templates``).

Meta delivers only an approved template outside the customer's 24-hour window; the merchant gets
templates approved in WhatsApp Manager and names them here. ``order_update`` (a utility template)
carries an order's changes: its body takes two parameters, the order number and the status word.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

TemplateLanguage = Literal["en", "es", "pt_BR", "hi"]
TemplateName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,512}$")]
_ORDER_UPDATE_DOC = (
    "Template names by language for order updates outside the 24-hour window; body parameters "
    "{{1}} the order number, {{2}} its new status."
)


class ShopTemplates(BaseModel):
    """All of the shop's templates at once: a purpose left out (or empty) has none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    order_update: dict[TemplateLanguage, TemplateName] = Field(
        default_factory=dict, description=_ORDER_UPDATE_DOC
    )

    def by_purpose(self) -> dict[str, dict[str, str]]:
        return {purpose: dict(names) for purpose, names in self.model_dump().items() if names}

    @classmethod
    def of(cls, templates: dict[str, dict[str, str]]) -> ShopTemplates:
        return cls.model_validate({name: templates.get(name, {}) for name in cls.model_fields})
