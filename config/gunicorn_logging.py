"""gunicorn's logger with the query strings of its access log masked (config.logmask).

gunicorn --logger-class config.gunicorn_logging.MaskingLogger --access-logfile - …
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from config.logmask import mask_query, mask_url


class MaskingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["r"] = mask_url(atoms.get("r", ""))  # the request line
        atoms["q"] = mask_query(atoms.get("q", ""))  # the query string alone
        atoms["f"] = mask_url(atoms.get("f", ""))  # the Referer: the page before, with its query
        for name in list(atoms):
            if name.startswith("{") and name.endswith("}i"):  # any request header by name
                atoms[name] = mask_url(atoms[name])
        return atoms
