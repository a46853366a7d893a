"""What the inbound worker asks the search side, and what comes back (models, no I/O).

The inbound worker has no models; a question that needs the catalog's search or the shop's FAQ
goes over a queue to the question worker, which has them. Its answer comes back through the
inbound FIFO queue, in the conversation's own message group, so the inbound worker stays the only
writer of the conversation's state and applies the answer in order with the customer's messages.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .units import ANSWER_KIND
from .views import ProductView

AnswerKind = Literal["faq", "advice", "no_fit", "no_match"]
# Enough for "more" to page through; the reply names three.
MAX_RESULTS = 30


class QuestionJob(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    shop_id: str
    phone_number_id: str
    customer: str
    message_id: str
    text: str
    language: str
    # The conversation's last question (``Question.to_dict``) and what it showed, for follow-ups.
    previous: dict[str, Any] | None = None
    shown: tuple[str, ...] = ()
    # A question asked just before this one and not answered yet: this one may refine it.
    previous_text: str | None = None

    @property
    def answer_id(self) -> str:
        return f"answer-{self.message_id}"


class Answer(BaseModel):
    """The question worker's finding; the inbound worker turns it into the reply."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: AnswerKind
    shop_id: str
    phone_number_id: str
    customer: str
    message_id: str
    language: str
    faq_answer: str | None = None
    # Fitting products best first (advice), or the nearest ones when none fits (no_fit).
    products: tuple[ProductView, ...] = Field(default=(), max_length=MAX_RESULTS)
    # For no_fit: per product id, the constraint kinds it breaks (price, stock, color, ...).
    broken: dict[str, tuple[str, ...]] = {}
    # The question as understood, kept for follow-ups ("in blue", "cheaper").
    question: dict[str, Any] | None = None

    @property
    def reply_id(self) -> str:
        return f"answer-{self.message_id}"

    def unit(self) -> dict[str, Any]:
        """The inbound queue's body for this answer."""
        return {"kind": ANSWER_KIND, "answer": self.model_dump(mode="json")}

    @property
    def helped(self) -> bool:
        return self.kind in ("faq", "advice")
