"""One validation layer for every input file (trial definitions and case files).

Each format is a pydantic model (``extra="forbid"``, strict types) in the module of the app that owns
it; this package holds what they share: the base model and value types (``base``), the error shape
and its translation from pydantic (``errors``), reading a file (``files``), the formats' OpenAPI
schemas (``openapi``), and the two doors, the only parts that import Django: the command side
(``commands``) and the API side (``api``: a case file posted as a body). See docs/input-files.md.
"""
