"""Title-level use from a log: totals per item and COUNTER's unique item counts.

COUNTER R5 (section 7.3): without a session id a session is one user in one clock hour; an
item requested (or investigated) several times in one session counts once in
Unique_Item_Requests (Unique_Item_Investigations). A full-text request is an investigation too
(Total_Item_Investigations includes Total_Item_Requests). Sessions are kept open until the log
has moved two hours on, so a session cut by a chunk boundary counts once; a log out of order by
more than an hour could count a session twice (access logs are written in time order).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from lifeline.analytics.logrules.engine import CLASS_CODE
from lifeline.analytics.logrules.rules import INVESTIGATION, REQUEST

if TYPE_CHECKING:
    from lifeline.analytics.logs import LogResult

COMPACT_ROWS = 1_000_000
PENDING_SCHEMA = {
    "uid": pl.String,
    "item": pl.String,
    "hour": pl.Int64,
    "rid": pl.Int64,
    "month": pl.Date,
    "req": pl.Boolean,
}


class SessionCounter:
    def __init__(self) -> None:
        self.pending = pl.DataFrame(schema=PENDING_SCHEMA)
        self.totals: list[pl.DataFrame] = []
        self.uniques: list[pl.DataFrame] = []
        self.max_hour: int | None = None

    def add(self, counted: pl.DataFrame, uids: pl.DataFrame, items: pl.DataFrame) -> None:
        """`counted`: the chunk's counted lines (uid_code, item_code, t, rid, day, cls)."""
        req = pl.col("cls") == CLASS_CODE[REQUEST]
        use = counted.filter(
            pl.col("cls").is_in([CLASS_CODE[REQUEST], CLASS_CODE[INVESTIGATION]])
        ).select(
            "uid_code",
            "item_code",
            "rid",
            (pl.col("t") // 3600).alias("hour"),
            pl.col("day").dt.truncate("1mo").alias("month"),
            req.alias("req"),
        )
        if not use.height:
            return
        self.totals.append(
            use.group_by("rid", "month", "item_code")
            .agg(pl.col("req").sum().alias("requests"), pl.len().alias("investigations"))
            .join(items, on="item_code", how="left")
            .select("rid", "month", "item", "requests", "investigations")
        )
        sessions = use.group_by("uid_code", "hour", "item_code").agg(
            pl.col("req").any(), pl.col("rid").first(), pl.col("month").first()
        )
        top = sessions["hour"].max()
        if isinstance(top, int):
            self.max_hour = top if self.max_hour is None else max(self.max_hour, top)
        assert self.max_hour is not None
        threshold = self.max_hour - 1
        # Sessions carried from earlier chunks meet this chunk's in small integers: a carried
        # user or item that this chunk does not know cannot meet anything here.
        carried = self.pending.join(uids, on="uid", how="left").join(items, on="item", how="left")
        known = pl.col("uid_code").is_not_null() & pl.col("item_code").is_not_null()
        apart = carried.filter(~known).select(*PENDING_SCHEMA)
        merged = (
            pl.concat(
                [
                    sessions,
                    carried.filter(known).select(
                        "uid_code", "hour", "item_code", "req", "rid", "month"
                    ),
                ],
                how="vertical_relaxed",
            )
            .group_by("uid_code", "hour", "item_code")
            .agg(pl.col("req").any(), pl.col("rid").first(), pl.col("month").first())
        )
        still_open = pl.col("hour") >= threshold
        self._close(
            merged.filter(~still_open)
            .group_by("rid", "month", "item_code")
            .agg(
                pl.col("req").sum().alias("unique_requests"),
                pl.len().alias("unique_investigations"),
            )
            .join(items, on="item_code", how="left")
            .select("rid", "month", "item", "unique_requests", "unique_investigations")
        )
        self._close(self._unique(apart.filter(~still_open)))
        self.pending = pl.concat(
            [
                merged.filter(still_open)
                .join(uids, on="uid_code", how="left")
                .join(items, on="item_code", how="left")
                .select(*PENDING_SCHEMA),
                apart.filter(still_open),
            ],
            how="vertical_relaxed",
        )
        if sum(f.height for f in self.totals) > COMPACT_ROWS:
            self.totals = [self._sum(self.totals)]

    @staticmethod
    def _unique(done: pl.DataFrame) -> pl.DataFrame:
        return done.group_by("rid", "month", "item").agg(
            pl.col("req").sum().alias("unique_requests"),
            pl.len().alias("unique_investigations"),
        )

    def _close(self, done: pl.DataFrame) -> None:
        """`done`: unique counts of closed sessions per (rid, month, item)."""
        if done.height:
            self.uniques.append(done)
            if sum(f.height for f in self.uniques) > COMPACT_ROWS:
                self.uniques = [
                    pl.concat(self.uniques)
                    .group_by("rid", "month", "item")
                    .agg(pl.col("unique_requests").sum(), pl.col("unique_investigations").sum())
                ]

    @staticmethod
    def _sum(frames: list[pl.DataFrame]) -> pl.DataFrame:
        return (
            pl.concat(frames)
            .group_by("rid", "month", "item")
            .agg(pl.col("requests").sum(), pl.col("investigations").sum())
        )

    def finish(self, result: LogResult) -> None:
        self._close(self._unique(self.pending))
        self.pending = pl.DataFrame(schema=PENDING_SCHEMA)
        if not self.totals:
            return
        totals = self._sum(self.totals)
        uniques = (
            pl.concat(self.uniques)
            .group_by("rid", "month", "item")
            .agg(pl.col("unique_requests").sum(), pl.col("unique_investigations").sum())
        )
        both = totals.join(uniques, on=["rid", "month", "item"], how="left").fill_null(0)
        result.unique_requests += int(both["unique_requests"].sum())
        result.unique_investigations += int(both["unique_investigations"].sum())
        # Only what names a unit is title-level use; URL-only "items" served the unique counts.
        named = both.filter(~pl.col("item").str.starts_with("\t"))
        for rid, month, item, req, inv, ureq, uinv in named.iter_rows():
            slot = result.items.setdefault((rid, month, item), [0, 0, 0, 0])
            slot[0] += req
            slot[1] += inv
            slot[2] += ureq
            slot[3] += uinv
        self.totals, self.uniques = [], []
