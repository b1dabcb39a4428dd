"""The playground: a page and a local server over the library (``symgraph serve``)."""
