"""Pages of long lists without ``COUNT(*)``: the decision and audit tables grow without
bound, and counting them on every page view would cost more than showing the page."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import QueryDict

PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    rows: list
    number: int
    has_next: bool
    query: str

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def link(self, number: int) -> str:
        params = QueryDict(self.query, mutable=True)
        params["page"] = str(number)
        return "?" + params.urlencode()

    @property
    def next_link(self) -> str:
        return self.link(self.number + 1)

    @property
    def previous_link(self) -> str:
        return self.link(self.number - 1)


def page_of(queryset, params: QueryDict, size: int | None = None) -> Page:
    size = size or PAGE_SIZE
    try:
        number = max(1, min(int(params.get("page", "1")), 10_000))
    except ValueError:
        number = 1
    start = (number - 1) * size
    rows = list(queryset[start : start + size + 1])
    query = params.copy()
    query.pop("page", None)
    return Page(rows[:size], number, len(rows) > size, query.urlencode())
