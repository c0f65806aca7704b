"""COUNTER_SUSHI harvesting: fetch a report, read the COUNTER exceptions one by one, import it.

Every attempt is a `SushiHarvest` row (the log librarians read) and keeps the raw response, so
a report can be re-imported after a fix without asking the vendor again. Exceptions that mean
"later" (queued, busy, rate limited, not ready) set `retry_at`; the daily job retries them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import httpx
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.analytics.choices import HarvestStatus, ImportSource
from lifeline.analytics.counter import shapes
from lifeline.analytics.counter.dates import month_range
from lifeline.analytics.counter.parse import CounterError, parse_json
from lifeline.analytics.importer import store_report
from lifeline.analytics.models import SushiCredential, SushiHarvest
from lifeline.core import outbound

MAX_BODY = 200 * 1024 * 1024
TOTAL_SECONDS = 30 * 60.0  # a whole harvest request, however the vendor paces it
QUEUED_RETRY = dt.timedelta(hours=1)
UNAVAILABLE_RETRY = dt.timedelta(hours=6)
NOT_READY_RETRY = dt.timedelta(days=3)
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Outcome:
    status: str
    retry: dt.timedelta | None
    message: str
    import_data: bool  # whether a report that came with this exception is imported


def classify(code: int) -> Outcome:
    """What one COUNTER exception code (Code of Practice, Appendix D / F) means for the harvest."""
    if code == 1011:
        return Outcome(
            HarvestStatus.QUEUED,
            QUEUED_RETRY,
            _("The vendor queued the report for processing; it will be fetched again later."),
            False,
        )
    if code in (1000, 1010):
        return Outcome(
            HarvestStatus.UNAVAILABLE,
            UNAVAILABLE_RETRY if code == 1000 else QUEUED_RETRY,
            _("The vendor's SUSHI service is not available or busy; it will be tried again later."),
            False,
        )
    if code == 1020:
        return Outcome(
            HarvestStatus.RATE_LIMITED,
            None,
            _("Too many requests: the vendor limits the rate; waiting before the next try."),
            False,
        )
    if code == 1030:
        return Outcome(
            HarvestStatus.INVALID,
            None,
            _(
                "The vendor says the request lacks information (check the customer ID and "
                "requestor ID)."
            ),
            False,
        )
    if code in (2000, 2010, 2011, 2020):
        what = {
            2000: _("the requestor ID is not recognised or not authorised"),
            2010: _("the institution (customer ID) is not authorised"),
            2011: _("global reports are not supported"),
            2020: _("the API key is invalid"),
        }[code]
        return Outcome(
            HarvestStatus.UNAUTHORISED,
            None,
            _("Not authorised: %(what)s. Check the account with the vendor.") % {"what": what},
            False,
        )
    if code == 3030:
        return Outcome(
            HarvestStatus.NO_USAGE, None, _("The vendor has no usage for these months."), False
        )
    if code == 3031:
        return Outcome(
            HarvestStatus.PARTIAL,
            NOT_READY_RETRY,
            _(
                "Usage for some months is not ready yet; what there is was imported and the rest "
                "will be fetched later."
            ),
            True,
        )
    if code == 3032:
        return Outcome(
            HarvestStatus.PARTIAL,
            None,
            _(
                "Usage for some months is no longer available from the vendor; what there is was "
                "imported."
            ),
            True,
        )
    if code == 3040:
        return Outcome(
            HarvestStatus.PARTIAL,
            NOT_READY_RETRY,
            _("The vendor returned partial data; it was imported and will be fetched again later."),
            True,
        )
    if code in (3000, 3010):
        return Outcome(
            HarvestStatus.UNAVAILABLE,
            None,
            _("The vendor does not support this report or release."),
            False,
        )
    if code in (3020, 3070):
        return Outcome(
            HarvestStatus.INVALID,
            None,
            _("The vendor refused the dates, filters or attributes of the request."),
            True,
        )
    if code in (3060, 3061, 3062, 3063):
        # Warnings in the R5.1 COUNTER_SUSHI API: the server ignored the parameter and returned
        # the data without it.
        return Outcome(
            HarvestStatus.SUCCESS,
            None,
            _(
                "The vendor ignored a filter or attribute it does not support and sent the report "
                "without it."
            ),
            True,
        )
    if 1000 <= code < 2000:
        # A service error outside the Code of Practice's list (ProQuest's 1001): try later.
        return Outcome(
            HarvestStatus.UNAVAILABLE,
            UNAVAILABLE_RETRY,
            _("The vendor's SUSHI service reported an error; it will be tried again later."),
            False,
        )
    if 2000 <= code < 3000:
        return Outcome(
            HarvestStatus.UNAUTHORISED,
            None,
            _("Not authorised: %(what)s. Check the account with the vendor.")
            % {"what": _("the vendor refused the credentials")},
            False,
        )
    # 0 (informational), 3050 (parameter not recognised) and unknown warnings: keep the data.
    return Outcome(HarvestStatus.SUCCESS, None, "", True)


# Which outcome wins when several exceptions come together: the one that most needs a person.
SEVERITY: list[str] = [
    HarvestStatus.UNAUTHORISED,
    HarvestStatus.INVALID,
    HarvestStatus.RATE_LIMITED,
    HarvestStatus.QUEUED,
    HarvestStatus.UNAVAILABLE,
    HarvestStatus.NO_USAGE,
    HarvestStatus.PARTIAL,
    HarvestStatus.SUCCESS,
]


def _exceptions(doc: Any) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """(exceptions, report or None) from any shape a SUSHI server answers with: a wrapped
    body, header fields at the top level, one `Exception` object, lower-case keys
    (`counter.shapes`). A header around exceptions only, with no dates and no items, is no
    report."""
    report, exceptions = shapes.normalise(doc)
    if report is not None and exceptions and not report.get("Report_Items"):
        head = report["Report_Header"]
        if not (head.get("Report_ID") and head.get("Release") and head.get("Report_Filters")):
            report = None
    return exceptions, report


def _retry_after(response: httpx.Response | None, attempts: int) -> dt.timedelta:
    header = response.headers.get("Retry-After", "") if response is not None else ""
    if header.strip().isdigit():
        return dt.timedelta(seconds=min(int(header), 86400))
    # Exponential back-off from one minute, capped at a day.
    return dt.timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 86400))


def request_params(credential: SushiCredential, begin: dt.date, end: dt.date) -> dict[str, str]:
    params = {"customer_id": credential.customer_id}
    if credential.requestor_id:
        params["requestor_id"] = credential.requestor_id
    if credential.api_key:
        params["api_key"] = credential.api_key
    if credential.platform:
        params["platform"] = credential.platform
    params["begin_date"] = f"{begin:%Y-%m}"
    params["end_date"] = f"{end:%Y-%m}"
    return params


def start_harvest(
    credential: SushiCredential, report_code: str, begin: dt.date, end: dt.date
) -> SushiHarvest:
    first = begin.replace(day=1)
    last = month_range(first, end)[-1]
    last = last.replace(day=calendar.monthrange(last.year, last.month)[1])
    return SushiHarvest.objects.create(
        credential=credential, report_code=report_code.upper(), begin=first, end=last
    )


def run_harvest(
    harvest: SushiHarvest,
    *,
    now: dt.datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> SushiHarvest:
    """One attempt: fetch, classify, import. Never raises for vendor or network trouble."""
    now = now or timezone.now()
    credential = harvest.credential
    harvest.attempts += 1
    harvest.started_at = now
    harvest.retry_at = None
    url = credential.base_url.rstrip("/") + "/reports/" + harvest.report_code.lower()
    try:
        # Through the one outbound helper (issue 21): a base URL staff typed is refused when it
        # resolves to an internal address (unless an administrator allowed this account), the
        # address is pinned, every redirect hop is checked and the body is capped.
        result = outbound.fetch(
            url,
            params=request_params(credential, harvest.begin, harvest.end),
            headers={"Accept": "application/json", "User-Agent": "Lifeline-SUSHI/1.0"},
            allow_internal=credential.allow_internal,
            max_bytes=MAX_BODY,
            # The account's timeout is for each step (as before); a big report may take longer.
            timeout=TOTAL_SECONDS,
            idle_timeout=float(credential.timeout_seconds),
            transport=transport,
        )
        response = httpx.Response(result.status, headers=result.headers, content=result.content)
        harvest.http_status = response.status_code
        harvest.raw = response.content[:MAX_BODY]
        _handle_body(harvest, response, now)
    except (outbound.OutboundRefused, outbound.OutboundTooLarge) as exc:
        # Not the vendor's passing trouble: a person has to fix the account; no retry.
        _finish(harvest, HarvestStatus.INVALID, str(exc), now)
    except outbound.OutboundFailed as exc:
        if exc.timeout:
            message = _(
                "The vendor's server did not answer within %(s)s seconds; it will be tried again "
                "later."
            ) % {"s": credential.timeout_seconds}
        else:
            message = _(
                "Could not reach the vendor's server (%(error)s); it will be tried again later."
            ) % {"error": exc}
        _finish(
            harvest,
            HarvestStatus.FAILED,
            message,
            now,
            retry=_retry_after(None, harvest.attempts),
        )
    return harvest


def _handle_body(harvest: SushiHarvest, response: httpx.Response, now: dt.datetime) -> None:
    body = response.content
    text = body.decode("utf-8-sig", errors="replace").lstrip()
    if not text.startswith(("{", "[")):
        kind = (
            _("HTML (a login or error page?)")
            if text[:1] == "<"
            else _("something that is not JSON")
        )
        if response.status_code in (429, 500, 502, 503, 504):
            _finish(
                harvest,
                HarvestStatus.UNAVAILABLE,
                _("HTTP %(status)s with %(kind)s; it will be tried again later.")
                % {"status": response.status_code, "kind": kind},
                now,
                retry=_retry_after(response, harvest.attempts),
            )
            return
        _finish(
            harvest,
            HarvestStatus.INVALID,
            _(
                "The server answered HTTP %(status)s with %(kind)s instead of a COUNTER report. "
                "Check the base URL."
            )
            % {"status": response.status_code, "kind": kind},
            now,
        )
        return
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        _finish(
            harvest,
            HarvestStatus.INVALID,
            _("The JSON from the server is malformed or cut short (line %(line)s): %(error)s")
            % {"line": exc.lineno, "error": exc.msg},
            now,
            retry=_retry_after(response, harvest.attempts),
        )
        return
    exceptions, report = _exceptions(doc)
    harvest.exception_codes = [e.get("Code") for e in exceptions]
    harvest.exceptions = exceptions
    outcomes = [
        classify(int(e["Code"])) if str(e.get("Code", "")).isdigit() else classify(-1)
        for e in exceptions
    ]
    if not exceptions and report is None:
        _finish(
            harvest,
            HarvestStatus.INVALID,
            _("The server's answer is neither a report nor a COUNTER exception."),
            now,
        )
        return
    worst = min(outcomes, key=lambda o: SEVERITY.index(o.status)) if outcomes else classify(0)
    if report is None and worst.status == HarvestStatus.SUCCESS:
        # Only warnings or unknown codes, and no report: nothing was imported.
        worst = Outcome(
            HarvestStatus.INVALID,
            None,
            _("The server sent COUNTER exceptions but no report."),
            False,
        )
    details = "; ".join(
        f"{e.get('Code')} {e.get('Message', '')} {e.get('Data', '')}".strip() for e in exceptions
    )
    message = " ".join(p for p in (worst.message, details) if p)
    retry = worst.retry
    if worst.status == HarvestStatus.RATE_LIMITED:
        retry = _retry_after(response, harvest.attempts)
    if (
        report is not None
        and all(o.import_data for o in outcomes)
        and worst.status != HarvestStatus.NO_USAGE
    ):
        try:
            parsed = parse_json(text)
        except CounterError as exc:
            _finish(
                harvest,
                HarvestStatus.INVALID,
                _("The report does not follow the Code of Practice: %(problems)s")
                % {"problems": "; ".join(str(p) for p in exc.problems[:10])},
                now,
            )
            return
        if parsed.report_id != harvest.report_code:
            _finish(
                harvest,
                HarvestStatus.INVALID,
                _("Asked for %(asked)s, the server sent %(sent)s.")
                % {"asked": harvest.report_code, "sent": parsed.report_id},
                now,
            )
            return
        harvest.report = store_report(
            harvest.credential.library,
            parsed,
            source_kind=ImportSource.SUSHI,
            filename=f"SUSHI {harvest.credential.name} {harvest.report_code} "
            f"{harvest.begin:%Y-%m}–{harvest.end:%Y-%m}",
        )
        harvest.warnings = parsed.warnings
        imported = _("%(rows)s counts imported.") % {"rows": harvest.report.row_count}
        _finish(harvest, worst.status, f"{imported} {message}".strip(), now, retry=retry)
        return
    _finish(harvest, worst.status, message, now, retry=retry)


def _finish(
    harvest: SushiHarvest,
    status: str,
    message: str,
    now: dt.datetime,
    retry: dt.timedelta | None = None,
) -> None:
    harvest.status = status
    harvest.message = message
    harvest.finished_at = timezone.now()
    # Give up retrying after MAX_ATTEMPTS: a person has to look at it.
    harvest.retry_at = (
        now + retry if retry is not None and harvest.attempts < MAX_ATTEMPTS else None
    )
    harvest.save()


def reimport(harvest: SushiHarvest) -> SushiHarvest:
    """Import the kept raw response again (after a parser fix or a mapping change)."""
    if not harvest.raw:
        raise CounterError([])
    parsed = parse_json(bytes(harvest.raw).decode("utf-8-sig"))
    harvest.report = store_report(
        harvest.credential.library,
        parsed,
        source_kind=ImportSource.REIMPORT,
        filename=f"SUSHI {harvest.credential.name} {harvest.report_code} (re-import)",
    )
    harvest.warnings = parsed.warnings
    harvest.save(update_fields=["report", "warnings"])
    return harvest


def previous_month(today: dt.date) -> tuple[dt.date, dt.date]:
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


def harvest_due(
    *, now: dt.datetime | None = None, transport: httpx.BaseTransport | None = None
) -> list[SushiHarvest]:
    """The daily job: last month's reports of every active account not yet fetched, and retries."""
    now = now or timezone.now()
    begin, end = previous_month(timezone.localdate(now))
    done: list[SushiHarvest] = []
    for harvest in SushiHarvest.objects.filter(retry_at__lte=now).select_related(
        "credential__library"
    ):
        done.append(run_harvest(harvest, now=now, transport=transport))
    for credential in SushiCredential.objects.filter(is_active=True).select_related("library"):
        for code in credential.report_list:
            if SushiHarvest.objects.filter(
                credential=credential, report_code=code, begin=begin
            ).exists():
                continue
            done.append(
                run_harvest(
                    start_harvest(credential, code, begin, end), now=now, transport=transport
                )
            )
    return done
