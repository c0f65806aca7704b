"""lifeline load-federation-metadata [FILE] [--federation NAME]
    [--library CODE --create (--idp ENTITY_ID ... | --scope SCOPE ...) [--yes]] [--mdq]

Without FILE the aggregate is fetched from the federation's metadata URL. Either way its
signature is verified with the federation's pinned certificate before anything is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lifeline.accounts.models import Federation, SamlIdentityProvider
from lifeline.accounts.saml import federation as fed
from lifeline.accounts.saml.metadata import MetadataError
from lifeline.core.audit import acting_as
from lifeline.core.models import Library


class Command(BaseCommand):
    help = (
        "Load a federation's signed metadata (verified with its pinned certificate) and, "
        "with --create, make the IdPs named by --idp or --scope a library's own."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, nargs="?", help="A downloaded aggregate.")
        parser.add_argument("--federation", help="Federation name (default: the only one).")
        parser.add_argument("--library", help="The library whose IdPs --create adds.")
        parser.add_argument("--create", action="store_true", help="Add the named IdPs.")
        parser.add_argument(
            "--idp", action="append", default=[], help="An IdP's entity ID (repeatable)."
        )
        parser.add_argument(
            "--scope", action="append", default=[], help="IdPs with this scope (repeatable)."
        )
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument(
            "--mdq", action="store_true", help="Refresh the library's IdPs one by one from MDQ."
        )

    def _federation(self, name: str | None) -> Federation:
        if name:
            found = Federation.objects.filter(name=name).first()
            if found is None:
                raise CommandError(f"No federation named {name!r}.")
            return found
        federations = list(Federation.objects.all()[:2])
        if len(federations) != 1:
            raise CommandError(
                "Name the federation with --federation (register it first in the admin: "
                "name, metadata URL, signing certificate and its SHA-256 fingerprint)."
            )
        return federations[0]

    def handle(self, *args: Any, **options: Any) -> None:
        federation = self._federation(options["federation"])
        library = None
        if options["library"]:
            library = Library.objects.filter(code=options["library"]).first()
            if library is None:
                raise CommandError(f"No library with code {options['library']!r}.")
        if options["create"] and (library is None or not (options["idp"] or options["scope"])):
            raise CommandError(
                "--create needs --library and the library's own IdP(s) by --idp ENTITY_ID or "
                "--scope SCOPE: a library trusts its own university's IdP, not the whole "
                "federation."
            )
        with acting_as(None, "load_federation_metadata"):
            try:
                if options["mdq"]:
                    self._mdq(federation, library)
                    return
                self._load(federation, options["file"])
                if options["create"] and library is not None:
                    self._create(federation, library, options)
            except MetadataError as exc:
                raise CommandError(str(exc)) from exc

    def _load(self, federation: Federation, path: Path | None) -> None:
        if path is not None:
            try:
                xml = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"Cannot read {path}: {exc}") from exc
        else:
            xml = fed.fetch_aggregate(federation)
        result = fed.load_aggregate(federation, xml)
        until = federation.valid_until.isoformat() if federation.valid_until else "?"
        self.stdout.write(
            f"Verified {federation.name} metadata (valid until {until}): {result.known} IdPs "
            f"known, {len(result.updated)} trusted IdPs refreshed, "
            f"{len(result.deactivated)} no longer in the federation."
        )

    def _create(self, federation: Federation, library: Library, options: dict[str, Any]) -> None:
        entities = fed.matching_entities(federation, options["idp"], options["scope"])
        missing = set(options["idp"]) - {e.entity_id for e in entities}
        if missing:
            raise CommandError(f"Not in the federation's metadata: {', '.join(sorted(missing))}")
        if not entities:
            raise CommandError("No IdP of the federation matches.")
        self.stdout.write(f"Library {library.code} would trust these IdPs and no others:")
        for entity in entities:
            scopes = ", ".join(entity.scope_list) or "-"
            self.stdout.write(f"  {entity.entity_id}  {entity.name}  [{scopes}]")
        if not options["yes"]:
            answer = input("Trust them? [y/N] ").strip().lower()
            if answer not in {"y", "yes"}:
                self.stdout.write("Nothing added.")
                return
        created, kept = fed.trust_for_library(library, entities)
        self.stdout.write(f"{len(created)} added, {len(kept)} already the library's.")

    def _mdq(self, federation: Federation, library: Library | None) -> None:
        idps = SamlIdentityProvider.objects.filter(federation=federation, is_active=True)
        if library is not None:
            idps = idps.filter(library=library)
        count = 0
        for idp in idps:
            fed.refresh_idp_by_mdq(idp)
            count += 1
        self.stdout.write(f"{count} IdPs refreshed from MDQ.")
