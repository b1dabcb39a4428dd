"""The base of every error symgraph raises (imports nothing: every module may use it).

>>> import symgraph as sg
>>> try:
...     sg.graph("x +")
... except sg.SymgraphError as e:
...     type(e).__name__
'ParseError'
"""


class SymgraphError(ValueError):
    """Any error of symgraph's own: catch this to catch them all (it is a ``ValueError``)."""
