"""``shenjing playground``: train a small network in the browser and watch it learn.

The page (static files in ``static/``) talks to a Starlette server (:mod:`.app`, the
``web`` extra) over a WebSocket; the server trains with shenjing's own ``fit``, one
:class:`~.session.Session` per connected page. Everything but :mod:`.app` needs NumPy
only, so the data, the training settings and the snippet's helpers import without the
web extra.
"""
