"""The bearer APIs under ``/api/`` (the resource server).

- ``clients``: the management API's views (``/api/v1/oauth-clients``), HTTP glue only.
- ``validation``: its JSON input, on the API's own terms, then the domain's rules.
- ``representation``: its answers (camelCase, as ``openapi.json`` describes them).
- ``jsonpatch`` (RFC 6902) and ``query`` (the filter language, page cursors): pure
  parsers with their own unit tests, importing nothing of the project.
- ``errors``: ``ApiError`` and the answer it becomes; ``users``: ``/api/v1/users/me``.
"""
