"""Sign-in: lock-out after failed passwords (django-axes), integration tokens for the staff
API (django-rest-knox) and OpenID Connect through an agency's identity provider
(mozilla-django-oidc). Configuration lives in ``config/settings/base.py``; this app holds the
small pieces the libraries leave to the project (the client address, the answers, the
mapping of a person to an agency and role)."""
