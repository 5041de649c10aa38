"""The synthetic city: a deterministic, realistic population and economy for a Chinese
district, written as one CSV per catalog dataset plus ``_manifest.json``.

Entry points are ``generate_city`` and ``progress_reporter`` (``city``). The modules, each
vectorised with numpy and Polars: ``people``, ``cohorts`` (milestone birthdays), ``families``,
``life_events``, ``enterprises``, ``labour`` (unemployment insurance), ``ids`` (ID numbers and
USCCs), ``names``, ``places``, ``dates``, ``dirty`` (deliberately invalid rows) and ``writer``.
Validation and import of the files are not here; they are the import service's.
"""

from app.datahub.synth.city import REFERENCE_DATE, generate_city, progress_reporter

__all__ = ["REFERENCE_DATE", "generate_city", "progress_reporter"]
