"""A webhook address is a credential (WeCom/DingTalk/Feishu put the robot's key in it): it is
encrypted where it is stored (the robot, a status subscriber, every outbox row that carries it)
and masked in the audit log; a migration encrypts the ones stored in clear before."""

from __future__ import annotations

from typing import Any

from django.db import connection

from lifeline.core import notify
from lifeline.core.audit import SECRET_CHANGED
from lifeline.core.fields import encrypt_clear_values
from lifeline.core.models import AuditLog, Notification
from lifeline.health.models import Subscription
from lifeline.push.models import Robot

KEY = "693a91f6-7f1c-4d2b-9c1e-5be1c0ffee42"
HOOK = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}"


def raw(model: Any, pk: int) -> str:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT url FROM {table} WHERE id = %s", [pk])  # noqa: S608 - test
        return str(cursor.fetchone()[0])


def test_robot_subscriber_and_outbox_rows_hold_no_key_in_clear(library_a: Any) -> None:
    robot = Robot.objects.create(library=library_a, name="读者服务群", url=HOOK)
    sub = Subscription.objects.create(library=library_a, name="值班群", url=HOOK)
    note = notify.notify_webhook(library_a, HOOK, title="闭馆通知", text="图书馆今日闭馆")
    for model, pk in [(Robot, robot.pk), (Subscription, sub.pk), (Notification, note.pk)]:
        assert KEY not in raw(model, pk), model
        assert model.objects.get(pk=pk).url == HOOK  # the code still sees the address


def test_audit_log_masks_the_address(library_a: Any) -> None:
    robot = Robot.objects.create(library=library_a, name="读者服务群", url=HOOK)
    robot.url = HOOK.replace(KEY, "0" * len(KEY))
    robot.save()
    rows = list(
        AuditLog.objects.filter(model="push.Robot", object_pk=str(robot.pk))
        .order_by("pk")
        .values_list("before", "after")
    )
    assert len(rows) == 2
    assert all(KEY not in str(r) and "0" * len(KEY) not in str(r) for r in rows)
    assert rows[-1][1]["url"] == SECRET_CHANGED  # the change is recorded, not the value


def test_the_migration_step_encrypts_clear_values_once(library_a: Any) -> None:
    robot = Robot.objects.create(library=library_a, name="读者服务群", url=HOOK)
    with connection.cursor() as cursor:  # as a row written before the field was encrypted
        cursor.execute(
            f"UPDATE {Robot._meta.db_table} SET url = %s WHERE id = %s",  # noqa: S608
            [HOOK, robot.pk],
        )
    assert encrypt_clear_values(Robot, "url", "default") == 1
    assert KEY not in raw(Robot, robot.pk)
    assert Robot.objects.get(pk=robot.pk).url == HOOK
    assert encrypt_clear_values(Robot, "url", "default") == 0  # a second run changes nothing
