"""The project's paginator: the default of every API list (settings `DEFAULT_PAGINATION_CLASS`).

Its own module because DRF reads the default when it defines `GenericAPIView`: a paginator in
`api_base` (which imports the viewsets) would be imported half-way.

Every list has a maximum page (issue 21: `limit=100000` gave 32 MB in 7.7 s, `limit=2**63` a
500). `limit` above the maximum is the maximum; a limit or offset that is not a number is the
default; an absurd offset is an empty page, never an integer overflow in the database.
"""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

BIGINT = 2**63 - 1  # ids and offsets are 64-bit in the database


class Pagination(LimitOffsetPagination):
    # A client may take an A–Z of a few thousand resources in a handful of pages, not one.
    max_limit = 1000

    def get_offset(self, request: Request) -> int:
        return min(super().get_offset(request), BIGINT)
