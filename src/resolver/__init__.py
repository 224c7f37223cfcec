"""The ``resolver`` app: a thin Django REST Framework shell over :mod:`mathocr`.

Layers: ``api`` (views, HTTP only) -> ``serializers`` (input parsing and output
shape) -> ``services`` (writes: recognise, store file and row atomically) and
``selectors`` (reads) -> ``recognition`` (the per-process :class:`mathocr.Recognizer`).
"""
