"""One module per page: its presenter (a function returning exactly the data its template shows) and its routes.

Presenters read only through ``governance`` functions; routes parse the request, call the presenter or the
domain's decision, and render or redirect.
"""
