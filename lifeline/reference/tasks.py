"""Background work of the reference desk."""

from __future__ import annotations

from django.tasks import task

from lifeline.reference.channels import wecom


@task()
def forget_wecom_nonces() -> int:
    return wecom.forget_nonces()
