"""Question worker: a customer's question in the chat, answered from the shop's FAQ or catalog.

Jobs come from the inbound worker (SQS, partial batch failures); each answer goes back through the
inbound FIFO queue, deduplicated on the question's message id, so a job delivered again changes
nothing. The models and the indexes load on the first job of a container, not on import.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chatshop.assistant.answering import Answerer
from chatshop.assistant.directory import ShopDirectory
from chatshop.assistant.questions import QuestionJob
from chatshop.assistant.queues import InboundReturn
from chatshop.platform.batch import parse_message, sqs_batch_handler
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger
from chatshop.shops.faq import shop_faq
from chatshop.shops.faq_store import FaqStore

settings = load_settings()
logger = get_logger()


@cache
def answerer() -> Answerer:
    from chatshop.assistant.faq_match import FaqMatcher
    from chatshop.search.embedder import SentenceTransformersEmbedder
    from chatshop.search.service import SearchScope, search_service_for

    embedder = SentenceTransformersEmbedder(settings)
    service = search_service_for(settings, embedder)
    matcher = FaqMatcher(embedder.embed_texts)
    faqs, directory = FaqStore(settings), ShopDirectory(settings)

    def faq_answer(shop_id: str, question: str) -> str | None:
        match = matcher.best(shop_faq(faqs, shop_id, consistent=False), question)
        return match.answer if match is not None else None

    def search(shop_id: str, words: str, limit: int) -> Sequence:
        return service.by_text_scored(words, SearchScope(shop_id=shop_id), limit)

    return Answerer(
        faq_answer=faq_answer,
        products=directory.products,
        search=search,
    )


@cache
def answers() -> InboundReturn:
    return InboundReturn(settings)


def handle_record(record: SQSRecord) -> None:
    job = parse_message(record, QuestionJob)
    answer = answerer().answer(job)
    answers().answer(answer)
    # No customer number and no question text in the log: the message id ties it to the thread.
    logger.info(
        "Question answered",
        extra={
            "shop_id": job.shop_id,
            "reply_to": job.message_id,
            "kind": answer.kind,
            "products": [p.id for p in answer.products[:5]],
        },
    )


handler = sqs_batch_handler(handle_record)
