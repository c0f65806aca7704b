"""Keep SAML messages out of the log.

pysaml2 logs whole messages (at DEBUG, and some at INFO/ERROR: the NameID, "XML parse error:
<…>"), and those carry eppn, names and e-mail addresses. The `saml2` loggers are set to WARNING
in settings, and this filter, on the handlers, cuts any XML out of what remains.
"""

from __future__ import annotations

import logging


class RedactSamlFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("saml2"):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: say so rather than drop the record
            message = str(record.msg)
        if "<" in message or len(message) > 300:
            head = message.split("<", 1)[0].strip()[:200]
            record.msg, record.args = f"{head} [SAML message omitted]", ()
        if record.exc_info:
            exc = record.exc_info[1]
            record.msg = f"{record.msg} ({type(exc).__name__})"
            record.exc_info, record.exc_text = None, None
        return True


_FILTER = RedactSamlFilter()


def install() -> None:
    """Put the filter on pysaml2's own loggers too, so no handler (a test's, a log shipper's)
    sees a SAML message, whatever level someone sets for them."""
    names = [n for n in list(logging.Logger.manager.loggerDict) if n.split(".")[0] == "saml2"]
    for name in ["saml2", *names]:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
