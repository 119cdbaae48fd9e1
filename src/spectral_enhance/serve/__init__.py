"""``spectral-enhance serve``: a local web page to enhance files and hear input and output A/B.

Needs the ``[web]`` extra (Starlette and uvicorn). ``engine`` is the one door into the code the
CLI runs, ``analysis`` draws what the page shows, ``jobs`` holds sessions and the work queue,
``app`` the HTTP routes; the page itself is ``static/``.
"""
