"""What each staff role may do, in one table.

Actions are "<app>.<verb>". Every staff role may view its own library's records;
changing them needs the action below. Pages, the admin and the API all ask
`user_can(user, library, action)` or narrow querysets with `.restrict(user, action)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifeline.core.choices import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from lifeline.core.models import Library

VIEW = "view"  # any staff role of the library

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(
        {
            "core.manage",
            "registry.change",
            "health.change",
            "emergency.change",
            "emergency.declare",
            "delivery.change",
            "delivery.peers",
            "analytics.change",
            "services.change",
            "theses.review",
            "theses.manage",
            "research.change",
            "research.review",
            "outreach.change",
            "reports.view",
        }
    ),
    Role.ERESOURCES: frozenset(
        {"registry.change", "health.change", "analytics.change", "emergency.change"}
    ),
    Role.TECH: frozenset({"health.change", "registry.change_routes"}),
    # theses.review (issue 15): reference and subject librarians review deposited theses in June.
    Role.REFERENCE: frozenset(
        {
            "delivery.change",
            "services.change",
            "theses.review",
            "research.change",
            "research.review",
            "outreach.change",
        }
    ),
    Role.SUBJECT: frozenset(
        {
            "services.change",
            "delivery.change",
            "theses.review",
            "research.change",
            "research.review",
            "outreach.change",
        }
    ),
    Role.DELIVERY: frozenset({"delivery.change"}),
    # reports.view (issue 17): the service report goes to the leadership group.
    Role.LEADERSHIP: frozenset({"emergency.declare", "reports.view"}),
    Role.ACQUISITIONS: frozenset({"selection.manage", "selection.deliver"}),
}
# selection (issue 12): acquisitions run campaigns, orders and recommendations; home delivery of
# print books is also the document-delivery desk's work.
ROLE_ACTIONS[Role.ADMIN] |= {"selection.manage", "selection.deliver"}
ROLE_ACTIONS[Role.SUBJECT] |= {"selection.manage"}
ROLE_ACTIONS[Role.DELIVERY] |= {"selection.deliver"}
# push (issue 11): the information-services team publishes announcements (seed 3.1.7).
ROLE_ACTIONS[Role.ADMIN] |= {"push.publish"}
ROLE_ACTIONS[Role.REFERENCE] |= {"push.publish"}
ROLE_ACTIONS[Role.SUBJECT] |= {"push.publish"}
ROLE_ACTIONS[Role.ERESOURCES] |= {"push.publish"}
# Group robots post to outside chat groups with a credential in their address: admins and the
# reference desk (information services) manage them.
ROLE_ACTIONS[Role.ADMIN] |= {"push.robots"}
ROLE_ACTIONS[Role.REFERENCE] |= {"push.robots"}
# reference desk (issue 11): reference and subject librarians answer; admins also set the desk up.
ROLE_ACTIONS[Role.ADMIN] |= {"reference.answer", "reference.manage"}
ROLE_ACTIONS[Role.REFERENCE] |= {"reference.answer"}
ROLE_ACTIONS[Role.SUBJECT] |= {"reference.answer"}
# knowledge (issue 11): the reference desk writes the knowledge base, as do admins and subject
# librarians.
for _writer in (Role.ADMIN, Role.REFERENCE, Role.SUBJECT):
    ROLE_ACTIONS[_writer] |= {"knowledge.change"}
# registry.change implies changing routes too.
for _role, _actions in list(ROLE_ACTIONS.items()):
    if "registry.change" in _actions:
        ROLE_ACTIONS[_role] = _actions | {"registry.change_routes"}


def role_allows(role: str, action: str) -> bool:
    return action == VIEW or action in ROLE_ACTIONS.get(role, frozenset())


def library_ids_for(user: AbstractBaseUser | AnonymousUser, action: str = VIEW) -> set[int]:
    """Ids of the libraries where the user's staff roles allow `action` (cached on the user)."""
    if not user.is_authenticated:
        return set()
    cache: dict[str, set[int]] = user.__dict__.setdefault("_lifeline_libs", {})
    if action not in cache:
        # The roles are read once per user object, whatever the number of actions asked about
        # (a page asking "view" and "<app>.manage" cost two identical queries).
        if "_lifeline_roles" not in user.__dict__:
            user.__dict__["_lifeline_roles"] = _active_roles(user.pk)
        roles = user.__dict__["_lifeline_roles"]
        cache[action] = {lib for lib, role in roles if role_allows(role, action)}
    return cache[action]


def _active_roles(user_id: int) -> list[tuple[int, str]]:
    """(library id, role) of the user's active memberships: as
    `Membership.objects.filter(user_id=…, is_active=True).values_list("library_id", "role")`, in
    hand-written SQL (the ORM spent ~0.4 ms of CPU building it, on every signed-in library page)."""
    from django.db import connections, router

    from lifeline.core.models import Membership

    conn = connections[router.db_for_read(Membership)]
    qn = conn.ops.quote_name
    sql = (
        f"SELECT {qn('library_id')}, {qn('role')} FROM {qn(Membership._meta.db_table)}"  # noqa: S608
        f" WHERE {qn('user_id')} = %s AND {qn('is_active')}"
    )
    with conn.cursor() as cur:
        cur.execute(sql, [user_id])
        return [(int(lib), str(role)) for lib, role in cur.fetchall()]


def user_can(
    user: AbstractBaseUser | AnonymousUser, library: Library | int, action: str = VIEW
) -> bool:
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    library_id = library if isinstance(library, int) else library.pk
    return library_id in library_ids_for(user, action)


def is_staff_anywhere(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(getattr(user, "is_superuser", False)) or bool(library_ids_for(user))
