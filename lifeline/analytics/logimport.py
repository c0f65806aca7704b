"""Run a `LogImport`: analyse the file (with progress) and store daily use in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.analytics import logs
from lifeline.analytics.choices import LogStatus
from lifeline.analytics.models import DailyUsage, LogImport, LogItemUsage
from lifeline.core import audit
from lifeline.core.choices import AuditAction

PROGRESS_EVERY_BYTES = 16 * 1024 * 1024


def run_log_import(log_import: LogImport, *, chunk_bytes: int = logs.CHUNK_BYTES) -> LogImport:
    log_import.status = LogStatus.RUNNING
    log_import.bytes_done = 0
    log_import.save(update_fields=["status", "bytes_done"])
    last = [0]

    def progress(done: int, total: int) -> None:
        # A separate UPDATE so that the page polling the progress sees it while we work.
        if done - last[0] >= PROGRESS_EVERY_BYTES or done == total:
            last[0] = done
            LogImport.objects.filter(pk=log_import.pk).update(bytes_done=done)

    try:
        with log_import.file.open("rb") as handle:
            stream = logs.open_log_stream(handle, compressed_size=log_import.size)
            result = logs.analyse(
                log_import.library,
                stream,
                total_bytes=log_import.size,
                chunk_bytes=chunk_bytes,
                progress=progress,
            )
    except (OSError, EOFError, ValueError) as exc:
        # A damaged gzip or an unreadable file: say so, store nothing.
        log_import.status = LogStatus.FAILED
        log_import.message = _("The log could not be read: %(error)s") % {"error": exc}
        log_import.finished_at = timezone.now()
        log_import.save()
        return log_import
    store_result(log_import, result)
    return log_import


def store_result(log_import: LogImport, result: logs.LogResult) -> None:
    days = sorted({day for _rid, day, _campus in result.usage})
    with transaction.atomic():
        if days and not log_import.append:
            # Importing the same days again replaces them: no double counting.
            DailyUsage.objects.filter(
                log_import__library=log_import.library, day__gte=days[0], day__lte=days[-1]
            ).exclude(log_import=log_import).delete()
            # Title-level use of a log whose days have all been replaced goes with them.
            LogItemUsage.objects.filter(log_import__library=log_import.library).exclude(
                log_import=log_import
            ).exclude(log_import__days__isnull=False).delete()
        DailyUsage.objects.bulk_create(
            [
                DailyUsage(
                    log_import=log_import,
                    resource_id=rid,
                    day=day,
                    on_campus=on_campus,
                    requests=counts[0],
                    investigations=counts[1],
                    searches=counts[2],
                    users=_users(result, rid, day, on_campus),
                )
                for (rid, day, on_campus), counts in sorted(
                    result.usage.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])
                )
            ],
            batch_size=2000,
        )
        LogItemUsage.objects.bulk_create(_items(log_import, result), batch_size=2000)
        top_hosts = _top(result.unmatched_hosts, 50)
        fields: dict[str, Any] = {
            "status": LogStatus.DONE,
            "bytes_done": log_import.size,
            "lines": result.lines,
            "parsed": result.parsed,
            "unparseable": result.unparseable,
            "bad_line_numbers": result.bad_line_numbers,
            "furniture": result.furniture,
            "unsuccessful": result.unsuccessful,
            "unmatched": result.unmatched,
            "double_clicks": result.double_clicks,
            "unmatched_hosts": top_hosts,
            "searches": result.searches(),
            "unique_requests": result.unique_requests,
            "unique_investigations": result.unique_investigations,
            "rule_hits": result.rule_hits,
            "unclassified": _top(result.unclassified, 100),
            "unruled_hosts": _top(result.unruled_hosts, 50),
            "first_day": days[0] if days else None,
            "last_day": days[-1] if days else None,
            "finished_at": timezone.now(),
        }
        for name, value in fields.items():
            setattr(log_import, name, value)
        log_import.save()
        audit.write(
            AuditAction.IMPORT,
            log_import,
            after={"lines": result.lines, "requests": result.requests()},
            message=f"access log {log_import.filename}",
        )


def _users(result: logs.LogResult, rid: int, day: Any, on_campus: bool) -> int:
    return len(result.users.get((rid, day, on_campus), ()))


def _top(counts: dict[str, int], n: int) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n])


def _items(log_import: LogImport, result: logs.LogResult) -> list[LogItemUsage]:
    rows = []
    for (rid, month, item), (req, inv, ureq, uinv) in sorted(result.items.items()):
        kind, data_type, access, platform, unit = item.split("\t", 4)
        rows.append(
            LogItemUsage(
                log_import=log_import,
                resource_id=rid,
                month=month,
                platform=platform[:40],
                unit_kind=kind,
                unit=unit[:200],
                data_type=data_type,
                access=access,
                requests=req,
                investigations=inv,
                unique_requests=ureq,
                unique_investigations=uinv,
            )
        )
    return rows
