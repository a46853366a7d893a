"""pynamodb's connection to DynamoDB, made like our other AWS clients (``chatshop.platform.aws``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.connection import Connection

from chatshop.platform import aws

if TYPE_CHECKING:
    from botocore.session import Session

__all__ = ["OneLoaderConnection"]


class OneLoaderConnection(Connection):
    """pynamodb's connection, its botocore session reading botocore's data through the loader our
    other clients read (``aws.botocore_session``): the endpoints and DynamoDB's model parsed for a
    table's client serve the function's boto3 clients too (~35 ms of CPU of the first of them)."""

    @property
    def session(self) -> Session:
        # pynamodb asks for a session only to make its client (once, while it has credentials).
        return aws.botocore_session()
